"""Image benchmark: shopkeeper's product-photo network on Fashion-MNIST, beside baselines.

Fashion-MNIST (Debian package ``dataset-fashion-mnist``, or the folder named by
``SHOPKEEPER_FASHION_MNIST``): 60,000 training and 10,000 test photos of ten
kinds of clothing, 28x28 grayscale. Every model trains on the same first
55,000 training photos; the last 5,000 fit shopkeeper's temperature (its
calibration) and nothing else; every figure is on the 10,000 test photos. One
run, one process, every library held to ``--threads`` threads (PyTorch,
OpenMP, BLAS, scikit-learn's ``n_jobs``, faiss):

- **shopkeeper**: ``train_classifier`` with the ``images`` job's default
  settings (two convolution blocks with batch norm, AdamW with a one-cycle
  schedule, shifts and mirroring);
- **logistic regression** and **random forest** (scikit-learn) on the 784 raw
  pixels: what a plain baseline reaches;
- **LeNet-style CNN** (PyTorch): conv-pool-conv-pool and three dense layers,
  Adam at 1e-3, no batch norm, no augmentation, the textbook way.

Training time is wall time of the fit (the data already in memory);
throughput is test photos per second in batches of 1,024 (sklearn: one call),
the median of three passes. Visual similarity: each test photo's 10 nearest
test photos by cosine of an embedding (shopkeeper's and LeNet's penultimate
layers, the raw pixels), precision@10 = the share of the same class. The
approximate index (faiss HNSW) is checked against exact search: recall@10 of
the exact neighbours, and its time (build + search) against exact search's, on
the 10,000 test photos and on all 70,000.

    python bench/images_bench.py [--threads 2] [--quick]

Writes ``bench/results/images.md`` and ``images.json`` (``--quick``: a small
smoke run, printed only).
"""

from __future__ import annotations

import os

