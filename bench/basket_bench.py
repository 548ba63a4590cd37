"""Market-basket benchmark: shopkeeper's miner against mlxtend and pyfim, side by side.

Protocol of ``shared/benchmarks/forecast-and-basket.md`` section B: Groceries
(min support 0.001, 0.005; confidence 0.5, 0.8) and the Instacart sample
orders (0.001, 0.002; confidence 0.5), the same list of baskets for every
library. Each (library, data set, support, step) runs twice, each time in a
fresh process that loads the baskets (identical code for all) after its
imports and notes its resident memory, the baseline:

- *fresh*: the library builds its input (``Baskets`` for shopkeeper, the
  one-hot frame for mlxtend, nothing for pyfim) and runs the step once: the
  first call in a new process, one-off costs included (numba loading its
  cached machine code, lazily imported modules);
- *warmed*: the library first runs the same steps on four toy baskets, so
  the baseline holds those one-off costs; then the step once (the warm-up)
  and five more times, timed: the time is the median of those five.

Memory is each phase's peak resident memory above the baseline: the
kernel's high-water mark is reset before the phase (``/proc/self/clear_refs``)
and read back with ``getrusage(RUSAGE_SELF).ru_maxrss``, which sees numba's
and C extensions' allocations (tracemalloc would not).

Steps: ``itemsets`` (shopkeeper ``frequent_itemsets``, mlxtend ``fpgrowth``,
``fim.fpgrowth(target="s")``) and ``rules`` (shopkeeper
``association_rules`` with one-item or any consequents from the mined
itemsets, mlxtend ``association_rules`` from its itemsets, pyfim's own rule
target with ``mode="o"``, which re-mines). Every library's itemsets and rule
sets are reduced to a digest of their canonical text and compared; any
difference fails the run. shopkeeper's kernels are the module compiled at
install (``shopkeeper.basket._aot``); the run fails if any job fell back to
numba's JIT. A separate fresh process forced onto the JIT
(``SHOPKEEPER_BASKET_JIT=1``) with an empty ``NUMBA_CACHE_DIR`` times the
fallback's cold first call (compiling).

    python bench/basket_bench.py [--repeats 5] [--cap 180]

Writes ``bench/results/basket.md`` and ``basket.json``.
"""

from __future__ import annotations

import os

# One thread everywhere, set before numpy or numba load, so the libraries compare like
# with like; subprocesses inherit these.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import gc
import hashlib
import importlib.metadata
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(os.environ.get("SHOPKEEPER_SHARED_DATA", Path(__file__).parents[2] / "shared/data"))
GROCERIES = SHARED / "groceries" / "groceries.csv"
INSTACART = SHARED / "instacart_sample" / "order_lines.csv"
LIBRARIES = ("shopkeeper", "mlxtend", "pyfim")
SETTINGS: dict[str, dict[str, Any]] = {
    "groceries": {"supports": (0.001, 0.005), "confidences": (0.5, 0.8)},
    "instacart": {"supports": (0.001, 0.002), "confidences": (0.5,)},
}
# The protocol's figures (identical for every library there), checked here too.
ANCHOR_ITEMSETS = {
    ("groceries", 0.001): 13_491,
    ("groceries", 0.005): 1_001,
    ("instacart", 0.001): 24_001,
    ("instacart", 0.002): 1_937,
}
ANCHOR_RULES = {  # (data, support, confidence) -> (one-item consequents, any consequents)
    ("groceries", 0.005, 0.5): (120, 120),
    ("groceries", 0.005, 0.8): (0, 0),
    ("groceries", 0.001, 0.5): (5_668, 5_829),
    ("groceries", 0.001, 0.8): (410, 413),
    ("instacart", 0.002, 0.5): (335, 441),
    ("instacart", 0.001, 0.5): (90_843, 769_106),
}
N_CUSTOMERS = 593  # users behind the Instacart sample's orders
# Resident memory moves by pages and by what the allocator keeps: differences under
# this many MB are read as equal rather than as a win or a loss.
MEMORY_TOLERANCE_MB = 1.0
# A first call slower than this is timed once: five more would only repeat it.
SLOW_CALL_S = 40.0


# --------------------------------------------------------------------------- worker side


def load(dataset: str) -> list[list[str]]:
    """The list of baskets, built the protocol's way; the same code for every library."""
    if dataset == "groceries":
        with GROCERIES.open(encoding="utf-8") as handle:
            fields = (line.rstrip("\n").split(",") for line in handle)
            return [list(dict.fromkeys(f for f in row if f)) for row in fields]
    import pandas as pd

    lines = pd.read_csv(INSTACART, usecols=["order_id", "product_id"])
    # Product ids as text: mlxtend's sparse frame refuses integer column names.
    lines["product_id"] = lines["product_id"].astype(str)
    return lines.groupby("order_id", sort=True)["product_id"].apply(list).tolist()


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Meter:
    """Peak memory of each phase, above the baseline taken after imports and loading."""

    def __init__(self) -> None:
        gc.collect()
        self.baseline = _rss_mb()
        self.phases: dict[str, dict[str, float]] = {}
        self.reset_works = True

    def run(self, name: str, fn: Callable[[], Any]) -> tuple[Any, float]:
        gc.collect()
        before = _rss_mb()
        self.reset_works &= _reset_peak()
        started = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - started
        peak = _peak_mb()
        self.phases[name] = {
            "peak_above_baseline_mb": peak - self.baseline,
            "increment_mb": peak - before,  # above what the phase started with
            "first_s": elapsed,
        }
        return out, elapsed


