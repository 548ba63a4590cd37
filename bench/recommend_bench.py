"""Recommendation benchmark: shopkeeper's models against the libraries' anchors, one run.

Protocols (``shared/benchmarks/recommendations.md``, built by ``recsplits.py``):

- **Instacart next basket**: each user's last order is the test basket, the
  earlier ones train; the second-to-last order is the validation basket.
  Repeats allowed; full ranking over every candidate item.
- **MovieLens 100K implicit top-N**: each user's last 20 % of ratings by time
  are the test; the same rule on the training part gives validation. Items
  seen in training are excluded.

Anchors (``recanchors.py``): implicit ALS, BPR, item-kNN (cosine, BM25), EASE,
global popularity and the customer's own purchase counts, each tuned on
validation by NDCG@10. shopkeeper's models are tuned the same way, on the same
validation fold, and every list is scored by the same metric code.

    python bench/recommend_bench.py [--quick]

Writes ``bench/results/recommend.md`` and ``recommend.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import itertools
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import recanchors
import recsplits
from shopkeeper.recommend import (
    EASE,
    Hybrid,
    ItemKNN,
    Recommender,
    RepeatBuyer,
    exposure_metrics,
    learn_weights,
    per_user_ndcg,
    ranking_metrics,
    top_n,
)

RESULTS = Path(__file__).resolve().parent / "results"


def _lists(model: Recommender, fold: recsplits.Fold) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    scores = model.score(fold.train)
    exclude = fold.train.binary() if fold.exclude_seen else None
    lists = top_n(scores, 20, exclude=exclude, allowed=fold.candidates)
    return lists, time.perf_counter() - start


def _ndcg10(model: Recommender, fold: recsplits.Fold) -> float:
    lists, _ = _lists(model.fit(fold.train), fold)
    return ranking_metrics(lists, fold.truth, [10], n_items=fold.train.n_items)["ndcg@10"]


def _timed_fit(
    make: Callable[[], Recommender], fold: recsplits.Fold
) -> tuple[Recommender, float, np.ndarray, float]:
    """Fit and list ``recanchors.TIMING_REPEATS`` times (fresh model each); median times."""
    fits, tops = [], []
    for _ in range(recanchors.TIMING_REPEATS):
        model = make()
        t0 = time.perf_counter()
        model.fit(fold.train)
        fits.append(time.perf_counter() - t0)
        lists, top_s = _lists(model, fold)
        tops.append(top_s)
    return model, float(np.median(fits)), lists, float(np.median(tops))


def _tune(
    name: str,
    make: Callable[..., Recommender],
    grid: list[dict[str, Any]],
    split: recsplits.Split,
    log: Callable[[str], None],
) -> recanchors.Result:
    start = time.perf_counter()
    scored = [(_ndcg10(make(**p), split.val), i) for i, p in enumerate(grid)]
    best_val, best_i = max(scored, key=lambda t: (t[0], -t[1]))
    tuning_s = time.perf_counter() - start
    params = grid[best_i]
    _, train_s, lists, top_s = _timed_fit(lambda: make(**params), split.test)
    log(f"{name}: {params} val {best_val:.4f} ({len(grid)} configs, {tuning_s:.0f} s)")
    return recanchors.Result(name, params, best_val, lists, train_s, top_s, len(grid), tuning_s)


def _hybrid(
    parts: list[tuple[str, Callable[..., Recommender], dict[str, Any]]],
    split: recsplits.Split,
    log: Callable[[str], None],
) -> recanchors.Result:
    start = time.perf_counter()
    models = [make(**p) for _, make, p in parts]
    weights, value = learn_weights(
        models,
        split.val.train,
        split.val.truth,
        exclude_seen=split.val.exclude_seen,
        allowed=split.val.candidates,
        log=log,
    )
    tuning_s = time.perf_counter() - start
    _, train_s, lists, top_s = _timed_fit(
        lambda: Hybrid([make(**p) for _, make, p in parts], weights), split.test
    )
    params = {name: w for (name, _, _), w in zip(parts, weights, strict=True)}
    return recanchors.Result("shopkeeper hybrid", params, value, lists, train_s, top_s, 1, tuning_s)


def _grid(**axes: tuple[Any, ...]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def shopkeeper_models(
    split: recsplits.Split, *, quick: bool, log: Callable[[str], None]
) -> list[recanchors.Result]:
    """shopkeeper's models for this data set, each tuned on validation."""

    def g(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return points[:1] if quick else points

    if split.dataset == "instacart":
        repeat_grid = g(
            _grid(
                half_life=(4.0, 2.0, 3.0, 6.0),
                neighbours=(300, 100),
                alpha=(0.7, 0.9),
                cycle=(0.0, 0.1),
            )
        )
        knn_grid = g(_grid(k=(100,), weighting=("bm25",), half_life=(None, 4.0, 8.0)))
        ease_grid = g(_grid(l2=(50.0, 250.0), half_life=(None, 4.0)))
    else:
        repeat_grid = g(_grid(half_life=(10.0, 5.0, 20.0), neighbours=(50, 100), alpha=(0.0,)))
        knn_grid = g(
            _grid(k=(100,), weighting=("cosine",), input=("binary",), half_life=(3.0, 5.0))
        )
        ease_grid = g(_grid(l2=(1000.0, 500.0, 250.0), half_life=(5.0, 3.0, 8.0)))
    results = [
        _tune("shopkeeper repeat", RepeatBuyer, repeat_grid, split, log),
        _tune("shopkeeper item-kNN (recency)", ItemKNN, knn_grid, split, log),
        _tune("shopkeeper EASE (recency)", EASE, ease_grid, split, log),
    ]
    parts = [
        ("repeat", RepeatBuyer, results[0].params),
        ("item_knn", ItemKNN, results[1].params),
        ("ease", EASE, results[2].params),
    ]
    results.append(_hybrid(parts, split, log))
    return results


def _row(result: recanchors.Result, fold: recsplits.Fold) -> dict[str, Any]:
    n_items = fold.train.n_items
    m = ranking_metrics(result.lists, fold.truth, [10, 20], n_items=n_items)
    item_users = np.asarray(fold.train.binary().sum(axis=0)).ravel()
    e = exposure_metrics(
        result.lists,
        10,
        candidates=fold.candidates,
        item_users=item_users,
        n_users=fold.train.n_users,
    )
    return {
        "model": result.name,
        "params": result.params,
        "val_ndcg@10": round(result.val_ndcg10, 4),
        "recall@10": round(m["recall@10"], 4),
        "recall@20": round(m["recall@20"], 4),
        "ndcg@10": round(m["ndcg@10"], 4),
        "ndcg@20": round(m["ndcg@20"], 4),
        "coverage@10": round(e["coverage@10"], 4),
        "distinct@10": int(e["distinct@10"]),
        "gini@10": round(e["gini@10"], 4),
        "train_s": round(result.train_s, 3),
        "top20_s": round(result.top20_s, 3),
        "configs": result.configs,
        "tuning_s": round(result.tuning_s, 1),
    }


def run(split: recsplits.Split, *, quick: bool, log: Callable[[str], None]) -> dict[str, Any]:
    anchors = recanchors.run_anchors(split, log=log, quick=quick)
    ours = shopkeeper_models(split, quick=quick, log=log)
    rows = [_row(r, split.test) for r in anchors + ours]
    best_anchor = max((r for r in rows[: len(anchors)]), key=lambda r: r["ndcg@10"])
    best_ours = max((r for r in rows[len(anchors) :]), key=lambda r: r["ndcg@10"])
    ref = next(r for r in anchors if r.name == best_anchor["model"])
    mine = next(r for r in ours if r.name == best_ours["model"])
    n_items = split.test.train.n_items
    diff = per_user_ndcg(mine.lists, split.test.truth, 10, n_items=n_items) - per_user_ndcg(
        ref.lists, split.test.truth, 10, n_items=n_items
    )
    als = next((r for r in rows if r["model"] == "implicit ALS"), None)
    # The cheapest shopkeeper model that still clears the quality target.
    clearing = [r for r in rows[len(anchors) :] if r["ndcg@10"] >= 1.05 * best_anchor["ndcg@10"]]
    fastest = min(clearing, key=lambda r: r["train_s"], default=None)
    return {
        "dataset": split.dataset,
        "rows": rows,
        "best_anchor": best_anchor["model"],
        "best_shopkeeper": best_ours["model"],
        "ndcg10_ratio": round(best_ours["ndcg@10"] / best_anchor["ndcg@10"], 4),
        "paired_diff": round(float(diff.mean()), 4),
        "paired_diff_se": round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4),
        "train_ratio_vs_als": (
            round(best_ours["train_s"] / als["train_s"], 3) if als and als["train_s"] else None
        ),
        "fastest_clearing": None if fastest is None else fastest["model"],
        "fastest_clearing_ratio_vs_als": (
            round(fastest["train_s"] / als["train_s"], 3)
            if fastest is not None and als and als["train_s"]
            else None
        ),
        "best_top20_s": best_ours["top20_s"],
    }


