"""Per-series model selection by backtest, with conformal intervals around the choice.

Every candidate is fitted without each series' last ``H`` training
observations and forecasts them (one inner window, scored per series by
the sum of absolute errors); each series then takes the candidate that did
best on it, refitted on the whole training part. A series too short for
the inner window takes the first candidate that is not a baseline.

The intervals are split conformal around the chosen forecast: the chosen
candidate's inner-window errors on the log scale, ``log(1 + y) - log(1 +
yhat)``, divided by each series' mean absolute log change, are pooled over
the series and steps; the bounds at level ``L`` are the forecast shifted by
their ``(1-L)/2`` and ``(1+L)/2`` quantiles times the series' scale and
mapped back to units. Errors measured on the very window that chose the
model are a little optimistic (the winner's curse); the backtest reports
the coverage that results, so it is never assumed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._backtest import Forecaster
from shopkeeper.forecast._global import _MIN_INNER, _bounds, _log_scales

BASELINES = ("naive", "snaive", "ma")  # never the fallback of a short series


def forecast_selected(
    train: pd.DataFrame,
    future: pd.DataFrame,
    levels: tuple[float, ...],
    candidates: Sequence[tuple[str, Forecaster]],
) -> pd.DataFrame:
    """Forecast ``future`` with each series' best candidate (see the module doc).

    Returns the forecaster layout plus ``model``: the candidate each series took.
    """
    if not candidates:
        raise ConfigError("model selection needs at least one candidate model")
    horizon = int(future["step"].max())
    ordered = train.sort_values(["series", "period"], kind="stable").reset_index(drop=True)
    rank = ordered.groupby("series", sort=False).cumcount()
    size = ordered.groupby("series", sort=False)["series"].transform("size")
    long_enough = size >= horizon + _MIN_INNER
    inner = ordered[long_enough & (rank < size - horizon)]
    held = ordered[long_enough & (rank >= size - horizon)].copy()
    held["step"] = (rank[held.index] - (size[held.index] - horizon) + 1).astype("int64")
    scales = _log_scales(ordered)

    errors: dict[str, pd.DataFrame] = {}
    if not held.empty:
        ahead = held.drop(columns="y")
        for name, model in candidates:
            try:
                out = model(inner, ahead, ())
            except ConfigError:  # cannot run on this data (too little history): not a choice
                continue
            joined = held[["series", "step", "y"]].merge(
                out[["series", "step", "yhat"]], on=["series", "step"], how="left"
            )
            joined["yhat"] = joined["yhat"].fillna(0.0)
            errors[name] = joined
    names = [name for name, _ in candidates if name in errors] or [candidates[0][0]]
    fallback = next((n for n in names if n not in BASELINES), names[0])
    every = pd.Index(pd.unique(ordered["series"]), name="series")
    if errors:
        loss = pd.DataFrame(
            {
                name: (e["y"] - e["yhat"]).abs().groupby(e["series"]).sum()
                for name, e in errors.items()
            }
        )
        chosen = loss.idxmin(axis=1).reindex(every).fillna(fallback)
    else:
        chosen = pd.Series(fallback, index=every)

    parts = []
    by_name = dict(candidates)
    for name in pd.unique(chosen):
        mine = chosen.index[chosen == name]
        rows = future[future["series"].isin(mine)]
        if rows.empty:
            continue
        out = by_name[name](ordered, rows, ())
        parts.append(out[["series", "step", "yhat"]].assign(model=name))
    result = pd.concat(parts, ignore_index=True)
    result = future[["series", "step"]].merge(result, on=["series", "step"], how="left")
    if levels:
        residuals = _chosen_errors(errors, chosen, scales)
        if residuals.empty:
            raise ConfigError(
                f"no series is long enough to calibrate intervals ({horizon + _MIN_INNER} "
                "observations needed): ask for no levels or a shorter horizon"
            )
        z = np.log1p(result["yhat"].to_numpy(dtype=float))
        scale = scales.reindex(result["series"]).to_numpy()
        for level in levels:
            lo, hi = _bounds(residuals, level)
            tag = round(level * 100)
            result[f"lo-{tag}"] = np.maximum(np.expm1(z + lo * scale), 0.0)
            result[f"hi-{tag}"] = np.maximum(np.expm1(z + hi * scale), 0.0)
    return result


def _chosen_errors(
    errors: dict[str, pd.DataFrame], chosen: pd.Series, scales: pd.Series
) -> pd.DataFrame:
    """Scaled log errors per step of each series' chosen candidate in the inner window."""
    parts = []
    for name, e in errors.items():
        mine = e[e["series"].map(chosen) == name]
        if mine.empty:
            continue
        log_error = np.log1p(mine["y"].to_numpy(dtype=float)) - np.log1p(
            np.maximum(mine["yhat"].to_numpy(dtype=float), 0.0)
        )
        scale = scales.reindex(mine["series"]).to_numpy()
        parts.append(pd.DataFrame({"step": mine["step"].to_numpy(), "error": log_error / scale}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["step", "error"])