def _timed(fn: Callable[[], Any], repeats: int, first_s: float) -> dict[str, Any]:
    """Median of ``repeats`` calls; the measured first call was the warm-up."""
    if repeats == 0 or first_s > SLOW_CALL_S:
        return {"median_s": first_s, "calls": 1, "times": [first_s]}
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "calls": repeats, "times": times}


def _digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]


def _set_text(items: Iterable[Any]) -> str:
    return "|".join(sorted(str(i) for i in items))


def _itemset_digest(pairs: Iterable[tuple[Iterable[Any], int]]) -> str:
    return _digest(f"{_set_text(s)}\t{int(n)}" for s, n in pairs)


def _rule_digest(rules: Iterable[tuple[Iterable[Any], Iterable[Any]]]) -> str:
    return _digest(f"{_set_text(a)}=>{_set_text(c)}" for a, c in rules)


def _shopkeeper(spec: dict[str, Any], baskets: list[list[str]], meter: Meter) -> dict[str, Any]:
    from shopkeeper.basket import Baskets, association_rules, frequent_itemsets
    from shopkeeper.basket._kernels import kind as kernel_kind

    prepared, prep_s = meter.run("prep", lambda: Baskets.from_lists(baskets))
    s = spec["min_support"]
    if spec["step"] == "itemsets":
        found, first = meter.run("itemsets", lambda: frequent_itemsets(prepared, s))
        timing = _timed(lambda: frequent_itemsets(prepared, s), spec["repeats"], first)
        sets = ((found.itemset(i), found.baskets[i]) for i in range(len(found)))
        return {
            "kernels": kernel_kind(),
            "prep_s": prep_s,
            "timing": timing,
            "count": len(found),
            "max_size": int(found.sizes.max()),
            "digest": _itemset_digest(sets),
        }
    found, _ = meter.run("itemsets", lambda: frequent_itemsets(prepared, s))
    c, kind = spec["confidence"], spec["consequents"]

    def rules() -> Any:
        return association_rules(found, min_confidence=c, consequents=kind)

    frame, first = meter.run("rules", rules)
    timing = _timed(rules, spec["repeats"], first)
    pairs = zip(frame["antecedent"], frame["consequent"], strict=True)
    return {
        "kernels": kernel_kind(),
        "prep_s": prep_s,
        "timing": timing,
        "count": len(frame),
        "digest": _rule_digest(pairs),
    }


def _mlxtend(spec: dict[str, Any], baskets: list[list[str]], meter: Meter) -> dict[str, Any]:
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth
    from mlxtend.preprocessing import TransactionEncoder

    def onehot() -> pd.DataFrame:
        encoder = TransactionEncoder().fit(baskets)
        if spec["dataset"] == "instacart":
            # 14,190 products: the protocol's sparse frame (dense would be 215M cells).
            matrix = encoder.transform(baskets, sparse=True)
            return pd.DataFrame.sparse.from_spmatrix(matrix, columns=encoder.columns_)
        return pd.DataFrame(encoder.transform(baskets), columns=encoder.columns_)

    frame, prep_s = meter.run("prep", onehot)
    s, n = spec["min_support"], len(baskets)

    def mine() -> pd.DataFrame:
        return fpgrowth(frame, min_support=s, use_colnames=True)

    if spec["step"] == "itemsets":
        found, first = meter.run("itemsets", mine)
        timing = _timed(mine, spec["repeats"], first)
        counts = (round(v * n) for v in found["support"])
        return {
            "prep_s": prep_s,
            "timing": timing,
            "count": len(found),
            "max_size": int(found["itemsets"].map(len).max()),
            "digest": _itemset_digest(zip(found["itemsets"], counts, strict=True)),
        }
    found, _ = meter.run("itemsets", mine)
    c = spec["confidence"]

    def rules() -> pd.DataFrame:
        return association_rules(found, num_itemsets=n, metric="confidence", min_threshold=c)

    out, first = meter.run("rules", rules)
    timing = _timed(rules, spec["repeats"], first)
    single = out[out["consequents"].map(len) == 1]
    return {
        "prep_s": prep_s,
        "timing": timing,
        "count": len(out),
        "digest": _rule_digest(zip(out["antecedents"], out["consequents"], strict=True)),
        "single_count": len(single),
        "single_digest": _rule_digest(
            zip(single["antecedents"], single["consequents"], strict=True)
        ),
    }


def _pyfim(spec: dict[str, Any], baskets: list[list[str]], meter: Meter) -> dict[str, Any]:
    import fim

    supp = 100 * spec["min_support"]  # pyfim takes a percentage
    if spec["step"] == "itemsets":

        def mine() -> Any:
            return fim.fpgrowth(baskets, target="s", supp=supp, zmin=1, report="a")

        found, first = meter.run("itemsets", mine)
        timing = _timed(mine, spec["repeats"], first)
        return {
            "prep_s": 0.0,
            "timing": timing,
            "count": len(found),
            "max_size": max(len(items) for items, _ in found),
            "digest": _itemset_digest(found),
        }
    conf = 100 * spec["confidence"]

    def rules() -> Any:
        # mode="o": rule support = support(antecedent ∪ consequent), as everywhere else.
        return fim.fpgrowth(
            baskets, target="r", supp=supp, conf=conf, zmin=2, report="abhcl", mode="o"
        )

    out, first = meter.run("rules", rules)
    timing = _timed(rules, spec["repeats"], first)
    return {
        "prep_s": 0.0,
        "timing": timing,
        "count": len(out),
        "digest": _rule_digest((body, (head,)) for head, body, *_ in out),
    }


