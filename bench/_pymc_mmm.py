"""PyMC-Marketing's MMM on a table written by ``mmm_bench.py``, in its own environment.

PyMC-Marketing pins its own numba and pytensor, so it runs in a separate
virtual environment (``bench/.work/pymc-venv``, see ``mmm_bench.py``) and
reads its data from a CSV: ``date``, ``sales``, ``spend_<channel>`` and
``control_*`` columns. Geometric adstock (up to 28 days) and logistic
saturation, its defaults, with yearly seasonality of order 2 and the same
controls as shopkeeper's mix (added, as PyMC-Marketing's model is additive).
Prints one JSON line: ROAS per channel (posterior mean and 90% interval) and
the fit time.

    python bench/_pymc_mmm.py TABLE.csv [--draws 500 --tune 500 --chains 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("table")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    frame = pd.read_csv(args.table, parse_dates=["date"])
    channels = [c for c in frame.columns if c.startswith("spend_")]
    controls = [c for c in frame.columns if c.startswith("control_")]
    model = MMM(
        date_column="date",
        channel_columns=channels,
        control_columns=controls or None,
        adstock=GeometricAdstock(l_max=28),
        saturation=LogisticSaturation(),
        yearly_seasonality=2,
    )
    x = frame[["date", *channels, *controls]]
    started = time.perf_counter()
    model.fit(
        x,
        frame["sales"],
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        cores=args.chains,
        random_seed=1,
        progressbar=False,
    )
    fit_s = time.perf_counter() - started
    contrib = model.compute_channel_contribution_original_scale()  # chain, draw, date, channel
    total = contrib.sum(dim="date")
    spend = frame[channels].sum()
    out = {}
    for name in channels:
        draws = (total.sel(channel=name) / spend[name]).values.ravel()
        out[name[len("spend_") :]] = {
            "roas": float(np.mean(draws)),
            "low": float(np.percentile(draws, 5)),
            "high": float(np.percentile(draws, 95)),
        }
    divergences = int(model.idata.sample_stats["diverging"].sum())
    print("RESULT " + json.dumps({"roas": out, "fit_s": fit_s, "divergences": divergences}))


if __name__ == "__main__":
    main()