def render(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    out = ["# Recommendation benchmark", ""]
    out += [
        "Measured by `python bench/recommend_bench.py` in one run: the anchors and shopkeeper's",
        "models on the same splits (`bench/recsplits.py`, protocols in",
        "`shared/benchmarks/recommendations.md`), every model tuned on the validation fold by",
        "NDCG@10 and scored by the same metric code. Timings are wall seconds on this machine",
        f"({meta['cpus']} cores, shared), the median of three runs of the final fit",
        "(`train s`) and of producing every user's top-20 (`top-20 s`).",
        "",
    ]
    for res in results:
        out += [f"## {res['dataset']}", ""]
        out.append(
            "| model | params | val NDCG@10 | Recall@10 | Recall@20 | NDCG@10 | NDCG@20 | "
            "coverage@10 (distinct) | Gini@10 | train s | top-20 s |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in res["rows"]:
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            out.append(
                f"| {r['model']} | {params} | {r['val_ndcg@10']:.4f} | {r['recall@10']:.4f} | "
                f"{r['recall@20']:.4f} | {r['ndcg@10']:.4f} | {r['ndcg@20']:.4f} | "
                f"{r['coverage@10']:.4f} ({r['distinct@10']}) | {r['gini@10']:.3f} | "
                f"{r['train_s']:.2f} | {r['top20_s']:.2f} |"
            )
        out += [
            "",
            f"- Best anchor: **{res['best_anchor']}**; best shopkeeper model: "
            f"**{res['best_shopkeeper']}**; NDCG@10 ratio **{res['ndcg10_ratio']:.3f}** "
            f"(target >= 1.05); paired per-user difference {res['paired_diff']:+.4f} "
            f"± {res['paired_diff_se']:.4f} (SE).",
            f"- Training time / implicit ALS's (target <= 1): best model "
            f"{res['train_ratio_vs_als']}; the fastest shopkeeper model that clears +5 % "
            f"({res['fastest_clearing']}): {res['fastest_clearing_ratio_vs_als']}.",
            f"- Top-20 for all users with the best model: {res['best_top20_s']:.2f} s.",
            "",
        ]
    out.append(
        f"Versions: python {meta['python']}, numpy {meta['numpy']}, scipy {meta['scipy']}, "
        f"implicit {meta['implicit']}. Total run {meta['total_s']:.0f} s."
    )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one config per model (smoke run)")
    parser.add_argument("--datasets", default="instacart,movielens")
    args = parser.parse_args()
    import implicit
    import scipy

    start = time.perf_counter()

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)

    results = []
    for name in args.datasets.split(","):
        split = recsplits.instacart() if name == "instacart" else recsplits.movielens()
        results.append(run(split, quick=args.quick, log=log))
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "implicit": implicit.__version__,
        "cpus": os.cpu_count(),
        "total_s": time.perf_counter() - start,
        "quick": args.quick,
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"recommend{suffix}.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=str)
    )
    (RESULTS / f"recommend{suffix}.md").write_text(render(results, meta))
    print(render(results, meta))


if __name__ == "__main__":
    main()