def _cold(spec: dict[str, Any], baskets: list[list[str]], meter: Meter) -> dict[str, Any]:
    """The JIT fallback's first call with an empty numba cache: compile time included."""
    from shopkeeper.basket import Baskets, frequent_itemsets

    prepared = Baskets.from_lists(baskets)
    _, first = meter.run("itemsets", lambda: frequent_itemsets(prepared, spec["min_support"]))
    started = time.perf_counter()
    frequent_itemsets(prepared, spec["min_support"])
    return {"first_s": first, "second_s": time.perf_counter() - started}


def _customers(spec: dict[str, Any]) -> dict[str, Any]:
    """Instacart with each order's user: basket-basis vs customer-basis counts."""
    import numpy as np
    import pandas as pd

    from shopkeeper.basket import Baskets, association_rules, frequent_itemsets

    # Load numba's cached code first, so that the times below are the search's own.
    frequent_itemsets(Baskets.from_lists(TOY, customers=[1, 1, 2, 2]), 0.5, basis="customers")
    lines = pd.read_csv(INSTACART, usecols=["order_id", "user_id", "product_id"])
    baskets = Baskets.from_frame(lines, basket="order_id", item="product_id", customer="user_id")
    rows = []
    runs: list[tuple[str, float]] = [("baskets", s) for s in SETTINGS["instacart"]["supports"]]
    # The customer basis at the same absolute minimum counts (16 and 31 users). The
    # basket shares themselves would mean a single user (0.001 x 593 < 1), where every
    # subset of every order is frequent.
    runs += [("customers", 16 / N_CUSTOMERS), ("customers", 31 / N_CUSTOMERS)]
    for basis, s in runs:
        started = time.perf_counter()
        found = frequent_itemsets(baskets, s, basis=basis)  # type: ignore[arg-type]
        mine_s = time.perf_counter() - started
        sizes = found.sizes
        every = association_rules(found, min_confidence=0.5, consequents="any")
        rows.append(
            {
                "basis": basis,
                "min_support": s,
                "min_count": found.settings["min_count"],
                "itemsets": len(found),
                "max_size": int(sizes.max()),
                "by_size": np.bincount(sizes).tolist()[1:],
                "single_customer_by_size": np.bincount(
                    sizes[found.customers == 1], minlength=sizes.max() + 1
                ).tolist()[1:],
                "rules_1c": len(association_rules(found, min_confidence=0.5)),
                "rules_all": len(every),
                "rules_all_single_user": int((every["customers"] == 1).sum()),
                "mine_s": mine_s,
            }
        )
    return {
        "orders": baskets.n_baskets,
        "customers": baskets.n_customers,
        "rows": rows,
    }


