"""The baselines every forecast must beat: naive, seasonal naive and the moving average.

Each is a rule on a series' own past, written here (they are one line each;
the statistical models come from statsforecast). Every forecast carries a
prediction interval from the rule's own errors on the training part, split
conformal style: the rule is replayed from every past origin, its errors at
each horizon are divided by the series' scale (the mean absolute one-step
change, as in MASE) and pooled over all series, and the interval at level
``L`` is the point forecast plus or minus the ``L`` quantile of those
scaled errors, times the series' scale, floored at zero units. Pooling lets
short series borrow the width of long ones; scaling keeps a best seller's
errors from setting a slow mover's interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError

# A rule's forecasts from every origin at once: row t holds the forecast of steps
# 1..horizon made from the first t values (rows before the rule can start are NaN).
Paths = Callable[[np.ndarray, int], np.ndarray]


def _rows(y: np.ndarray, horizon: int) -> np.ndarray:
    return np.full((len(y) + 1, horizon), np.nan)


def naive(y: np.ndarray, horizon: int) -> np.ndarray:
    """The last value, repeated."""
    out = _rows(y, horizon)
    out[1:] = y[:, None]
    return out


def seasonal_naive(season: int) -> Paths:
    """The value one season back, for each step ahead."""

    def paths(y: np.ndarray, horizon: int) -> np.ndarray:
        out = _rows(y, horizon)
        if len(y) < season:
            return out
        t = np.arange(season, len(y) + 1)[:, None]
        out[season:] = y[t - season + (np.arange(horizon)[None, :] % season)]
        return out

    return paths


def moving_average(window: int) -> Paths:
    """The mean of the last ``window`` values (fewer at the start), repeated."""

    def paths(y: np.ndarray, horizon: int) -> np.ndarray:
        out = _rows(y, horizon)
        total = np.r_[0.0, np.cumsum(y)]
        t = np.arange(1, len(y) + 1)
        lo = np.maximum(t - window, 0)
        out[1:] = ((total[t] - total[lo]) / (t - lo))[:, None]
        return out

    return paths


@dataclass(frozen=True)
class Baseline:
    """A named rule, as its forecasts from every origin."""

    name: str
    paths: Paths


def baselines(season: int) -> list[Baseline]:
    """Naive, seasonal naive (``season`` periods) and a moving average over one season."""
    if season < 1:
        raise ConfigError(f"the season must be 1 or more periods, got {season}")
    out = [Baseline("naive", naive)]
    if season > 1:
        out.append(Baseline(f"seasonal naive ({season})", seasonal_naive(season)))
    window = max(season, 4)
    out.append(Baseline(f"moving average ({window})", moving_average(window)))
    return out


def forecast_baseline(
    model: Baseline,
    train: pd.DataFrame,
    horizon: int,
    levels: tuple[float, ...] = (0.8, 0.95),
) -> pd.DataFrame:
    """Forecasts of ``horizon`` steps for every series of ``train`` (``series``, ``y``, in order).

    Returns one row per series and step: ``series``, ``step`` (1..horizon),
    ``yhat`` and ``lo-<L>`` / ``hi-<L>`` per level (percent, e.g. ``lo-80``).
    """
    if horizon < 1:
        raise ConfigError(f"the horizon must be 1 or more periods, got {horizon}")
    groups = [
        (name, g["y"].to_numpy(dtype=float)) for name, g in train.groupby("series", sort=False)
    ]
    scaled: list[np.ndarray] = []  # per origin: |error| / scale at each step (NaN past the end)
    scales: dict[object, float] = {}
    points: list[tuple[object, np.ndarray]] = []
    step = np.arange(horizon)
    for name, y in groups:
        scale = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
        scale = scale if scale > 0 else max(float(np.mean(np.abs(y))), 1.0)
        scales[name] = scale
        paths = model.paths(y, horizon)
        if np.isnan(paths[-1]).any():  # too short for the rule: the naive forecast
            paths = naive(y, horizon)
        points.append((name, paths[-1]))
        # The value each past forecast aimed at (NaN past the end of the data).
        at = np.arange(len(y))[:, None] + step[None, :]
        target = np.where(at < len(y), y[np.minimum(at, len(y) - 1)], np.nan)
        scaled.append(np.abs(target - paths[:-1]) / scale)
    errors = np.vstack(scaled) if scaled else np.full((1, horizon), np.nan)
    widths = {level: _quantile(errors, level) for level in levels}
    rows = []
    for name, yhat in points:
        row = pd.DataFrame({"series": name, "step": np.arange(1, horizon + 1), "yhat": yhat})
        for level in levels:
            width = widths[level] * scales[name]
            tag = f"{round(level * 100)}"
            row[f"lo-{tag}"] = np.maximum(yhat - width, 0.0)
            row[f"hi-{tag}"] = yhat + width
        rows.append(row)
    return pd.concat(rows, ignore_index=True)


def _quantile(errors: np.ndarray, level: float) -> np.ndarray:
    """Per step, the ``level`` quantile of the pooled scaled errors (conformal: n+1 rank)."""
    out = np.zeros(errors.shape[1])
    for step in range(errors.shape[1]):
        e = np.sort(errors[:, step][~np.isnan(errors[:, step])])
        if len(e) == 0:
            out[step] = out[step - 1] if step else 0.0
            continue
        rank = min(int(np.ceil(level * (len(e) + 1))) - 1, len(e) - 1)
        out[step] = e[max(rank, 0)]
    return out
