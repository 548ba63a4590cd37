"""Customer-analytics benchmark: lifetime value against ``lifetimes``, propensity on the demo.

1. **CDNOW, BG/NBD / Pareto/NBD / Gamma-Gamma** (protocol of
   ``shared/benchmarks/clv-ope-propensity-results.md`` section 1): both
   libraries fit the published summary (``cdnow_customers_summary.csv``);
   shopkeeper also fits the summary it builds itself from the contract tables
   (the CDNOW sample converted by the adapter and loaded through ingest).
   Log-likelihoods on the published scale (FHL 2005 eq. 6) for both. Fit
   time: median of 7 fits after one warm-up, both libraries under the same
   one-thread BLAS limit, in this one process. The same on the full CDNOW
   master file (23,570 customers) for scale.
2. **CDNOW holdout**: calibrate on weeks 1-39, predict weeks 40-78, per
   customer and in total, with lifetimes' predictions beside.
3. **Customer propensity on the demo shop** (default size, seed 7): the
   out-of-time check of ``train_customer_propensity`` (30-day horizon),
   scored against who did buy and against the planted truth: each
   customer's simulated purchase rate and whether they were still active,
   which give the true probability of an order in the window (the oracle).

    python bench/customers_bench.py [--skip-demo]

Writes ``bench/results/customers.md`` and ``customers.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from shopkeeper.adapters import convert
from shopkeeper.customers import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    holdout_check,
    load_history,
    rfm_summary,
)
from shopkeeper.customers._features import labelled
from shopkeeper.customers._propensity import train_customer_propensity
from shopkeeper.customers._sessions import load_sessions, train_session_propensity
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(os.environ.get("SHOPKEEPER_SHARED_DATA", Path(__file__).parents[2] / "shared/data"))
CDNOW = SHARED / "cdnow"
REPEATS = 7


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    fn()  # warm-up: imports and caches
    times = []
    out = None
    for _ in range(REPEATS):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return out, statistics.median(times)


def _lifetimes() -> Any:
    warnings.filterwarnings("ignore")
    import lifetimes

    return lifetimes


def _summary_from_contract(file_name: str) -> pd.DataFrame:
    """CDNOW through the adapter, ingest and the store, then shopkeeper's own summary."""
    tables = convert("cdnow_sample" if "sample" in file_name else "cdnow", CDNOW)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'cdnow.db'}")
        store.create()
        load_frames(tables, store)
        history = load_history(store)
        store.engine.dispose()
    return rfm_summary(history.orders, "1997-09-30")


def _published_ll(params: dict[str, float], s: pd.DataFrame) -> float:
    model = BetaGeo()
    from shopkeeper.customers._clv import FitInfo

    model.info = FitInfo(params, 0.0, len(s), 0, 0.0)
    return float(model.log_likelihood(s["frequency"], s["recency"], s["T"]).sum())