# Two baskets' worth of toy data: enough to run every code path once.
TOY = [["a", "b"], ["a", "c"], ["a", "b", "c"], ["b", "c"]]
RUNNERS: dict[str, Callable[[dict[str, Any], list[list[str]], Meter], dict[str, Any]]] = {
    "shopkeeper": _shopkeeper,
    "mlxtend": _mlxtend,
    "pyfim": _pyfim,
    "cold": _cold,
}


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One (library, data set, support, step) in this fresh process.

    ``mode="fresh"``: the step's first call in a new process, one-off costs
    included (pandas' and scipy's lazy imports, a JIT's start-up), measured
    once. ``mode="warmed"``: the library first runs the
    same steps on toy baskets, so the baseline already holds those one-off
    costs and the figures show what the data costs; then the timed repeats.
    """
    if spec["library"] == "customers":
        return _customers(spec)
    # Imports first, so that the baseline holds them.
    if spec["library"] in ("shopkeeper", "cold"):
        import shopkeeper.basket  # noqa: F401
    elif spec["library"] == "mlxtend":
        import mlxtend.frequent_patterns
        import mlxtend.preprocessing  # noqa: F401
    else:
        import fim  # noqa: F401
    run = RUNNERS[spec["library"]]
    if spec.get("mode") == "warmed":
        run({**spec, "min_support": 0.5, "repeats": 0}, TOY, Meter())
    else:
        spec = {**spec, "repeats": 0}
    started = time.perf_counter()
    baskets = load(spec["dataset"])
    load_s = time.perf_counter() - started
    meter = Meter()
    out = run(spec, baskets, meter)
    return {
        **out,
        "load_s": load_s,
        "baseline_mb": meter.baseline,
        "memory": meter.phases,
        "peak_reset": meter.reset_works,
    }


# --------------------------------------------------------------------------- driver side


def _spawn(spec: dict[str, Any], cap: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one job in a fresh interpreter; a job past ``cap`` seconds is stopped."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=cap, env=env or dict(os.environ)
        )
    except subprocess.TimeoutExpired:
        return {"capped": True, "cap_s": cap}
    if done.returncode != 0:
        raise RuntimeError(f"job {spec} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("RESULT "))
    return {**json.loads(line[len("RESULT ") :]), "process_s": time.perf_counter() - started}


def jobs(repeats: int, mode: str) -> list[dict[str, Any]]:
    """Every (library, data set, support, step), in one of the two modes."""
    out = []
    for dataset, setting in SETTINGS.items():
        for s in setting["supports"]:
            base = {"dataset": dataset, "min_support": s, "repeats": repeats, "mode": mode}
            for lib in LIBRARIES:
                out.append({**base, "library": lib, "step": "itemsets"})
                for c in setting["confidences"]:
                    kinds = ("single", "any") if lib == "shopkeeper" else (None,)
                    for kind in kinds:
                        out.append(
                            {
                                **base,
                                "library": lib,
                                "step": "rules",
                                "confidence": c,
                                "consequents": kind,
                            }
                        )
    return out


def _key(spec: dict[str, Any]) -> str:
    parts = [spec["library"], spec["dataset"], str(spec["min_support"]), spec["step"]]
    if spec["step"] == "rules":
        parts += [str(spec["confidence"]), str(spec["consequents"])]
    return "/".join(parts)


def _first_job(library: str, dataset: str) -> dict[str, Any]:
    s = SETTINGS[dataset]["supports"][0]
    return {"library": library, "dataset": dataset, "min_support": s, "step": "itemsets"}


def check(results: dict[str, Any]) -> list[str]:
    """Every disagreement between libraries or with the protocol's counts."""
    problems = []
    for (dataset, s), want in ANCHOR_ITEMSETS.items():
        got = {lib: results[f"{lib}/{dataset}/{s}/itemsets"] for lib in LIBRARIES}
        counts = {lib: r.get("count") for lib, r in got.items()}
        digests = {r.get("digest") for r in got.values()}
        if len(digests) != 1 or set(counts.values()) != {want}:
            problems.append(f"itemsets {dataset} {s}: counts {counts} (protocol {want})")
    for (dataset, s, c), (one, every) in ANCHOR_RULES.items():
        sk1 = results[f"shopkeeper/{dataset}/{s}/rules/{c}/single"]
        ska = results[f"shopkeeper/{dataset}/{s}/rules/{c}/any"]
        mlx = results[f"mlxtend/{dataset}/{s}/rules/{c}/None"]
        fim = results[f"pyfim/{dataset}/{s}/rules/{c}/None"]
        if sk1.get("count") != one or fim.get("count") != one or sk1["digest"] != fim["digest"]:
            problems.append(
                f"one-item rules {dataset} {s} @{c}: shopkeeper {sk1.get('count')}, "
                f"pyfim {fim.get('count')} (protocol {one})"
            )
        if ska.get("count") != every:
            problems.append(f"rules {dataset} {s} @{c}: shopkeeper {ska.get('count')} ≠ {every}")
        if not mlx.get("capped") and (
            mlx["count"] != every
            or mlx["digest"] != ska["digest"]
            or mlx["single_digest"] != sk1["digest"]
        ):
            problems.append(f"rules {dataset} {s} @{c}: mlxtend {mlx['count']} differs")
    return problems


def _mb(r: dict[str, Any], phase: str) -> float | None:
    """The step's peak memory (MB).

    Itemsets: above the baseline, building the input included (mlxtend's
    one-hot frame is part of its cost). Rules: above what the process held
    just before the call, so the itemsets' own cost is not counted twice.
    """
    if r.get("capped"):
        return None
    if phase == "rules":
        value = r["memory"]["rules"]["increment_mb"]
    else:
        phases = [p for p in ("prep", "itemsets") if p in r["memory"]]
        value = max(r["memory"][p]["peak_above_baseline_mb"] for p in phases)
    # A step served from memory the process already held shows a tiny negative change.
    return max(0.0, value)


def _process_mb(r: dict[str, Any]) -> float | None:
    """The whole fresh process's peak (MB): imports and baskets, then every step it ran."""
    if r.get("capped"):
        return None
    return r["baseline_mb"] + max(0.0, *(p["peak_above_baseline_mb"] for p in r["memory"].values()))


def _phase(r: dict[str, Any], phase: str, measure: str = "peak_above_baseline_mb") -> float:
    return max(0.0, r["memory"][phase][measure])


def _no_more(ours: float | None, theirs: float | None) -> bool:
    """``ours`` ≤ ``theirs`` within the measurement's resolution."""
    return ours is not None and theirs is not None and ours <= theirs + MEMORY_TOLERANCE_MB


def _t(r: dict[str, Any]) -> float | None:
    return None if r.get("capped") else r["timing"]["median_s"]


def summarise(warm: dict[str, Any], fresh: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (data set, support, step) with every library side by side.

    Times and data-dependent memory from the warmed jobs, first-call memory
    from the fresh ones.
    """
    rows = []
    for dataset, setting in SETTINGS.items():
        for s in setting["supports"]:
            stem = f"{dataset}/{s}"
            sk, mlx, fim = (warm[f"{lib}/{stem}/itemsets"] for lib in LIBRARIES)
            cold = {lib: fresh[f"{lib}/{stem}/itemsets"] for lib in LIBRARIES}
            rows.append(
                {
                    "dataset": dataset,
                    "min_support": s,
                    "step": "itemsets",
                    "count": sk["count"],
                    "max_size": sk["max_size"],
                    "prep_s": {"shopkeeper": sk["prep_s"], "mlxtend": mlx["prep_s"]},
                    "time_s": {"shopkeeper": _t(sk), "mlxtend": _t(mlx), "pyfim": _t(fim)},
                    "memory_mb": {
                        "shopkeeper": _mb(sk, "itemsets"),
                        "mlxtend": _mb(mlx, "itemsets"),
                        "pyfim": _mb(fim, "itemsets"),
                    },
                    "memory_fresh_mb": {lib: _mb(r, "itemsets") for lib, r in cold.items()},
                    "process_fresh_mb": {lib: _process_mb(r) for lib, r in cold.items()},
                    # Where the itemsets step's memory goes (warmed): input vs search.
                    "input_mb": {
                        lib: _phase(r, "prep") for lib, r in (("shopkeeper", sk), ("mlxtend", mlx))
                    },
                    "search_mb": {
                        lib: _phase(r, "itemsets", "increment_mb")
                        for lib, r in (("shopkeeper", sk), ("mlxtend", mlx), ("pyfim", fim))
                    },
                    "first_search_mb": _phase(cold["shopkeeper"], "itemsets", "increment_mb"),
                    "first_call_s": cold["shopkeeper"]["memory"]["itemsets"]["first_s"],
                }
            )
            for c in setting["confidences"]:
                keys = {
                    "shopkeeper_1c": f"shopkeeper/{stem}/rules/{c}/single",
                    "shopkeeper_any": f"shopkeeper/{stem}/rules/{c}/any",
                    "mlxtend": f"mlxtend/{stem}/rules/{c}/None",
                    "pyfim": f"pyfim/{stem}/rules/{c}/None",
                }
                got = {name: warm[k] for name, k in keys.items()}
                rows.append(
                    {
                        "dataset": dataset,
                        "min_support": s,
                        "step": f"rules@{c}",
                        "count_1c": got["shopkeeper_1c"]["count"],
                        "count_all": got["shopkeeper_any"]["count"],
                        "time_s": {
                            **{name: _t(r) for name, r in got.items()},
                            # pyfim's rule call mines too: this is the like-for-like figure.
                            "shopkeeper_itemsets_plus_1c": _sum(_t(got["shopkeeper_1c"]), _t(sk)),
                        },
                        "memory_mb": {name: _mb(r, "rules") for name, r in got.items()},
                        "memory_fresh_mb": {
                            name: _mb(fresh[k], "rules") for name, k in keys.items()
                        },
                        "process_fresh_mb": {
                            name: _process_mb(fresh[k]) for name, k in keys.items()
                        },
                        "mlxtend_capped": bool(got["mlxtend"].get("capped")),
                    }
                )
    return rows


def _sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The three targets, per row: mlxtend/shopkeeper ≥ 10×, shopkeeper/pyfim ≤ 2×, memory.

    Rules compare like with like: shopkeeper's any-consequent rules with
    mlxtend's, and shopkeeper's itemsets + one-item rules with pyfim's rule
    call (which mines again). Memory is judged twice: data-dependent (warmed
    process) and first call in a fresh process (one-off costs included).
    """
    out: dict[str, list[dict[str, Any]]] = {
        "speed_vs_mlxtend": [],
        "vs_pyfim": [],
        "memory": [],
        "memory_fresh": [],
        "process_fresh": [],
    }
    for r in rows:
        label = f"{r['dataset']} {r['min_support']} {r['step']}"
        t = r["time_s"]
        ours_name = "shopkeeper" if r["step"] == "itemsets" else "shopkeeper_any"
        like_pyfim = t["shopkeeper" if r["step"] == "itemsets" else "shopkeeper_itemsets_plus_1c"]
        speed = _ratio(t["mlxtend"], t[ours_name])
        out["speed_vs_mlxtend"].append({"row": label, "ratio": speed, "met": _ge(speed, 10)})
        vs = _ratio(like_pyfim, t["pyfim"])
        out["vs_pyfim"].append({"row": label, "ratio": vs, "met": vs is not None and vs <= 2})
        columns = (
            ("memory", "memory_mb"),
            ("memory_fresh", "memory_fresh_mb"),
            ("process_fresh", "process_fresh_mb"),
        )
        for key, column in columns:
            ours, theirs = r[column][ours_name], r[column]["mlxtend"]
            met = _no_more(ours, theirs)
            out[key].append({"row": label, "shopkeeper": ours, "mlxtend": theirs, "met": met})
    return {k: {"rows": v, "met": all(x["met"] for x in v)} for k, v in out.items()}


def _ge(x: float | None, bound: float) -> bool:
    return x is not None and x >= bound


def _f(x: float | None, fmt: str = "{:.3f}") -> str:
    return "–" if x is None else fmt.format(x)


def _ms(x: float | None) -> str:
    return "–" if x is None else f"{x * 1e3:,.1f}"


def render(res: dict[str, Any], meta: dict[str, Any]) -> str:
    rows, goal, cold, cust = res["rows"], res["targets"], res["cold"], res["customers"]
    out = [
        "# Market-basket benchmark",
        "",
        f"Run {meta['date']} on {meta['machine']}, {meta['cpus']} cores (shared machine), "
        f"Python {meta['python']}; mlxtend {meta['mlxtend']}, pyfim {meta['pyfim']}, "
        f"numba {meta['numba']}, pandas {meta['pandas']}. Written by "
        "`bench/basket_bench.py` in one run (total "
        f"{meta['total_s']:.0f} s); protocol: `shared/benchmarks/forecast-and-basket.md` "
        "section B. Miner source measured: "
        + ", ".join(f"`{k}` {v}" for k, v in meta["miner_sha256"].items())
        + " (sha256, first 16 hex digits).",
        "",
        "Every (library, data set, support, step) ran in its own fresh processes (one "
        "*fresh*, one *warmed*, see the memory section) with every thread pool at one "
        f"thread. Time = median of {meta['repeats']} calls in the warmed process, after one "
        "more warm-up call on the real data. shopkeeper ran the kernels compiled at install "
        f"({meta['kernels']}); the JIT fallback's cold first call is below. Memory = peak "
        "resident memory: the kernel's peak mark is "
        "reset before the step and read with `getrusage(RUSAGE_SELF).ru_maxrss`, so compiled "
        "and C allocations count. Itemsets step: peak above the process's baseline after "
        "imports and loading the baskets, the library's input included (shopkeeper's "
        "`Baskets`, mlxtend's one-hot frame). Rules step: peak above what the process held "
        "just before the call (the itemsets are already in memory; pyfim's rule call mines "
        "again, so its figure covers both).",
        "",
        "## Counts (every library identical)",
        "",
        "Itemsets and rule sets are compared as digests of their canonical text (sorted "
        "items and absolute counts; antecedent ⇒ consequent); the run fails on any "
        "difference. `1c` = one-item consequents (arules' and pyfim's convention), `all` = "
        "any consequent size (mlxtend's).",
        "",
        "| data | min support | itemsets (max size) | rules 1c @0.5 | rules all @0.5 | "
        "rules 1c @0.8 | rules all @0.8 | agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for dataset, setting in SETTINGS.items():
        for s in setting["supports"]:
            items = next(
                r
                for r in rows
                if (r["dataset"], r["min_support"], r["step"]) == (dataset, s, "itemsets")
            )
            cells = []
            for c in (0.5, 0.8):
                rr = [
                    r
                    for r in rows
                    if (r["dataset"], r["min_support"], r["step"]) == (dataset, s, f"rules@{c}")
                ]
                cells += [f"{rr[0]['count_1c']:,}", f"{rr[0]['count_all']:,}"] if rr else ["–"] * 2
            out.append(
                f"| {dataset} | {s} | {items['count']:,} ({items['max_size']}) | "
                + " | ".join(cells)
                + f" | {'yes' if not res['problems'] else 'see below'} |"
            )
    out += [
        "",
        "Groceries 0.001 @0.8: **410** one-item-consequent rules (the arules anchor) and 413 "
        "with any consequent, from shopkeeper, mlxtend (413, of which 410 one-item) and pyfim "
        "(410, `mode='o'`). pyfim cannot make rules with multi-item consequents.",
        "",
        "## Time (seconds, median)",
        "",
        "| data | min support | step | shopkeeper | mlxtend | pyfim | mlxtend / shopkeeper | "
        "shopkeeper / pyfim |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r["time_s"]
        if r["step"] == "itemsets":
            out.append(
                f"| {r['dataset']} | {r['min_support']} | itemsets | "
                f"{_f(t['shopkeeper'], '{:.4f}')} | {_f(t['mlxtend'])} | "
                f"{_f(t['pyfim'], '{:.4f}')} | "
                f"{_f(_ratio(t['mlxtend'], t['shopkeeper']), '{:.0f}×')} | "
                f"{_f(_ratio(t['shopkeeper'], t['pyfim']), '{:.2f}×')} |"
            )
        else:
            capped = " (capped)" if r["mlxtend_capped"] else ""
            out.append(
                f"| {r['dataset']} | {r['min_support']} | {r['step']} | "
                f"all {_f(t['shopkeeper_any'], '{:.4f}')}; 1c {_f(t['shopkeeper_1c'], '{:.4f}')};"
                f" itemsets+1c {_f(t['shopkeeper_itemsets_plus_1c'], '{:.4f}')} | "
                f"{_f(t['mlxtend'])}{capped} | {_f(t['pyfim'], '{:.4f}')} | "
                f"{_f(_ratio(t['mlxtend'], t['shopkeeper_any']), '{:.0f}×')} (all) | "
                f"{_f(_ratio(t['shopkeeper_itemsets_plus_1c'], t['pyfim']), '{:.2f}×')} "
                "(itemsets+1c) |"
            )
    out += [
        "",
        "Rules: mlxtend makes rules with any consequent from its itemsets, compared with "
        "shopkeeper's `consequents=\"any\"`; pyfim's rule target mines again and makes "
        "one-item consequents only, compared with shopkeeper's itemsets + one-item rules. "
        "Input building, not in the figures above (median-free, one call): "
        + "; ".join(
            f"{r['dataset']} {r['min_support']}: shopkeeper `Baskets.from_lists` "
            f"{r['prep_s']['shopkeeper']:.3f} s, mlxtend one-hot {r['prep_s']['mlxtend']:.3f} s"
            for r in rows
            if r["step"] == "itemsets"
        )
        + ".",
        "",
        "## Peak memory above baseline (MB)",
        "",
        "Two figures per library: *warmed* = the process first ran the same steps on four toy "
        "baskets, so the baseline already holds one-off costs (lazily imported "
        "pandas/scipy/pyarrow modules) and the figure is what the data "
        "costs; *fresh* = the first call in a new process, one-off costs included. Rules: "
        "shopkeeper's any-consequent rules (one-item in brackets).",
        "",
        "| data | min support | step | shopkeeper warmed | mlxtend warmed | pyfim warmed | "
        "shopkeeper fresh | mlxtend fresh | pyfim fresh | ≤ mlxtend (warmed / fresh) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours = "shopkeeper" if r["step"] == "itemsets" else "shopkeeper_any"
        cells = []
        for column in ("memory_mb", "memory_fresh_mb"):
            m = r[column]
            extra = "" if ours == "shopkeeper" else f" ({_f(m['shopkeeper_1c'], '{:.1f}')})"
            cells += [
                f"{_f(m[ours], '{:.1f}')}{extra}",
                _f(m["mlxtend"], "{:.1f}"),
                _f(m["pyfim"], "{:.1f}"),
            ]
        oks = [
            "yes" if _no_more(r[c][ours], r[c]["mlxtend"]) else "no"
            for c in ("memory_mb", "memory_fresh_mb")
        ]
        out.append(
            f"| {r['dataset']} | {r['min_support']} | {r['step']} | "
            + " | ".join(cells)
            + f" | {' / '.join(oks)} |"
        )
    items = [r for r in rows if r["step"] == "itemsets"]
    out += [
        "",
        "Where the itemsets step's memory goes (warmed; MB): building the input, then the "
        "search's own growth over it. "
        + "; ".join(
            f"{r['dataset']} {r['min_support']}: input shopkeeper "
            f"{r['input_mb']['shopkeeper']:.1f} / mlxtend {r['input_mb']['mlxtend']:.1f}, "
            f"search shopkeeper {r['search_mb']['shopkeeper']:.1f} / mlxtend "
            f"{r['search_mb']['mlxtend']:.1f} / pyfim {r['search_mb']['pyfim']:.1f}"
            for r in items
        )
        + ". In a fresh process shopkeeper's first search grows by "
        + ", ".join(f"{r['first_search_mb']:.1f}" for r in items)
        + " MB (same order), one-off costs included. "
        f"Differences under {MEMORY_TOLERANCE_MB:.0f} MB count as equal.",
        "",
        f"Process baselines (imports + baskets, fresh mode): shopkeeper "
        f"{res['baselines']['shopkeeper']}, mlxtend {res['baselines']['mlxtend']}, pyfim "
        f"{res['baselines']['pyfim']} MB (groceries / instacart).",
        "",
        "A step's fresh figure holds whatever one-off cost falls into it: the first pandas "
        "DataFrame a process builds, for one, loads several MB of pandas' internals, which "
        "mlxtend pays in its one-hot input and shopkeeper (whose input is plain numpy) in its "
        "first rules frame. The whole process is what a user's machine must hold:",
        "",
        "| data | min support | step | shopkeeper | mlxtend | pyfim | ≤ mlxtend |",
        "|---|---|---|---|---|---|---|",
        *(_process_row(r) for r in rows),
        "",
        "## shopkeeper's first call",
        "",
        "The first call per process, compiled kernels: "
        + "; ".join(
            f"{r['dataset']} {r['min_support']} {r['first_call_s']:.2f} s"
            for r in rows
            if r["step"] == "itemsets"
        )
        + ". Without the compiled module (numba's JIT, the fallback when the install could "
        "not compile, or a checkout whose kernels were edited since), Groceries 0.001 in a "
        "fresh process with an empty `NUMBA_CACHE_DIR`: first call "
        f"**{cold['first_s']:.2f} s** (numba compiles the miner), second call "
        f"{cold['second_s'] * 1e3:.1f} ms; peak memory of the compiling call "
        f"{cold['memory']['itemsets']['peak_above_baseline_mb']:.0f} MB above baseline.",
        "",
        "## Instacart: orders vs customers (watch the data)",
        "",
        f"The sample's {cust['orders']:,} orders come from {cust['customers']} users. "
        "The basket basis counts orders; the customer basis counts each user once however "
        "many of their orders hold the itemset. Customer thresholds are set to the same "
        "absolute minimum counts (16 and 31); 0.001 of 593 users would be one user, where "
        "every subset of every order is frequent. Rules at confidence 0.5 on the same basis.",
        "",
        "That case was tried by hand while writing this benchmark (customer basis, min "
        "support 0.001, so at least one user): the search ran 150 s, grew to 22 GB resident "
        "and ended in `MemoryError`. The miner has no guard against a threshold that "
        "explodes; reported to the lead.",
        "",
        "| basis | min support (count) | itemsets | max size | by size | single-user by size "
        "| rules 1c | rules all (single-user) | mine s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in cust["rows"]:
        out.append(
            f"| {r['basis']} | {r['min_support']:.4f} (≥{r['min_count']}) | {r['itemsets']:,} | "
            f"{r['max_size']} | {', '.join(map(str, r['by_size']))} | "
            f"{', '.join(map(str, r['single_customer_by_size']))} | {r['rules_1c']:,} | "
            f"{r['rules_all']:,} ({r['rules_all_single_user']:,}) | {r['mine_s']:.3f} |"
        )
    out += ["", "## Targets", ""]
    names = {
        "speed_vs_mlxtend": "mlxtend time / shopkeeper time ≥ 10× (itemsets and rules)",
        "vs_pyfim": "shopkeeper time / pyfim time ≤ 2×",
        "memory": "shopkeeper peak memory ≤ mlxtend's, warmed (what the data costs)",
        "memory_fresh": "shopkeeper peak memory ≤ mlxtend's, first call in a fresh process",
        "process_fresh": "shopkeeper's whole process ≤ mlxtend's (fresh: imports, baskets, "
        "every step)",
    }
    for key, title in names.items():
        g = goal[key]
        out.append(f"- **{title}: {'met' if g['met'] else 'not met'}.** " + _goal_detail(key, g))
    if res["problems"]:
        out += ["", "## DISAGREEMENTS", "", *[f"- {p}" for p in res["problems"]]]
    slow = res["jobs"]["warmed"].get("mlxtend/instacart/0.001/rules/0.5/None", {})
    notes = list(res["notes"])
    if not any("cap" in n for n in notes) and "timing" in slow:
        notes.append(
            f"No job reached the {meta['cap_s']:.0f} s cap: mlxtend's slowest step, Instacart "
            f"0.001 rules, took {slow['timing']['median_s']:.1f} s a call "
            f"({slow['process_s']:.0f} s for its whole process)."
        )
    notes.append(
        "Timings are milliseconds on a shared 2-core machine: ratios of a few-ms steps "
        "move between runs. Below about a millisecond, shopkeeper's rule calls are mostly "
        "the fixed cost of building one pandas DataFrame."
    )
    out += ["", "## Notes", "", *[f"- {n}" for n in notes]]
    return "\n".join(out) + "\n"


def _process_row(r: dict[str, Any]) -> str:
    m = r["process_fresh_mb"]
    ours = m["shopkeeper" if r["step"] == "itemsets" else "shopkeeper_any"]
    ok = "yes" if _no_more(ours, m["mlxtend"]) else "no"
    cells = " | ".join(_f(x, "{:.0f}") for x in (ours, m["mlxtend"], m["pyfim"]))
    return f"| {r['dataset']} | {r['min_support']} | {r['step']} | {cells} | {ok} |"


def _goal_detail(key: str, goal: dict[str, Any]) -> str:
    bits = []
    for r in goal["rows"]:
        mark = "" if r["met"] else " ✗"
        if key.startswith("memory") or key == "process_fresh":
            bits.append(
                f"{r['row']}: {_f(r['shopkeeper'], '{:.1f}')} vs {_f(r['mlxtend'], '{:.1f}')} MB"
                f"{mark}"
            )
        elif key == "speed_vs_mlxtend":
            bits.append(f"{r['row']}: {_f(r['ratio'], '{:.0f}×')}{mark}")
        else:
            bits.append(f"{r['row']}: {_f(r['ratio'], '{:.2f}×')}{mark}")
    parts = []
    for kind in ("itemsets", "rules"):
        mine = [r for r in goal["rows"] if (kind == "itemsets") == r["row"].endswith("itemsets")]
        held = sum(r["met"] for r in mine)
        parts.append(f"{kind} {held} of {len(mine)} rows")
    return "Met on " + ", ".join(parts) + ". " + "; ".join(bits) + "."


def _miner_files() -> list[Path]:
    import shopkeeper.basket

    here = Path(shopkeeper.basket.__file__).parent
    names = ("_itemsets.py", "_kernels.py", "_mine.py", "_splits.py", "_aot.py")
    return [here / name for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--cap", type=float, default=180.0, help="seconds allowed per job")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    if not (GROCERIES.exists() and INSTACART.exists()):
        raise SystemExit(f"needs {GROCERIES} and {INSTACART}")
    start = time.perf_counter()

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)

    results: dict[str, dict[str, Any]] = {"fresh": {}, "warmed": {}}
    notes: list[str] = []
    for mode in ("fresh", "warmed"):
        for spec in jobs(args.repeats, mode):
            key = _key(spec)
            r = results[mode][key] = _spawn(spec, args.cap)
            if r.get("capped"):
                notes.append(f"{mode} {key} stopped after {args.cap:.0f} s (cap): no figures.")
                log(f"{mode} {key}: CAPPED at {args.cap:.0f} s")
                continue
            log(
                f"{mode} {key}: {r['count']:,} in {r['timing']['median_s']:.4f} s, "
                f"process {r['process_s']:.1f} s"
            )
            if not r["peak_reset"]:
                notes.append(f"{mode} {key}: peak mark not reset; memory is an upper bound")
    with tempfile.TemporaryDirectory() as cache:
        cold_spec = {"library": "cold", "dataset": "groceries", "min_support": 0.001}
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "SHOPKEEPER_BASKET_JIT": "1"}
        cold = _spawn(cold_spec, args.cap, env=env)
    log(f"cold first call {cold['first_s']:.2f} s")
    customers = _spawn({"library": "customers"}, args.cap)
    log("customer basis done")
    rows = summarise(results["warmed"], results["fresh"])
    problems = check(results["warmed"]) + check(results["fresh"])
    kernels = sorted({r["kernels"] for m in results.values() for r in m.values() if "kernels" in r})
    if kernels != ["compiled"]:
        problems.append(f"shopkeeper's kernels were {kernels}: reinstall to compile them")
    baselines = {
        lib: " / ".join(
            "{:.0f}".format(results["fresh"][_key(_first_job(lib, d))]["baseline_mb"])
            for d in SETTINGS
        )
        for lib in LIBRARIES
    }
    import numba
    import pandas as pd

    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "mlxtend": importlib.metadata.version("mlxtend"),
        "pyfim": importlib.metadata.version("pyfim"),
        "numba": numba.__version__,
        "pandas": pd.__version__,
        "kernels": ", ".join(kernels),
        "repeats": args.repeats,
        "cap_s": args.cap,
        # The miner's source is hashed so a figure can be tied to the code it measured.
        "miner_sha256": {
            f.name: hashlib.sha256(f.read_bytes()).hexdigest()[:16] for f in _miner_files()
        },
        "total_s": time.perf_counter() - start,
    }
    res = {
        "rows": rows,
        "targets": targets(rows),
        "cold": cold,
        "customers": customers,
        "baselines": baselines,
        "problems": problems,
        "notes": notes,
        "jobs": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "basket.json").write_text(json.dumps({"meta": meta, "results": res}, indent=2))
    text = render(res, meta)
    (RESULTS / "basket.md").write_text(text)
    print(text)
    if problems:
        # Written first so the evidence stays; then fail loudly.
        raise SystemExit("libraries disagree:\n" + "\n".join(problems))


if __name__ == "__main__":
    main()
