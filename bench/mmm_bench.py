"""Marketing-mix benchmark: recovered against planted returns on the demo shop, at two sizes.

For each size the demo shop is generated and loaded into a SQLite store the
way ``shopkeeper demo`` does (days at +08:00), then:

- the mix is fitted on every day (``fit_mix``, its default target: order
  counts, valued per order), timed, and its return on ad spend per channel
  compared with the planted one (``ground_truth.json``: the revenue of the
  orders each channel produced over its spend; the demo makes that causal);
  the marginal return at the current spend is compared with the planted
  curve's slope there; the same fit on the sales themselves
  (``target="sales"``) and per week are reported beside it;
- the holdout check: fitted without the last 56 days, which are forecast
  from their actual spend (WAPE, bias);
- the budget: the current split (the last 28 days' mean spend per channel)
  and the recommended split of the same total are both valued with the
  *planted* curves, so the gain is the true one, not the model's;
- the anchors: PyMC-Marketing's MMM on the same days (in its own virtual
  environment, see the notes), and a ridge regression on raw spend per
  channel with the same controls (added, not multiplied) to show what
  carry-over and saturation add: its return per channel is its coefficient.

Then the default-size shop is drawn again from other seeds and fitted, to
show how much of one shop's recovery is the luck of its draw.

"Meaningful spend": a channel with at least 5% of the total spend. The bound
of the issue (within 20% of the planted return) is judged on those; smaller
channels are reported beside them.

    python bench/mmm_bench.py [--sizes 1,4] [--seeds 8,9,10]

Writes ``bench/results/mmm.md`` and ``mmm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.mmm import MixSettings, allocate, fit_mix, fit_simple, load_mix_data
from shopkeeper.mmm._analysis import holdout_check
from shopkeeper.mmm._model import _controls
from shopkeeper.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
MEANINGFUL_SHARE = 0.05
BOUND = 0.20
HOLDOUT_DAYS = 56


def planted_response(truth: dict[str, Any], spend_per_day: float) -> tuple[float, float]:
    """The planted channel's revenue per day at a steady spend, and its slope there."""
    aov = truth["extra_revenue"] / max(truth["realized_extra_orders"], 1)
    decay, shape, half = truth["decay"], truth["shape"], truth["half_saturation"]

    def revenue(x: float) -> float:
        a = max(x, 0.0) / (1 - decay)  # the planted adstock is not normalised
        return truth["beta_orders_per_day"] * a**shape / (a**shape + half**shape) * aov

    h = max(1e-3, 1e-4 * spend_per_day)
    slope = (revenue(spend_per_day + h) - revenue(max(spend_per_day - h, 0.0))) / (
        spend_per_day + h - max(spend_per_day - h, 0.0)
    )
    return revenue(spend_per_day), slope


def ratios(model: Any, planted: dict[str, Any]) -> dict[str, float]:
    """Fitted over planted return per channel."""
    summary = model.summary().set_index("channel")
    return {n: float(summary.loc[n, "roas"]) / planted[n]["roi"] for n in model.channel_names}


def planted_value_factor(data: Any, planted: dict[str, Any]) -> float:
    """What an ad-brought order was worth against the others, by the ground truth."""
    ad_sales = sum(t["extra_revenue"] for t in planted.values())
    ad_orders = sum(t["realized_extra_orders"] for t in planted.values())
    rest = (data.sales.sum() - ad_sales) / (data.orders.sum() - ad_orders)
    return float(ad_sales / ad_orders / rest)


def build(cfg: DemoConfig, folder: Path) -> tuple[Any, Any, dict[str, Any], float, float]:
    """The demo shop of ``cfg`` in a SQLite store: daily and weekly mix data, the truth."""
    store = Store(f"sqlite:///{folder / 'shop.db'}")
    store.create()
    started = time.perf_counter()
    build_demo(store, folder / "demo-shop", cfg)
    build_s = time.perf_counter() - started
    truth = json.loads((folder / "demo-shop" / "ground_truth.json").read_text())
    started = time.perf_counter()
    data = load_mix_data(store)
    load_s = time.perf_counter() - started
    weekly = load_mix_data(store, frequency="week")
    store.close()
    return data, weekly, truth["advertising"]["channels"], build_s, load_s