def bench_clv(log: Callable[[str], None]) -> dict[str, Any]:
    lt = _lifetimes()
    published = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    own = _summary_from_contract("sample")
    out: dict[str, Any] = {}
    with threadpool_limits(1):
        f, x, T = published["frequency"], published["recency"], published["T"]
        ours, t_ours = _timed(lambda: BetaGeo().fit(f, x, T))
        theirs, t_theirs = _timed(lambda: lt.BetaGeoFitter(penalizer_coef=0.0).fit(f, x, T))
        own_fit = BetaGeo().fit_summary(own)
        their_params = {k: float(v) for k, v in theirs.params_.items()}
        out["bgnbd"] = {
            "shopkeeper": {**ours.params, "ll": ours.info.log_likelihood, "fit_s": t_ours},
            "shopkeeper_own_summary": {**own_fit.params, "ll": own_fit.info.log_likelihood},
            "lifetimes": {
                **their_params,
                "ll": _published_ll(their_params, published),
                "fit_s": t_theirs,
            },
            "speedup": t_theirs / t_ours,
        }
        log(f"BG/NBD: shopkeeper {t_ours * 1e3:.1f} ms, lifetimes {t_theirs * 1e3:.1f} ms")
        ours_p, tp_ours = _timed(lambda: ParetoNBD().fit(f, x, T))
        theirs_p, tp_theirs = _timed(lambda: lt.ParetoNBDFitter(penalizer_coef=0.0).fit(f, x, T))
        out["paretonbd"] = {
            "shopkeeper": {**ours_p.params, "ll": ours_p.info.log_likelihood, "fit_s": tp_ours},
            "lifetimes": {**{k: float(v) for k, v in theirs_p.params_.items()}, "fit_s": tp_theirs},
            "speedup": tp_theirs / tp_ours,
        }
        log(f"Pareto/NBD: shopkeeper {tp_ours * 1e3:.1f} ms, lifetimes {tp_theirs * 1e3:.1f} ms")
        repeat = own[own["frequency"] > 0]
        gg, tg_ours = _timed(lambda: GammaGamma().fit(repeat["frequency"], repeat["monetary"]))
        gg_lt, tg_theirs = _timed(
            lambda: lt.GammaGammaFitter(penalizer_coef=0.0).fit(
                repeat["frequency"], repeat["monetary"]
            )
        )
        out["gamma_gamma"] = {
            "customers": len(repeat),
            "shopkeeper": {**gg.params, "ll": gg.info.log_likelihood, "fit_s": tg_ours},
            "lifetimes": {**{k: float(v) for k, v in gg_lt.params_.items()}, "fit_s": tg_theirs},
            "speedup": tg_theirs / tg_ours,
        }
        log(f"Gamma-Gamma: shopkeeper {tg_ours * 1e3:.1f} ms, lifetimes {tg_theirs * 1e3:.1f} ms")
        master = _master_summary()
        fm, xm, Tm = master["frequency"], master["recency"], master["T"]
        big, tb_ours = _timed(lambda: BetaGeo().fit(fm, xm, Tm))
        big_lt, tb_theirs = _timed(lambda: lt.BetaGeoFitter(penalizer_coef=0.0).fit(fm, xm, Tm))
        out["bgnbd_master"] = {
            "customers": len(master),
            "shopkeeper": {**big.params, "fit_s": tb_ours},
            "lifetimes": {**{k: float(v) for k, v in big_lt.params_.items()}, "fit_s": tb_theirs},
            "speedup": tb_theirs / tb_ours,
        }
        log(f"BG/NBD master: shopkeeper {tb_ours * 1e3:.1f} ms, lifetimes {tb_theirs * 1e3:.1f}")
    out["holdout"] = _holdout(lt)
    return out


