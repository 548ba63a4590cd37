"""Forecast accuracy: WAPE, MASE, bias and interval coverage, as the backtests report them.

Every function takes the test points of many series at once: ``y`` and
``yhat`` as flat arrays, ``series`` naming the series of each point. The
definitions are the usual ones (Hyndman and Koehler 2006 for MASE):

- ``WAPE = sum |y - yhat| / sum |y|``, pooled over every series and horizon:
  the share of the units that the forecast got wrong, dominated by the big
  sellers, as a shop's stock money is;
- ``MASE``: per series, the mean absolute error over the mean absolute
  one-step (or one-season) change of that series' training part, then the
  unweighted mean over series: every product counts once;
- ``bias = sum (yhat - y) / sum y``: positive when the forecast is too high;
- coverage: the share of points inside their interval.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError


def wape(y: np.ndarray, yhat: np.ndarray) -> float:
    """Weighted absolute percentage error over all points (NaN when ``y`` sums to 0)."""
    y, yhat = _pair(y, yhat)
    total = float(np.abs(y).sum())
    return float(np.abs(y - yhat).sum() / total) if total > 0 else float("nan")


def bias(y: np.ndarray, yhat: np.ndarray) -> float:
    """Relative over-forecast over all points: ``sum(yhat - y) / sum(y)``."""
    y, yhat = _pair(y, yhat)
    total = float(y.sum())
    return float((yhat - y).sum() / total) if total != 0 else float("nan")


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of points with ``lo <= y <= hi``."""
    y, lo = _pair(y, lo)
    _, hi = _pair(y, hi)
    if len(y) == 0:
        return float("nan")
    return float(np.mean((y >= lo) & (y <= hi)))


def mase_scales(train: pd.DataFrame, season: int = 1) -> pd.Series:
    """Per series, the mean absolute change over ``season`` steps of its training values.

    ``train`` has columns ``series``, ``ds`` (any sortable time) and ``y``.
    A series with fewer than ``season + 1`` points, or that never changes,
    has no scale (NaN) and is left out of the MASE.
    """
    if season < 1:
        raise ConfigError(f"the MASE season must be 1 or more, got {season}")
    ordered = train.sort_values(["series", "ds"], kind="stable")
    change = ordered.groupby("series", sort=False)["y"].diff(season).abs()
    scale = change.groupby(ordered["series"], sort=False).mean()
    return scale.where(scale > 0)


def mase(
    series: np.ndarray, y: np.ndarray, yhat: np.ndarray, scales: Mapping[object, float] | pd.Series
) -> float:
    """Mean over series of (mean absolute error / the series' scale); series without one skip."""
    y, yhat = _pair(y, yhat)
    frame = pd.DataFrame({"series": np.asarray(series), "err": np.abs(y - yhat)})
    per = frame.groupby("series", sort=False)["err"].mean()
    scale = pd.Series(scales).reindex(per.index)
    ratio = (per / scale).replace([np.inf, -np.inf], np.nan).dropna()
    return float(ratio.mean()) if len(ratio) else float("nan")


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a, dtype=float)
    z = np.asarray(b, dtype=float)
    if x.shape != z.shape:
        raise ConfigError(f"actuals and forecasts differ in length: {x.shape} and {z.shape}")
    return x, z