def run_seed(seed: int, log: Any) -> dict[str, Any]:
    """Recovery on the default-size shop drawn from another seed: how much is luck."""
    with tempfile.TemporaryDirectory(prefix="shopkeeper-mmm-bench-") as tmp:
        data, _, planted, _, _ = build(DemoConfig(seed=seed), Path(tmp))
    shares = data.spend.sum(axis=1) / data.spend.sum()
    meaningful = [n for n, x in zip(data.channels, shares, strict=True) if x >= MEANINGFUL_SHARE]
    out = {"seed": seed, "meaningful": meaningful}
    for target in ("orders", "sales"):
        out[target] = ratios(fit_mix(data, MixSettings(target=target)), planted)
    log(f"seed {seed}: " + ", ".join(f"{n} {r:.2f}" for n, r in out["orders"].items()))
    return out


def ridge_anchor(data: Any, holdout: int) -> dict[str, Any]:
    """Ridge on raw spend per channel plus the same controls, added: returns = coefficients."""
    from sklearn.linear_model import RidgeCV

    x_ctl, _ = _controls(data, MixSettings())
    features = np.column_stack([data.spend.T, x_ctl[:, 1:]])
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    started = time.perf_counter()
    model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(features / scale, data.sales)
    seconds = time.perf_counter() - started
    coef = model.coef_ / scale
    n = len(data.sales) - holdout
    held = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(features[:n] / scale, data.sales[:n])
    forecast = held.predict(features[n:] / scale)
    actual = data.sales[n:]
    return {
        "roas": {name: float(coef[i]) for i, name in enumerate(data.channels)},
        "fit_s": seconds,
        "holdout_wape": float(np.abs(forecast - actual).sum() / actual.sum()),
        "holdout_bias": float((forecast - actual).sum() / actual.sum()),
    }


PYMC_PYTHON = Path(__file__).resolve().parent / ".work" / "pymc-venv" / "bin" / "python"