def _master_summary() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "CDNOW_master.txt", sep=r"\s+", header=None, dtype=str)
    if not raw.iloc[0, 1].isdigit():
        raw = raw.iloc[1:]
    raw = raw.iloc[:, [0, -3, -1]]
    raw.columns = ["customer_id", "date", "value"]
    raw["at"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return rfm_summary(raw, "1997-09-30")


def _holdout(lt: Any) -> dict[str, Any]:
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
    )
    raw["at"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    check = holdout_check(raw, "1997-09-30", "1998-06-30")
    per = check.customers
    fitted = lt.BetaGeoFitter(penalizer_coef=0.0).fit(per["frequency"], per["recency"], per["T"])
    theirs = fitted.conditional_expected_number_of_purchases_up_to_time(
        39, per["frequency"], per["recency"], per["T"]
    ).to_numpy()
    actual = per["actual"].to_numpy()
    return {
        "shopkeeper": check.totals,
        "by_frequency": check.by_frequency,
        "lifetimes": {
            "predicted": float(theirs.sum()),
            "mae": float(np.abs(theirs - actual).mean()),
            "max_abs_diff_per_customer": float(np.abs(theirs - per["predicted"]).max()),
        },
    }


def bench_demo(log: Callable[[str], None]) -> dict[str, Any]:
    from shopkeeper.demo import DemoConfig, generate, write_shop
    from shopkeeper.ingest import load_folder

    cfg = DemoConfig.preset("default")
    shop = generate(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shop"
        write_shop(shop, folder)
        store = Store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        store.create()
        load_folder(folder, store)
        started = time.perf_counter()
        history = load_history(store)
        read_s = time.perf_counter() - started
        sessions = load_sessions(store)
        store.engine.dispose()
    log(f"demo read in {read_s:.1f} s")
    started = time.perf_counter()
    fitted = train_customer_propensity(history, horizon_days=30)
    train_s = time.perf_counter() - started
    log(f"propensity trained in {train_s:.1f} s")
    test_day = pd.Timestamp(fitted.test_date)
    features, bought = labelled(history, test_day, 30, categories=fitted.categories)
    preds = fitted.test_predictions.reindex(features.index)
    truth = shop.truth["customers"]
    oracle = _oracle(truth, shop.truth["seasonality"], cfg.start, test_day, 30, features.index)
    rows = []
    candidates = {
        "recency (days since last order, lower first)": -features["recency_days"].where(
            features["recency_days"] >= 0, 10_000
        ),
        "BG/NBD expected orders": features["expected_orders"],
        **{f"shopkeeper {k}": preds[k] for k in ("logistic", "boosting", "blend") if k in preds},
        "planted truth (oracle)": oracle,
    }
    for name, score in candidates.items():
        s = score.to_numpy(dtype=float)
        rows.append(
            {
                "model": name,
                "auc_vs_bought": float(roc_auc_score(bought, s)),
                "spearman_vs_truth": float(stats.spearmanr(s, oracle.to_numpy()).statistic),
            }
        )
    started = time.perf_counter()
    session_model = train_session_propensity(sessions)
    session_s = time.perf_counter() - started
    log(f"session model trained in {session_s:.1f} s")
    keep = ("roc_auc", "pr_auc", "brier", "log_loss", "fit_s")
    return {
        "sessions": {
            "sessions": session_model.sessions,
            "test_from": session_model.test_from,
            "positive_rate": float(sessions["bought"].mean()),
            "train_s": session_s,
            "chosen": session_model.kind,
            "evaluation": {k: {m: r[m] for m in keep} for k, r in session_model.evaluation.items()},
            "drivers": session_model.drivers[:5],
        },
        "customers": len(features),
        "buyers": int(bought.sum()),
        "test_date": fitted.test_date,
        "train_s": train_s,
        "chosen": fitted.kind,
        "evaluation": {
            k: {
                m: v
                for m, v in r.items()
                if m in ("roc_auc", "pr_auc", "brier", "log_loss", "fit_s")
            }
            for k, r in fitted.evaluation.items()
        },
        "rows": rows,
    }


def _oracle(
    truth: dict[str, Any],
    seasonality: dict[str, Any],
    start: str,
    test_day: pd.Timestamp,
    horizon: int,
    index: pd.Index,
) -> pd.Series:
    """P(at least one order in the window) from the simulation's own rates and lifetimes."""
    first = (test_day - pd.Timestamp(start)).days + 1
    mult = np.asarray(seasonality["daily_multiplier"], dtype=float)
    exposure = float(mult[first : first + horizon].sum())
    frame = pd.DataFrame(
        {
            "rate": truth["purchase_rate"],
            "churn": [np.inf if c is None else c for c in truth["churn_day"]],
            "alive_end": truth["alive_at_end"],
        },
        index=truth["customer_id"],
    )
    alive0 = frame["alive_end"] | np.isfinite(frame["churn"])
    alive = alive0 & (frame["churn"] >= first)
    p = alive * (1.0 - np.exp(-frame["rate"] * exposure))
    return p.reindex(index).fillna(0.0)


def render(res: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        "# Customer analytics benchmark",
        "",
        f"Run {meta['date']} on {meta['machine']}, Python {meta['python']}, "
        f"lifetimes {meta['lifetimes']}. Written by `bench/customers_bench.py`.",
        "",
    ]
    clv = res.get("clv")
    if clv:
        b = clv["bgnbd"]
        lines += [
            "## 1. BG/NBD on the CDNOW sample (2,357 customers)",
            "",
            "| fit | r | alpha | a | b | log-lik | fit time (ms) |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, key in (
            ("shopkeeper (published summary)", "shopkeeper"),
            ("shopkeeper (own summary from the contract tables)", "shopkeeper_own_summary"),
            ("lifetimes 0.11.3 (published summary)", "lifetimes"),
        ):
            p = b[key]
            t = f"{p['fit_s'] * 1e3:.1f}" if "fit_s" in p else "–"
            lines.append(
                f"| {name} | {p['r']:.4f} | {p['alpha']:.4f} | {p['a']:.4f} | {p['b']:.4f} "
                f"| {p['ll']:.2f} | {t} |"
            )
        lines += [
            "| published (Fader, Hardie, Lee 2005) | 0.243 | 4.414 | 0.793 | 2.426 | -9582.4 | – |",
            "",
            f"Speed: shopkeeper fits **{b['speedup']:.1f}×** faster than lifetimes in this run "
            "(target ≥ 3×).",
            "",
        ]
        p = clv["paretonbd"]
        g = clv["gamma_gamma"]
        m = clv["bgnbd_master"]
        lines += [
            "## 2. Pareto/NBD, Gamma-Gamma, and BG/NBD at 10× the customers",
            "",
            "| model | shopkeeper | lifetimes | speed-up |",
            "|---|---|---|---|",
            f"| Pareto/NBD (r, alpha, s, beta) | {_params(p['shopkeeper'])}; LL "
            f"{p['shopkeeper']['ll']:.2f}; {p['shopkeeper']['fit_s'] * 1e3:.0f} ms "
            f"| {_params(p['lifetimes'])}; {p['lifetimes']['fit_s'] * 1e3:.0f} ms "
            f"| {p['speedup']:.1f}× |",
            f"| Gamma-Gamma (p, q, v), {g['customers']} repeat buyers | "
            f"{_params(g['shopkeeper'])}; LL {g['shopkeeper']['ll']:.2f}; "
            f"{g['shopkeeper']['fit_s'] * 1e3:.1f} ms | {_params(g['lifetimes'])}; "
            f"{g['lifetimes']['fit_s'] * 1e3:.1f} ms | {g['speedup']:.1f}× |",
            f"| BG/NBD on CDNOW master, {m['customers']:,} customers | {_params(m['shopkeeper'])};"
            f" {m['shopkeeper']['fit_s'] * 1e3:.1f} ms | {_params(m['lifetimes'])}; "
            f"{m['lifetimes']['fit_s'] * 1e3:.1f} ms | {m['speedup']:.1f}× |",
            "",
            "Published Pareto/NBD (FHL 2005): r 0.55, alpha 10.58, s 0.61, beta 11.67, LL -9595.0."
            " Published Gamma-Gamma (lifetimes docs): p 6.25, q 3.74, v 15.45.",
            "",
        ]
        h = clv["holdout"]
        s = h["shopkeeper"]
        lines += [
            "## 3. Holdout check (calibrate weeks 1-39, predict weeks 40-78)",
            "",
            "| | actual | predicted | rel. error | MAE | RMSE | Pearson r |",
            "|---|---|---|---|---|---|---|",
            f"| shopkeeper BG/NBD | {s['actual']:.0f} | {s['predicted']:.1f} "
            f"| {s['relative_error']:+.3f} | {s['mae']:.4f} | {s['rmse']:.4f} "
            f"| {s['pearson_r']:.3f} |",
            f"| lifetimes BG/NBD | {s['actual']:.0f} | {h['lifetimes']['predicted']:.1f} | "
            f"{(h['lifetimes']['predicted'] - s['actual']) / s['actual']:+.3f} "
            f"| {h['lifetimes']['mae']:.4f} | | |",
            f"| all-zero baseline | | | | {s['mae_zero']:.4f} | {s['rmse_zero']:.4f} | |",
            f"| calibration rate × 39 weeks | | | | {s['mae_rate']:.4f} | | |",
            "",
            f"Largest per-customer difference between the two libraries' predictions: "
            f"{h['lifetimes']['max_abs_diff_per_customer']:.2e}. Anchor: 1,882 actual, "
            "1,653.4 predicted (-12.1%), MAE 0.7855.",
            "",
            "| x (weeks 1-39) | customers | actual mean | predicted mean |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['frequency']} | {r['customers']} | {r['actual_mean']:.3f} "
            f"| {r['predicted_mean']:.3f} |"
            for r in h["by_frequency"]
        ]
        lines.append("")
    demo = res.get("demo")
    if demo:
        lines += [
            "## 4. Customer propensity on the demo shop (30-day horizon)",
            "",
            f"Default demo shop (seed 7), {demo['customers']:,} customers known on the test date "
            f"{demo['test_date']}, {demo['buyers']:,} of whom ordered in the next 30 days. "
            "Models learn from four earlier reference dates only. Oracle: the simulation's "
            "own purchase rate and whether the customer was still active, i.e. the true "
            "probability of an order in the window.",
            "",
            "| score | ROC-AUC vs who bought | Spearman vs planted probability |",
            "|---|---|---|",
        ]
        lines += [
            f"| {r['model']} | {r['auc_vs_bought']:.4f} | {r['spearman_vs_truth']:.3f} |"
            for r in demo["rows"]
        ]
        lines += [
            "",
            "| model | ROC-AUC | PR-AUC | Brier | log-loss | fit (s) |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {r['roc_auc']:.4f} | {r['pr_auc']:.4f} | {r['brier']:.4f} "
            f"| {r['log_loss']:.4f} | {r['fit_s']:.1f} |"
            for k, r in demo["evaluation"].items()
        ]
        lines += [
            "",
            f"Chosen by Brier score: {demo['chosen']}. Whole training (model kinds, drivers, "
            f"refit): {demo['train_s']:.0f} s.",
            "",
        ]
        ses = demo.get("sessions")
        if ses:
            lines += [
                "## 5. Session propensity on the demo shop's own sessions",
                "",
                f"{ses['sessions']:,} sessions ({ses['positive_rate']:.1%} end in a purchase), "
                "counted before their first purchase event; the latest fifth (from "
                f"{ses['test_from']}) is the test, the 30,000 sessions before it train.",
                "",
                "| model | ROC-AUC | PR-AUC | Brier | log-loss | fit (s) |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {k} | {r['roc_auc']:.4f} | {r['pr_auc']:.4f} | {r['brier']:.4f} "
                f"| {r['log_loss']:.4f} | {r['fit_s']:.1f} |"
                for k, r in ses["evaluation"].items()
            ]
            top = ", ".join(d["feature"] for d in ses["drivers"])
            lines += ["", f"Chosen: {ses['chosen']}; strongest drivers: {top}.", ""]
    return "\n".join(lines)


def _params(p: dict[str, float]) -> str:
    keys = [k for k in p if k not in ("ll", "fit_s")]
    return ", ".join(f"{p[k]:.4f}" for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true", help="Only the CDNOW sections.")
    parser.add_argument("--skip-clv", action="store_true", help="Only the demo section.")
    args = parser.parse_args()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    results: dict[str, Any] = {}
    previous = RESULTS / "customers.json"
    if previous.exists():
        results = json.loads(previous.read_text())["results"]
    if not args.skip_clv:
        results["clv"] = bench_clv(log)
    if not args.skip_demo:
        results["demo"] = bench_demo(log)
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "lifetimes": _lifetimes().__version__,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "customers.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=float)
    )
    (RESULTS / "customers.md").write_text(render(results, meta) + "\n")
    print(render(results, meta))


if __name__ == "__main__":
    main()