# Two threads for every pool, set before numpy, torch or faiss load; --threads changes
# them at run time (threadpoolctl, torch.set_num_threads, faiss) for every library alike.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import argparse
import importlib.metadata
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from shopkeeper.images import ImageClassifier

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_ACCURACY = 0.91
TARGET_TRAIN_S = 600.0
TARGET_THROUGHPUT = 1000.0
VALIDATION = 5000
K = 10


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _busy_seconds() -> float:
    """CPU seconds every process of the machine has used since boot (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _median_rate(n: int, fn: Callable[[], object], repeats: int = 3) -> float:
    """Items per second of ``fn`` over ``n`` items: the median of ``repeats`` timed calls."""
    fn()  # warm-up: first-call allocations and lazy initialisation
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def _precision_at_k(index: np.ndarray, labels: np.ndarray) -> float:
    return float((labels[index] == labels[:, None]).mean())


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
    hits = [len(set(a) & set(e)) for a, e in zip(approx, exact, strict=True)]
    return float(np.sum(hits) / exact.size)


# --------------------------------------------------------------------------- the models


def bench_shopkeeper(
    data: dict[str, np.ndarray], threads: int, epochs: int | None, log: Callable[[str], None]
) -> tuple[dict[str, Any], ImageClassifier]:
    from shopkeeper.images import (
        FASHION_CLASSES,
        ImageSettings,
        expected_calibration_error,
        softmax,
        train_classifier,
    )

    defaults = ImageSettings(threads=threads)
    spec = defaults.network()
    if epochs is not None:
        spec = type(spec)(**{**asdict(spec), "epochs": epochs})
    log(f"shopkeeper: training {spec}")

    def progress(share: float, message: str) -> None:
        log(f"  shopkeeper {message}")

    clf = train_classifier(data["x"], data["y"], FASHION_CLASSES, spec, progress=progress)
    val_logits, _ = clf.forward(data["xv"])
    clf.calibrate(val_logits, data["yv"])
    logits, _ = clf.forward(data["xt"])
    predicted = logits.argmax(axis=1)
    proba = softmax(logits, clf.temperature)
    rate = _median_rate(len(data["xt"]), lambda: clf.forward(data["xt"]))
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (data["yt"], predicted), 1)
    return (
        {
            "model": "shopkeeper CNN",
            "settings": asdict(spec),
            "parameters": int(sum(w.size for k, w in clf.weights.items() if "running" not in k)),
            "accuracy": float((predicted == data["yt"]).mean()),
            "train_s": clf.train_seconds,
            "images_per_s": rate,
            "temperature": clf.temperature,
            "ece_raw": expected_calibration_error(softmax(logits), data["yt"]),
            "ece": expected_calibration_error(proba, data["yt"]),
            "per_class_recall": (np.diag(confusion) / confusion.sum(axis=1)).tolist(),
            "confusion": confusion.tolist(),
        },
        clf,
    )


def bench_sklearn(
    data: dict[str, np.ndarray], threads: int, quick: bool, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = data["x"].reshape(len(data["x"]), -1)
    xt = data["xt"].reshape(len(data["xt"]), -1)
    models: list[tuple[str, Any]] = [
        ("logistic regression (pixels)", LogisticRegression(max_iter=50 if quick else 300)),
        (
            "random forest (pixels, 100 trees)",
            RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=0),
        ),
    ]
    out = []
    for name, model in models:
        log(f"{name}: training")
        with threadpool_limits(threads):
            t = time.perf_counter()
            model.fit(x, data["y"])
            seconds = time.perf_counter() - t
            accuracy = float((model.predict(xt) == data["yt"]).mean())
            rate = _median_rate(len(xt), lambda m=model: m.predict(xt))
        out.append({"model": name, "accuracy": accuracy, "train_s": seconds, "images_per_s": rate})
    return out


def bench_lenet(
    data: dict[str, np.ndarray], threads: int, epochs: int, log: Callable[[str], None]
) -> tuple[dict[str, Any], np.ndarray]:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    body = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
    )
    head = nn.Linear(84, 10)
    net = nn.Sequential(body, head)
    # The textbook normalisation: pixels in [0, 1] mapped to [-1, 1].
    x = (torch.from_numpy(data["x"]) - 0.5) / 0.5
    y = torch.from_numpy(data["y"].astype(np.int64))
    xt = (torch.from_numpy(data["xt"]) - 0.5) / 0.5
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    log(f"LeNet: training {epochs} epochs")
    t = time.perf_counter()
    net.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), 64):
            idx = order[start : start + 64]
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        log(f"  LeNet epoch {epoch + 1}/{epochs}")
    seconds = time.perf_counter() - t
    net.eval()

    def infer() -> tuple[np.ndarray, np.ndarray]:
        logits, emb = [], []
        with torch.inference_mode():
            for start in range(0, len(xt), 1024):
                e = body(xt[start : start + 1024])
                emb.append(e.numpy())
                logits.append(head(e).numpy())
        return np.concatenate(logits), np.concatenate(emb)

    logits, emb = infer()
    rate = _median_rate(len(xt), infer)
    return (
        {
            "model": "LeNet-style CNN (Adam, no batch norm)",
            "epochs": epochs,
            "accuracy": float((logits.argmax(axis=1) == data["yt"]).mean()),
            "train_s": seconds,
            "images_per_s": rate,
        },
        emb,
    )


# --------------------------------------------------------------------------- similarity


def bench_similarity(
    embeddings: dict[str, np.ndarray],
    labels: np.ndarray,
    all_shopkeeper: np.ndarray | None,
    all_labels: np.ndarray | None,
    threads: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    from shopkeeper.images import approximate_neighbours, exact_neighbours, normalise

    out: dict[str, Any] = {"precision": {}, "approximate": []}
    for name, emb in embeddings.items():
        unit = normalise(emb)
        t = time.perf_counter()
        found = exact_neighbours(unit, K)
        out["precision"][name] = {
            "precision_at_10": _precision_at_k(found.index, labels),
            "exact_s": time.perf_counter() - t,
            "dimensions": int(unit.shape[1]),
        }
        log(f"similarity {name}: precision@10 {out['precision'][name]['precision_at_10']:.4f}")

    sets = [("test photos", embeddings["shopkeeper CNN"], labels)]
    if all_shopkeeper is not None and all_labels is not None:
        sets.append(("all photos", all_shopkeeper, all_labels))
    for name, emb, truth in sets:
        unit = normalise(emb)
        t = time.perf_counter()
        exact = exact_neighbours(unit, K)
        exact_s = time.perf_counter() - t
        t = time.perf_counter()
        approx = approximate_neighbours(unit, K, threads=threads)
        approx_s = time.perf_counter() - t
        row = {
            "set": name,
            "n": len(unit),
            "exact_s": exact_s,
            "approximate_s": approx_s,
            "speed_ratio": exact_s / approx_s,
            "recall_at_10": _recall(approx.index, exact.index),
            "precision_exact": _precision_at_k(exact.index, truth),
            "precision_approximate": _precision_at_k(approx.index, truth),
        }
        log(f"approximate on {name}: {row}")
        out["approximate"].append(row)
    return out


# --------------------------------------------------------------------------- report


def render(res: dict[str, Any], meta: dict[str, Any]) -> str:
    sk = res["shopkeeper"]
    models = [sk, *res["sklearn"], res["lenet"]]
    met = {
        "accuracy": sk["accuracy"] >= TARGET_ACCURACY,
        "train": sk["train_s"] < TARGET_TRAIN_S,
        "throughput": sk["images_per_s"] >= TARGET_THROUGHPUT,
    }
    lines = [
        "# Image benchmark" + (" (quick smoke run: not the figures)" if meta["quick"] else ""),
        "",
        f"Run {meta['date']} on {meta['cpu']} ({meta['machine']}, {meta['cores']} cores; "
        f"{meta['threads']} threads used), Python {meta['python']}, torch {meta['torch']}, "
        f"scikit-learn {meta['sklearn']}, faiss-cpu {meta['faiss']}. Written by "
        f"`{meta['command']}` in one run ({meta['total_s']:.0f} s). Other processes used "
        f"{meta['other_cpu_s']:.0f} CPU seconds during the run, "
        f"{meta['other_cpu_share']:.1%} of the machine"
        + (
            ": timings are from a busy machine and read slower than they are."
            if meta["other_cpu_share"] > 0.05
            else "."
        ),
        "",
        f"Fashion-MNIST: every model trains on the first {meta['train']:,} training photos; "
        f"the last {meta['validation']:,} only fit shopkeeper's temperature; all figures are on "
        f"the {meta['test']:,} test photos. Threads: every library held to {meta['threads']}.",
        "",
        "## Categorisation",
        "",
        "| model | test accuracy | training (s) | inference (photos/s) | training time vs "
        "shopkeeper | throughput vs shopkeeper |",
        "|---|---|---|---|---|---|",
    ]
    for m in models:
        lines.append(
            f"| {m['model']} | {m['accuracy']:.4f} | {m['train_s']:.1f} | "
            f"{m['images_per_s']:,.0f} | {m['train_s'] / sk['train_s']:.2f}× | "
            f"{m['images_per_s'] / sk['images_per_s']:.2f}× |"
        )
    s = sk["settings"]
    lines += [
        "",
        f"shopkeeper's network: {s['width']} and {2 * s['width']} channels, an embedding of "
        f"{s['embedding']}, {sk['parameters']:,} parameters; {s['epochs']} epochs of batches "
        f"of {s['batch_size']}, peak learning rate {s['learning_rate']}. LeNet-style: "
        f"{res['lenet']['epochs']} epochs of batches of 64.",
        "",
        "Targets: test accuracy at least 91%: "
        f"**{'met' if met['accuracy'] else 'not met'}** ({sk['accuracy']:.2%}); training under "
        f"10 minutes on {meta['threads']} cores: **{'met' if met['train'] else 'not met'}** "
        f"({sk['train_s']:.0f} s); at least 1,000 photos a second at inference: "
        f"**{'met' if met['throughput'] else 'not met'}** ({sk['images_per_s']:,.0f}).",
        "",
        f"Calibration on the test photos: expected calibration error {sk['ece_raw']:.4f} "
        f"before and {sk['ece']:.4f} after the temperature ({sk['temperature']:.3f}, fitted on "
        "the validation photos).",
        "",
        "Recall per class (shopkeeper): "
        + ", ".join(
            f"{c} {r:.3f}" for c, r in zip(meta["classes"], sk["per_class_recall"], strict=True)
        )
        + ".",
        "",
        "## Visual similarity",
        "",
        "Each test photo's 10 nearest other test photos by cosine (exact search); precision@10 "
        "is the share of them in the photo's own class.",
        "",
        "| embedding | dimensions | precision@10 |",
        "|---|---|---|",
    ]
    for name, p in res["similarity"]["precision"].items():
        lines.append(f"| {name} | {p['dimensions']} | {p['precision_at_10']:.4f} |")
    lines += [
        "",
        "Approximate search (faiss HNSW, M=32, efConstruction=100, efSearch=128) against "
        "exact search (blocked matrix products), shopkeeper's embeddings, every photo's 10 "
        "nearest others:",
        "",
        "| photos | exact (s) | HNSW build + search (s) | exact time / HNSW time | "
        "recall@10 | precision@10 exact | precision@10 HNSW |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in res["similarity"]["approximate"]:
        lines.append(
            f"| {a['set']} ({a['n']:,}) | {a['exact_s']:.2f} | {a['approximate_s']:.2f} | "
            f"{a['speed_ratio']:.2f}× | {a['recall_at_10']:.4f} | {a['precision_exact']:.4f} | "
            f"{a['precision_approximate']:.4f} |"
        )
    lines += ["", *res.get("sentences", [])]
    return "\n".join(lines)


def sentences(res: dict[str, Any]) -> list[str]:
    """Plain statements read off the figures (written by the script, so they stay true)."""
    sk, lenet = res["shopkeeper"], res["lenet"]
    best_sklearn = max(res["sklearn"], key=lambda m: m["accuracy"])
    out = [
        f"shopkeeper's network is {100 * (sk['accuracy'] - lenet['accuracy']):+.2f} points of "
        f"accuracy against the LeNet-style network and "
        f"{100 * (sk['accuracy'] - best_sklearn['accuracy']):+.2f} against the best pixel "
        f"baseline ({best_sklearn['model']}); it takes {sk['train_s'] / lenet['train_s']:.1f}× "
        f"LeNet's training time and runs at {sk['images_per_s'] / lenet['images_per_s']:.2f}× "
        "its throughput."
    ]
    for a in res["similarity"]["approximate"]:
        ratio = a["speed_ratio"]
        pace = f"{ratio:.1f}× faster" if ratio >= 1 else f"{1 / ratio:.1f}× slower"
        out.append(
            f"On {a['n']:,} photos the HNSW index (built and searched) is {pace} than exact "
            f"search and finds {a['recall_at_10']:.1%} of the exact neighbours."
        )
    return out


def run_all(
    data: dict[str, np.ndarray],
    args: argparse.Namespace,
    epochs: int | None,
    lenet_epochs: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Every model, then the similarity figures; the results as one dict."""
    res: dict[str, Any] = {}
    res["shopkeeper"], clf = bench_shopkeeper(data, args.threads, epochs, log)
    log(f"shopkeeper: {res['shopkeeper']['accuracy']:.4f}, {res['shopkeeper']['train_s']:.0f} s")
    res["lenet"], lenet_emb = bench_lenet(data, args.threads, lenet_epochs, log)
    res["sklearn"] = bench_sklearn(data, args.threads, args.quick, log)

    # Every photo's embedding, for the approximate index at a size where it matters.
    all_emb = all_labels = None
    if not args.quick:
        all_emb = np.concatenate([clf.embed(data[k]) for k in ("x", "xv", "xt")])
        all_labels = np.concatenate([data["y"], data["yv"], data["yt"]])
    embeddings = {
        "shopkeeper CNN": clf.embed(data["xt"]),
        "LeNet-style CNN": lenet_emb,
        "raw pixels": data["xt"].reshape(len(data["xt"]), -1),
    }
    res["similarity"] = bench_similarity(
        embeddings, data["yt"], all_emb, all_labels, args.threads, log
    )
    res["sentences"] = sentences(res)
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="Threads for every library.")
    parser.add_argument("--quick", action="store_true", help="A small smoke run (not figures).")
    parser.add_argument("--epochs", type=int, default=None, help="shopkeeper's epochs.")
    parser.add_argument("--lenet-epochs", type=int, default=10)
    args = parser.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    started = time.perf_counter()
    # Other processes' CPU time during the run: timings on a shared machine are only
    # as good as it was quiet, so the report says how quiet it was.
    busy_before, own_before = _busy_seconds(), _own_seconds()

    from shopkeeper.images import FASHION_CLASSES, load_fashion_mnist

    x, y = load_fashion_mnist("train")
    xt, yt = load_fashion_mnist("test")
    if args.quick:
        x, y, xt, yt = x[:6000], y[:6000], xt[:2000], yt[:2000]
    cut = len(x) - (500 if args.quick else VALIDATION)

    def pixels(a: np.ndarray) -> np.ndarray:
        return (a[:, None] / 255.0).astype(np.float32)

    data = {
        "x": pixels(x[:cut]),
        "y": y[:cut].astype(np.int64),
        "xv": pixels(x[cut:]),
        "yv": y[cut:].astype(np.int64),
        "xt": pixels(xt),
        "yt": yt.astype(np.int64),
    }
    epochs = 1 if args.quick and args.epochs is None else args.epochs
    lenet_epochs = 1 if args.quick else args.lenet_epochs

    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        res = run_all(data, args, epochs, lenet_epochs, log)

    wall = time.perf_counter() - started
    others = (_busy_seconds() - busy_before) - (_own_seconds() - own_before)

    import faiss
    import sklearn
    import torch

    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "threads": args.threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "faiss": getattr(faiss, "__version__", importlib.metadata.version("faiss-cpu")),
        "command": "python bench/images_bench.py " + " ".join(sys.argv[1:]),
        "quick": args.quick,
        "train": int(cut),
        "validation": int(len(x) - cut),
        "test": len(xt),
        "classes": list(FASHION_CLASSES),
        "total_s": wall,
        "other_cpu_s": max(0.0, others),
        "other_cpu_share": max(0.0, others) / (wall * (os.cpu_count() or 1)),
    }
    text = render(res, meta)
    if not args.quick:  # a smoke run's figures are not results
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "images.json").write_text(
            json.dumps({"meta": meta, "results": res}, indent=2, default=float) + "\n"
        )
        (RESULTS / "images.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