def pymc_anchor(data: Any, python: Path, timeout: float) -> dict[str, Any]:
    """PyMC-Marketing's MMM on the same days, in its own environment (``_pymc_mmm.py``)."""
    if not python.exists():
        return {"skipped": f"no {python}"}
    x_ctl, names = _controls(data, MixSettings())
    frame = pd.DataFrame({"date": data.dates, "sales": data.sales})
    for i, name in enumerate(data.channels):
        frame[f"spend_{name}"] = data.spend[i]
    # Its own intercept and yearly Fourier terms replace ours; the rest are the same.
    for i, name in enumerate(names):
        if name != "intercept" and not name.startswith("year "):
            frame[f"control_{i}"] = x_ctl[:, i]
    with tempfile.TemporaryDirectory(prefix="shopkeeper-pymc-") as tmp:
        table = Path(tmp) / "table.csv"
        frame.to_csv(table, index=False)
        script = Path(__file__).resolve().parent / "_pymc_mmm.py"
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [str(python), str(script), str(table)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"skipped": f"stopped after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"skipped": f"failed: {done.stderr[-500:]}"}
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    out["process_s"] = time.perf_counter() - started
    return dict(out)


def run_size(factor: int, log: Any, pymc_python: Path, pymc_timeout: float) -> dict[str, Any]:
    cfg = DemoConfig().scaled(factor) if factor != 1 else DemoConfig()
    with tempfile.TemporaryDirectory(prefix="shopkeeper-mmm-bench-") as tmp:
        data, weekly, planted, build_s, load_s = build(cfg, Path(tmp))
    log(f"{factor}x: demo built in {build_s:.0f} s")
    started = time.perf_counter()
    model = fit_mix(data)
    fit_s = time.perf_counter() - started
    log(f"{factor}x: mix fitted in {fit_s:.1f} s")
    summary = model.summary().set_index("channel")
    total_spend = data.spend.sum()
    current = model.current_spend()
    channels = []
    for i, name in enumerate(model.channel_names):
        t = planted[name]
        share = float(data.spend[data.channels.index(name)].sum() / total_spend)
        _, true_marginal = planted_response(t, float(current[i]))
        row = summary.loc[name]
        channels.append(
            {
                "channel": name,
                "spend_share": share,
                "meaningful": share >= MEANINGFUL_SHARE,
                "planted_roas": t["roi"],
                "roas": float(row["roas"]),
                "roas_low": float(row["roas_low"]),
                "roas_high": float(row["roas_high"]),
                "ratio": float(row["roas"]) / t["roi"],
                "in_interval": bool(row["roas_low"] <= t["roi"] <= row["roas_high"]),
                "current_spend": float(current[i]),
                "planted_marginal": true_marginal,
                "marginal": float(row["marginal_roas"]),
                "planted_decay": t["decay"],
                "decay": float(row.get("adstock_decay", float("nan"))),
                "planted_shape": t["shape"],
                "shape": float(row["hill_shape"]),
            }
        )
    started = time.perf_counter()
    check = holdout_check(data, HOLDOUT_DAYS, MixSettings())
    holdout_s = time.perf_counter() - started
    budget = float(current.sum())
    split = allocate(model, budget)
    now = dict(zip(split.channels, split.current_spend.tolist(), strict=True))
    best = dict(zip(split.channels, split.spend.tolist(), strict=True))
    true_current = sum(planted_response(planted[n], x)[0] for n, x in now.items())
    true_recommended = sum(planted_response(planted[n], x)[0] for n, x in best.items())
    simple = fit_simple(data.spend.sum(axis=0), data.sales)
    on_sales = fit_mix(data, MixSettings(target="sales"))
    on_weeks = fit_mix(weekly)
    anchor = ridge_anchor(data, HOLDOUT_DAYS)
    pymc = pymc_anchor(data, pymc_python, pymc_timeout)
    log(f"{factor}x: PyMC-Marketing {pymc.get('fit_s', pymc.get('skipped'))}")
    return {
        "factor": factor,
        "customers": cfg.customers,
        "days": len(data),
        "mean_sales_per_day": float(data.sales.mean()),
        "build_s": build_s,
        "load_s": load_s,
        "fit_s": fit_s,
        "holdout_fit_s": holdout_s,
        "converged": model.converged,
        "channels": channels,
        "value_factor": {
            "fitted": None if model.value is None else model.value.factor,
            "planted": planted_value_factor(data, planted),
        },
        "sales_target": ratios(on_sales, planted),
        "weekly": {"weeks": len(weekly), "ratios": ratios(on_weeks, planted)},
        "holdout": {k: check[k] for k in ("wape", "mape", "bias", "from", "to", "periods")},
        "budget": {
            "per_day": budget,
            "current": now,
            "recommended": best,
            "model_gain_per_day": split.gain,
            "true_current_per_day": true_current,
            "true_recommended_per_day": true_recommended,
            "true_gain_per_day": true_recommended - true_current,
            "true_gain_share_of_sales": (true_recommended - true_current) / data.sales.mean(),
        },
        "simple": {"slope": simple.slope, "intercept": simple.intercept, "r2": simple.r2},
        "ridge": anchor,
        "pymc": pymc,
    }


def _pymc_line(pymc: dict[str, Any], ours_s: float) -> str:
    if "roas" not in pymc:
        return f"PyMC-Marketing: not run ({pymc.get('skipped')})."
    return (
        f"PyMC-Marketing (geometric adstock, logistic saturation, additive controls, NUTS "
        f"2 chains × 500 draws after 500 tuning): fit {pymc['fit_s']:.0f} s against "
        f"shopkeeper's {ours_s:.1f} s ({pymc['fit_s'] / max(ours_s, 1e-9):.0f}×), "
        f"{pymc['divergences']} divergences."
    )


def _pymc_cell(pymc: dict[str, Any], channel: dict[str, Any]) -> str:
    if "roas" not in pymc:
        return "–"
    r = pymc["roas"][channel["channel"]]
    ratio = r["roas"] / channel["planted_roas"]
    return f"{r['roas']:.2f} ({r['low']:.2f}-{r['high']:.2f}; {ratio:.2f}×)"


def _ratio_list(ratios: dict[str, float]) -> str:
    return ", ".join(f"{n} {r:.2f}" for n, r in ratios.items())


def _seeds_section(seeds: list[dict[str, Any]]) -> list[str]:
    if not seeds:
        return []
    out = [
        "## Other draws of the default shop",
        "",
        "The same size drawn from other seeds (fitted / planted return; * marks a channel "
        "with meaningful spend outside 20%):",
        "",
        "| seed | target | " + " | ".join(seeds[0]["orders"]) + " | within 20% |",
        "|---|---|" + "---|" * (len(seeds[0]["orders"]) + 1),
    ]
    for row in seeds:
        for target in ("orders", "sales"):
            r = row[target]
            held = [n for n in row["meaningful"] if abs(r[n] - 1) <= BOUND]
            cells = [
                f"{r[n]:.2f}" + ("*" if n in row["meaningful"] and n not in held else "") for n in r
            ]
            out.append(
                f"| {row['seed']} | {target} | " + " | ".join(cells) + f" | {len(held)} of "
                f"{len(row['meaningful'])} |"
            )
    out.append("")
    return out


def render(res: dict[str, Any], meta: dict[str, Any]) -> str:
    out = [
        "# Marketing-mix benchmark",
        "",
        f"Run {meta['date']} on {meta['machine']}, {meta['cpus']} cores (shared machine), "
        f"Python {meta['python']}. Written by `bench/mmm_bench.py` in one run (total "
        f"{meta['total_s']:.0f} s). The demo shop at {len(res['sizes'])} sizes, days at "
        "+08:00; planted returns from its `ground_truth.json` (revenue of the orders each "
        "channel produced / its spend). 'Meaningful' = at least "
        f"{MEANINGFUL_SHARE:.0%} of total spend; the bound is within {BOUND:.0%} of the "
        "planted return.",
        "",
    ]
    for s in res["sizes"]:
        out += [
            f"## {s['factor']}× the default shop ({s['customers']:,} customers, "
            f"{s['days']} days, mean sales {s['mean_sales_per_day']:,.0f} a day)",
            "",
            f"Fit {s['fit_s']:.1f} s (converged: {s['converged']}); building the demo "
            f"{s['build_s']:.0f} s, reading sales and spend {s['load_s']:.1f} s.",
            "",
            "| channel | spend share | planted ROAS | fitted ROAS (90% interval) | fitted / "
            "planted | within 20% | PyMC-Marketing ROAS (90%) | ridge ROAS | planted "
            "marginal | fitted marginal | decay planted / fitted | Hill shape planted / "
            "fitted |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in s["channels"]:
            mark = "" if c["meaningful"] else " (small)"
            ok = "yes" if abs(c["ratio"] - 1) <= BOUND else "no"
            out.append(
                f"| {c['channel']}{mark} | {c['spend_share']:.1%} | {c['planted_roas']:.2f} | "
                f"{c['roas']:.2f} ({c['roas_low']:.2f}-{c['roas_high']:.2f}) | "
                f"{c['ratio']:.2f} | {ok} | {_pymc_cell(s['pymc'], c)} | "
                f"{s['ridge']['roas'][c['channel']]:.2f} | "
                f"{c['planted_marginal']:.2f} | {c['marginal']:.2f} | "
                f"{c['planted_decay']:.2f} / {c['decay']:.2f} | "
                f"{c['planted_shape']:.1f} / {c['shape']:.2f} |"
            )
        h, b, r = s["holdout"], s["budget"], s["ridge"]
        v = s["value_factor"]
        out += [
            "",
            f"An ad-brought order is worth {v['fitted']:.2f} times the shop's usual one by the "
            f"fit, {v['planted']:.2f} by the ground truth. Fitted on the sales themselves "
            "(fitted / planted): " + _ratio_list(s["sales_target"]) + ". Fitted per week "
            f"({s['weekly']['weeks']} weeks): " + _ratio_list(s["weekly"]["ratios"]) + ".",
            "",
            f"Holdout ({h['periods']} days, {h['from']} to {h['to']}, fitted without them, "
            f"forecast from their spend): WAPE {h['wape']:.3f}, bias {h['bias']:+.3f}; the "
            f"ridge anchor: WAPE {r['holdout_wape']:.3f}, bias {r['holdout_bias']:+.3f}.",
            "",
            f"Budget of {b['per_day']:,.0f} a day (the last 28 days' total): the recommended "
            f"split sells {b['true_recommended_per_day']:,.0f} a day through advertising by "
            f"the planted curves, the current split {b['true_current_per_day']:,.0f}: a true "
            f"gain of {b['true_gain_per_day']:,.0f} a day "
            f"({b['true_gain_share_of_sales']:.1%} of sales; the model expected "
            f"{b['model_gain_per_day']:,.0f}). Split (current → recommended): "
            + ", ".join(
                f"{n} {b['current'][n]:,.0f} → {b['recommended'][n]:,.0f}" for n in b["current"]
            )
            + ".",
            "",
            _pymc_line(s["pymc"], s["fit_s"]),
            "",
            f"The simple line: sales = {s['simple']['intercept']:,.0f} + "
            f"{s['simple']['slope']:.2f} × total spend, R² {s['simple']['r2']:.3f}.",
            "",
        ]
    out += _seeds_section(res.get("seeds", []))
    out += ["## Targets", ""]
    for s in res["sizes"]:
        meaningful = [c for c in s["channels"] if c["meaningful"]]
        held = [c for c in meaningful if abs(c["ratio"] - 1) <= BOUND]
        small = [c for c in s["channels"] if not c["meaningful"]]
        out.append(
            f"- {s['factor']}×: {len(held)} of {len(meaningful)} channels with meaningful "
            "spend within 20% of the planted return"
            + (" (met)" if len(held) == len(meaningful) else " (not met)")
            + "; "
            + (
                "smaller channels: "
                + ", ".join(f"{c['channel']} {c['ratio']:.2f}" for c in small)
                + "; "
                if small
                else ""
            )
            + f"the recommended split raises true sales by {s['budget']['true_gain_per_day']:,.0f}"
            " a day" + (" (met)." if s["budget"]["true_gain_per_day"] > 0 else " (not met).")
        )
    for target in ("orders", "sales"):
        rows = res.get("seeds", [])
        if rows:
            held = sum(abs(row[target][n] - 1) <= BOUND for row in rows for n in row["meaningful"])
            total = sum(len(row["meaningful"]) for row in rows)
            out.append(
                f"- Other seeds, target {target}: {held} of {total} meaningful channels within "
                "20% of the planted return."
            )
    out += [
        "",
        "## Notes",
        "",
        "- PyMC-Marketing pins its own numba and pytensor, so it runs in its own virtual "
        "environment: `python -m venv bench/.work/pymc-venv && "
        "bench/.work/pymc-venv/bin/pip install pymc-marketing` (the benchmark skips it "
        "when that is missing).",
    ]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,4", help="demo sizes, as multiples of the default")
    parser.add_argument(
        "--pymc-python",
        type=Path,
        default=PYMC_PYTHON,
        help="python of a virtual environment with pymc-marketing (skipped when missing)",
    )
    parser.add_argument("--pymc-timeout", type=float, default=1800.0, help="seconds per fit")
    parser.add_argument(
        "--seeds", default="8,9,10", help="other seeds of the default shop ('' for none)"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    start = time.perf_counter()

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True)

    sizes = [
        run_size(int(f), log, args.pymc_python, args.pymc_timeout) for f in args.sizes.split(",")
    ]
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "total_s": time.perf_counter() - start,
    }
    seeds = [run_seed(int(x), log) for x in args.seeds.split(",") if x.strip()]
    res = {"sizes": sizes, "seeds": seeds}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mmm.json").write_text(json.dumps({"meta": meta, "results": res}, indent=2))
    text = render(res, meta)
    (RESULTS / "mmm.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
