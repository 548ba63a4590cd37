"""Orders-and-delivery benchmark on the demo shop: late-delivery risk, carriers, flags.

For each shop (the default demo, seed 7; with ``--scale 4`` also four times
the customers):

1. **Late delivery on held-out orders**: orders whose promise has passed,
   sorted by when they were placed; the last 20 % are the test. Shopkeeper's
   calibrated LightGBM against the naive rule (each carrier's late share in
   the training orders), scikit-learn's logistic regression (one-hot,
   standardised) and LightGBM with default settings, all on the same
   features; ROC-AUC, PR-AUC, Brier score, log-loss and fit time (also as a
   ratio to the logistic regression's).
2. **The carrier scorecard next to the planted truth** (``ground_truth.json``
   ``delivery.carriers``): the late share among delivered parcels as the
   simulation counted it, and the planted transit medians and loss odds.
3. **Flags on planted anomalies**: ``plant_anomalies`` multiplies the
   quantities of 150 recent orders of regular customers by 6-12 and adds 40
   bursts of 5-8 orders within three hours; precision and recall of the
   quantity/amount and burst flags (precision counts every natural order
   flagged as a false alarm, so it is a lower bound).

    python bench/orders_bench.py [--scale 4]

Writes ``bench/results/orders.md`` and ``orders.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from shopkeeper.demo import DemoConfig, generate, write_shop
from shopkeeper.ingest import load_folder
from shopkeeper.orders import (
    evaluate_risk,
    flag_orders,
    load_order_book,
    order_features,
    plant_anomalies,
)
from shopkeeper.orders._carriers import carrier_scorecard
from shopkeeper.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
N_JOBS = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_shop(scale: float) -> dict[str, Any]:
    """Every section on the default demo shop times ``scale`` customers."""
    config = DemoConfig.preset("default")
    if scale != 1:
        config = config.scaled(scale)
    with tempfile.TemporaryDirectory(prefix="orders-bench-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        demo = generate(config)
        write_shop(demo, root / "shop")
        tables = {
            name: pd.read_csv(root / "shop" / f"{name}.csv", dtype=str, keep_default_na=False)
            for name in ("orders", "order_lines")
        }
        for frame in tables.values():
            frame.replace("", None, inplace=True)
        planted_tables, planted = plant_anomalies(tables, quantity=150, bursts=40, seed=11)
        for name, frame in planted_tables.items():
            frame.to_csv(root / "shop" / f"{name}.csv", index=False)
        store = Store(f"sqlite:///{root / 'shop.db'}")
        store.create()
        load_folder(root / "shop", store)
        log(f"  shop built and loaded in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        book = load_order_book(store, timezone="+08:00")
        read_s = time.perf_counter() - started
        store.close()

    started = time.perf_counter()
    features = order_features(book)
    features_s = time.perf_counter() - started
    labelled = book.labelled
    X = features.loc[labelled["order_id"]]
    evaluation = evaluate_risk(
        X, labelled["late"].to_numpy(), labelled["ordered_at"], n_jobs=N_JOBS
    )
    log(evaluation.table.round(4).to_string())

    card = carrier_scorecard(book).set_index("carrier")
    truth = demo.truth["delivery"]["carriers"]
    carriers = []
    for name, planted_carrier in truth.items():
        row = card.loc[name]
        carriers.append(
            {
                "carrier": name,
                "planted_median_transit_days_nearby": planted_carrier["median_transit_days_nearby"],
                "planted_long_delay_prob": planted_carrier["long_delay_prob"],
                "planted_lost_prob": planted_carrier["lost_prob"],
                "truth_late_rate_delivered": planted_carrier["late_rate_realized"],
                "measured_late_rate_delivered": float(row["late_rate_delivered"]),
                "on_time_rate": float(row["on_time_rate"]),
                "mean_delay_days": float(row["mean_delay_days"]),
                "p90_delay_days": float(row["p90_delay_days"]),
                "mean_transit_days": float(row["mean_transit_days"]),
                "lost": int(row["lost"]),
                "orders": int(row["orders"]),
                "trend": str(row["trend"]),
            }
        )

    started = time.perf_counter()
    flags = flag_orders(book)
    flags_s = time.perf_counter() - started
    flags_out = {}
    for kind, kinds in (("quantity", ("quantity", "amount")), ("burst", ("burst",))):
        truth_ids = set(planted.loc[planted["kind"] == kind, "order_id"])
        found = set(flags.loc[flags["kind"].isin(kinds), "order_id"])
        hit = len(truth_ids & found)
        flags_out[kind] = {
            "planted": len(truth_ids),
            "flagged": len(found),
            "caught": hit,
            "recall": hit / max(len(truth_ids), 1),
            "precision": hit / max(len(found), 1),
        }
    window = book.orders[book.orders["ordered_at"] > book.as_of - pd.Timedelta(days=14)]
    return {
        "config": {"customers": config.customers, "days": config.days, "seed": config.seed},
        "orders": len(book),
        "labelled": len(labelled),
        "open": len(book.open),
        "read_seconds": read_s,
        "features_seconds": features_s,
        "evaluation": evaluation.to_dict(),
        "carriers": carriers,
        "flags": flags_out,
        "flag_window_orders": len(window),
        "flags_seconds": flags_s,
        "flags_by_kind": {str(k): int(v) for k, v in flags["kind"].value_counts().items()},
    }


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    out = [
        "# Orders and delivery: late-delivery risk, carriers, flags",
        "",
        f"Measured {meta['date']} on {meta['machine']} (Python {meta['python']}, "
        f"LightGBM n_jobs={N_JOBS}) by `python bench/orders_bench.py"
        f"{' --scale ' + str(meta['scale']) if meta['scale'] != 1 else ''}`. "
        "Protocol in the script's docstring.",
        "",
    ]
    for label, shop in results.items():
        ev = shop["evaluation"]
        cfg = shop["config"]
        out += [
            f"## {label}: {cfg['customers']:,} customers, {cfg['days']} days, seed {cfg['seed']}",
            "",
            f"{shop['orders']:,} orders, {shop['labelled']:,} with a passed promise, "
            f"{shop['open']:,} open. Trained on {ev['train_orders']:,} "
            f"({ev['train_late_rate']:.1%} late), tested on the {ev['test_orders']:,} placed "
            f"from {ev['test_from']} ({ev['test_late_rate']:.1%} late). Reading the store "
            f"took {shop['read_seconds']:.1f} s, the features {shop['features_seconds']:.1f} s.",
            "",
            "| model | ROC-AUC | PR-AUC | Brier | log-loss | fit s | fit vs logistic |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        models = ev["models"]
        base = next(m for m in models if m["model"] == "logistic")["fit_seconds"]
        for m in models:
            out.append(
                f"| {m['model']} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {m['brier']:.4f} | "
                f"{m['log_loss']:.4f} | {m['fit_seconds']:.1f} | "
                f"{m['fit_seconds'] / max(base, 1e-9):.2f}x |"
            )
        out += [
            "",
            "Carriers, measured against what the simulation planted:",
            "",
            "| carrier | planted transit median (near, d) | planted long-delay p | "
            "planted loss p | late among delivered: truth | measured | on time | "
            "mean delay d | p90 delay d | lost | trend |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for c in shop["carriers"]:
            out.append(
                f"| {c['carrier']} | {c['planted_median_transit_days_nearby']:.2f} | "
                f"{c['planted_long_delay_prob']:.3f} | {c['planted_lost_prob']:.3f} | "
                f"{c['truth_late_rate_delivered']:.4f} | "
                f"{c['measured_late_rate_delivered']:.4f} | {c['on_time_rate']:.1%} | "
                f"{c['mean_delay_days']:.3f} | {c['p90_delay_days']:.2f} | {c['lost']} | "
                f"{c['trend']} |"
            )
        out += [
            "",
            f"Flags on the {shop['flag_window_orders']:,} orders of the last 14 days "
            f"({shop['flags_seconds']:.1f} s; all kinds: {shop['flags_by_kind']}):",
            "",
            "| planted | orders | flagged (that kind) | caught | recall | precision |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind, f in shop["flags"].items():
            out.append(
                f"| {kind} | {f['planted']} | {f['flagged']} | {f['caught']} | "
                f"{f['recall']:.1%} | {f['precision']:.1%} |"
            )
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Also a shop this many times.")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    results: dict[str, Any] = {}
    log("default demo shop")
    results["default shop"] = bench_shop(1.0)
    if args.scale != 1:
        log(f"{args.scale:g}x demo shop")
        results[f"{args.scale:g}x shop"] = bench_shop(args.scale)
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
        "python": platform.python_version(),
        "scale": args.scale,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orders.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=float)
    )
    (RESULTS / "orders.md").write_text(render(results, meta) + "\n")
    print(render(results, meta))


if __name__ == "__main__":
    main()
