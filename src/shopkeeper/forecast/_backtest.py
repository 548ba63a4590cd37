"""Backtests: forecast what already happened and score it, one table per run.

**The split.** Either every series' last ``horizon`` observations are the
test (``test_from=None``: each series is scored on its own most recent
periods, gaps skipped, so the horizon is exactly ``horizon`` steps
everywhere), or the test starts at ``test_from`` for every series (its first
``horizon`` observations on or after that day), which fixes the forecast
origin in the calendar so that anyone can reproduce the split exactly.
``windows`` > 1 rolls the origin back ``horizon`` observations at a time and
scores every window (rolling origin); the table pools them.

**The scores** (:mod:`._metrics`): WAPE, MASE (scaled by each series'
training part of that window), bias and the coverage of each interval level,
plus the seconds each model took to fit and forecast.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._metrics import bias, coverage, mase, mase_scales, wape

_SEP = "\x1f"  # joins a window and a series into one key for the MASE scales
# A forecaster: (train rows in order; the rows to forecast, without ``y``: ``series``,
# ``step``, ``period`` and the known inputs; levels) -> one row per series and step.
Forecaster = Callable[[pd.DataFrame, pd.DataFrame, tuple[float, ...]], pd.DataFrame]


@dataclass
class Window:
    """One origin: the rows to fit on and the rows to score (``series``, ``step``, ``y``)."""

    train: pd.DataFrame
    test: pd.DataFrame


@dataclass
class Backtest:
    """A backtest's table (one row per model) and every forecast it scored."""

    table: pd.DataFrame
    forecasts: pd.DataFrame
    horizon: int
    windows: int
    levels: tuple[float, ...]
    series: int
    points: int
    skipped: dict[str, str]  # model -> why it could not run on this data


def split(
    frame: pd.DataFrame,
    horizon: int,
    *,
    test_from: dt.date | None = None,
    windows: int = 1,
) -> list[Window]:
    """The windows of a backtest on ``frame`` (``series``, ``period``, ``y``): see the module."""
    if horizon < 1:
        raise ConfigError(f"the horizon must be 1 or more periods, got {horizon}")
    if windows < 1:
        raise ConfigError(f"windows must be 1 or more, got {windows}")
    ordered = frame.sort_values(["series", "period"], kind="stable").reset_index(drop=True)
    rank = ordered.groupby("series", sort=False).cumcount()
    size = ordered.groupby("series", sort=False)["period"].transform("size")
    if test_from is not None:
        start = pd.Timestamp(test_from)
        after = ordered["period"] >= start
        if not after.any():
            raise ConfigError(f"no observation on or after --test-from {test_from}")
        first_test = (rank.where(after)).groupby(ordered["series"], sort=False).transform("min")
        origin = first_test.fillna(size)
    else:
        origin = size - horizon
    out = []
    for w in range(windows):
        cut = origin - w * horizon
        train = ordered[rank < cut]
        test = ordered[(rank >= cut) & (rank < cut + horizon)]
        keep = set(train["series"]) & set(test["series"])
        train = train[train["series"].isin(keep)]
        test = test[test["series"].isin(keep)].copy()
        if test.empty:
            break
        test["step"] = (rank[test.index] - cut[test.index] + 1).astype("int64")
        out.append(Window(train=train.reset_index(drop=True), test=test.reset_index(drop=True)))
    if not out:
        raise ConfigError(
            f"no series has both a training part and {horizon} periods to test: "
            "shorten --horizon or move --test-from"
        )
    return out


def backtest(
    frame: pd.DataFrame,
    models: Sequence[tuple[str, Forecaster]],
    horizon: int,
    *,
    test_from: dt.date | None = None,
    windows: int = 1,
    levels: tuple[float, ...] = (0.8, 0.95),
    season: int = 1,
) -> Backtest:
    """Fit every model on each window's training part, forecast, and score the test part.

    A model that cannot run on the data (it raises ConfigError: too little
    history, say) is left out of the table with its reason in ``skipped``;
    when no model can run, the first one's error is raised.
    """
    parts = split(frame, horizon, test_from=test_from, windows=windows)
    scored: list[pd.DataFrame] = []
    seconds = {name: 0.0 for name, _ in models}
    skipped: dict[str, str] = {}
    scales = []
    for w, part in enumerate(parts):
        scale = mase_scales(part.train.rename(columns={"period": "ds"}), season)
        scales.append(scale.rename(lambda s, w=w: f"{w}{_SEP}{s}"))
        for name, model in models:
            if name in skipped:
                continue
            started = time.perf_counter()
            try:
                out = model(part.train, part.test.drop(columns="y"), levels)
            except ConfigError as exc:
                if len(skipped) == len(models) - 1:
                    raise
                skipped[name] = str(exc)
                scored = [f for f in scored if f["model"].iloc[0] != name]
                continue
            seconds[name] += time.perf_counter() - started
            joined = part.test[["series", "period", "step", "y"]].merge(
                out, on=["series", "step"], how="left"
            )
            if joined["yhat"].isna().any():
                missing = joined.loc[joined["yhat"].isna(), "series"].iloc[0]
                raise ConfigError(f"model {name} gave no forecast for series {missing}")
            scored.append(joined.assign(model=name, window=w))
    forecasts = pd.concat(scored, ignore_index=True)
    all_scales = pd.concat(scales)
    rows = []
    ran = [(name, model) for name, model in models if name not in skipped]
    for name, _ in ran:
        f = forecasts[forecasts["model"] == name]
        key = f["window"].astype(str) + _SEP + f["series"].astype(str)
        row = {
            "model": name,
            "wape": wape(f["y"], f["yhat"]),
            "mase": mase(key.to_numpy(), f["y"], f["yhat"], all_scales),
            "bias": bias(f["y"], f["yhat"]),
        }
        for level in levels:
            tag = f"{round(level * 100)}"
            if f"lo-{tag}" in f:
                row[f"coverage_{tag}"] = coverage(f["y"], f[f"lo-{tag}"], f[f"hi-{tag}"])
        row["seconds"] = seconds[name]
        rows.append(row)
    test_rows = forecasts[forecasts["model"] == ran[0][0]]
    return Backtest(
        table=pd.DataFrame(rows),
        forecasts=forecasts,
        horizon=horizon,
        windows=len(parts),
        levels=levels,
        series=int(test_rows["series"].nunique()),
        points=len(test_rows),
        skipped=skipped,
    )


def default_season(frequency: str) -> int:
    """A week of days, or four weeks (roughly a month) of weeks."""
    return 7 if frequency == "day" else 4
