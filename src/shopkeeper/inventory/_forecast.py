"""Demand over a lead time: a pluggable forecaster and its own measured errors.

A **forecaster** is any callable ``(train, horizon) -> forecasts`` where
``train`` has columns ``series``, ``period``, ``y`` (units per day, in time
order within each series) and ``forecasts`` one row per series and step:
``series``, ``step`` (1..horizon), ``yhat`` (further columns, such as the
intervals of :mod:`shopkeeper.forecast`, are ignored). The forecasting
models of :mod:`shopkeeper.forecast` have this shape; :func:`from_baseline`
adapts one of its baselines. A forecaster may carry ``history_days``: it is
then given only that many of the latest days (a moving average needs no
more, and the simulation calls it dozens of times).

The spread of lead-time demand is **not** taken from the forecaster's own
intervals. It is measured: the forecaster is run from a series of past
origins (every ``spacing`` days), and at each origin the error of the
forecast *sum over the item's own span* (lead time, or lead time plus
review period) against what then sold is recorded. ``σ`` is the root mean
square of the latest ``origins`` such errors whose span has closed by the
decision day. So an unbiased, sharper forecaster directly buys less safety
stock, a biased one pays for its bias, and the errors are those of the very
quantity the stock must cover (the sum over the lead time, with whatever
autocorrelation the days have), not a daily ``σ`` scaled by ``sqrt(L)``.

Two floors keep few errors from promising too much: ``σ`` is at least
``sqrt(μ)`` (Poisson noise, which no forecaster removes), and an item with
no closed span yet takes ``sqrt(μ)`` times the median over the other items
of ``σ / sqrt(μ)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._baselines import Baseline, forecast_baseline
from shopkeeper.inventory._data import Stock

Forecaster = Callable[[pd.DataFrame, int], pd.DataFrame]


@dataclass(frozen=True)
class MovingAverage:
    """The mean of each series' last ``window`` days (fewer at its start), for every step.

    The point forecast of :func:`shopkeeper.forecast._baselines.moving_average`,
    computed for all series at once (without its intervals, which a policy
    does not read).
    """

    window: int = 28

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ConfigError(
                f"the moving-average window must be 1 or more days, got {self.window}"
            )

    @property
    def history_days(self) -> int:
        return self.window

    @property
    def name(self) -> str:
        return f"moving average ({self.window} days)"

    def __call__(self, train: pd.DataFrame, horizon: int) -> pd.DataFrame:
        tail = train.groupby("series", sort=False).tail(self.window)
        mean = tail.groupby("series", sort=False)["y"].mean()
        steps = np.arange(1, horizon + 1)
        return pd.DataFrame(
            {
                "series": np.repeat(mean.index.to_numpy(), horizon),
                "step": np.tile(steps, len(mean)),
                "yhat": np.repeat(mean.to_numpy(dtype=float), horizon),
            }
        )


def from_baseline(model: Baseline) -> Forecaster:
    """A baseline of :mod:`shopkeeper.forecast` (naive, seasonal naive, ...) as a forecaster."""

    def forecast(train: pd.DataFrame, horizon: int) -> pd.DataFrame:
        return forecast_baseline(model, train, horizon, levels=())

    forecast.__name__ = model.name
    return forecast


def forecaster_name(forecaster: Forecaster) -> str:
    return str(getattr(forecaster, "name", getattr(forecaster, "__name__", repr(forecaster))))


def forecast_matrix(stock: Stock, forecaster: Forecaster, origin: int, horizon: int) -> np.ndarray:
    """Forecasts made at day index ``origin`` (from days before it) for days ``origin`` on.

    Returns ``(len(stock), horizon)`` units per day, never negative; an item
    that had not sold before ``origin`` is forecast 0, and steps the
    forecaster left out repeat its last one.
    """
    n = len(stock)
    out = np.zeros((n, horizon))
    keep = getattr(forecaster, "history_days", None)
    start = 0 if keep is None else max(origin - int(keep), 0)
    begin = np.maximum(stock.first, start)
    rows = np.flatnonzero(begin < origin)
    if len(rows) == 0:
        return out
    lengths = origin - begin[rows]
    item = np.repeat(rows, lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    day = np.repeat(begin[rows], lengths) + offsets
    train = pd.DataFrame({"series": item, "period": stock.days[day], "y": stock.demand[item, day]})
    found = forecaster(train, horizon)
    missing = {"series", "step", "yhat"} - set(found.columns)
    if missing:
        raise ConfigError(
            f"the forecaster {forecaster_name(forecaster)} returned no {sorted(missing)} "
            "column(s); it must return series, step and yhat"
        )
    series = found["series"].to_numpy(dtype=np.int64)
    step = found["step"].to_numpy(dtype=np.int64) - 1
    ok = (step >= 0) & (step < horizon)
    values = np.nan_to_num(found["yhat"].to_numpy(dtype=float)[ok], nan=0.0)
    grid = np.full((n, horizon), np.nan)
    grid[series[ok], step[ok]] = values
    grid[rows] = pd.DataFrame(grid[rows]).ffill(axis=1).fillna(0.0).to_numpy()
    grid[np.setdiff1d(np.arange(n), rows)] = 0.0
    return np.maximum(grid, 0.0)


def span_sum(path: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Per row, the sum of the first ``span`` columns (a fractional last day pro rata).

    Spans beyond the path repeat its mean daily rate past the end.
    """
    n, h = path.shape
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(path, axis=1)], axis=1)
    whole = np.minimum(np.floor(span).astype(np.int64), h)
    frac = span - whole
    rows = np.arange(n)
    inside = cum[rows, whole] + frac * path[rows, np.minimum(whole, h - 1)] * (whole < h)
    rate = cum[:, -1] / h
    beyond = np.maximum(span - h, 0.0)
    return inside + beyond * rate


@dataclass
class LeadTimeDemand:
    """Per item at one decision day: expected demand per day and over its span, and ``σ``."""

    per_day: np.ndarray
    mean: np.ndarray
    sigma: np.ndarray
    errors: np.ndarray  # closed origins behind each sigma
    path: np.ndarray  # the daily forecast from the decision day


@dataclass
class ErrorBook:
    """Forecasts from past origins and their span errors, for ``σ`` at any later day.

    ``spans`` are per item, in days (lead time, or lead time plus review
    period); :meth:`at` answers for a decision day from what had closed by then.
    """

    stock: Stock
    forecaster: Forecaster
    spans: np.ndarray
    origins: int = 12
    spacing: int = 7
    _paths: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.origins < 1 or self.spacing < 1:
            raise ConfigError("error origins and their spacing must be 1 or more")
        self.horizon = max(math.ceil(float(self.spans.max(initial=1.0))), 1)
        self._cum = np.concatenate(
            [np.zeros((len(self.stock), 1)), np.cumsum(self.stock.demand, axis=1)], axis=1
        )

    def path(self, origin: int) -> np.ndarray:
        """The forecast made at ``origin`` (cached: every policy reads the same ones)."""
        if origin not in self._paths:
            self._paths[origin] = forecast_matrix(self.stock, self.forecaster, origin, self.horizon)
        return self._paths[origin]

    def _actual(self, origin: int) -> np.ndarray:
        """What sold over each item's span from ``origin`` (pro rata on a fractional day)."""
        n_days = self.stock.demand.shape[1]
        end = origin + self.spans
        whole = np.minimum(np.floor(end).astype(np.int64), n_days)
        frac = end - np.floor(end)
        rows = np.arange(len(self.stock))
        last = self.stock.demand[rows, np.minimum(whole, n_days - 1)] * (whole < n_days)
        return self._cum[rows, whole] - self._cum[:, origin] + frac * last

    def at(self, day: int, progress: Callable[[], None] | None = None) -> LeadTimeDemand:
        """Demand and its spread for a decision at the start of day index ``day``."""
        path = self.path(day)
        mean = span_sum(path, self.spans)
        per_day = np.divide(mean, self.spans, out=path[:, 0].copy(), where=self.spans > 0)
        # Origins every `spacing` days back; an item counts those whose span closed by `day`.
        squares = np.zeros(len(self.stock))
        counts = np.zeros(len(self.stock))
        lookback = self.horizon + self.spacing * self.origins
        for origin in range(day - self.spacing, max(day - lookback, 0) - 1, -self.spacing):
            if origin <= 0:
                break
            closed = (origin + self.spans <= day) & (counts < self.origins)
            closed &= self.stock.first < origin  # a forecast needs a past
            if not closed.any():
                continue
            error = self._actual(origin) - span_sum(self.path(origin), self.spans)
            squares[closed] += error[closed] ** 2
            counts[closed] += 1
            if progress is not None:
                progress()
        sigma = np.sqrt(np.divide(squares, counts, out=np.zeros_like(squares), where=counts > 0))
        poisson = np.sqrt(mean)
        ratio = np.divide(sigma, poisson, out=np.zeros_like(sigma), where=poisson > 0)
        known = (counts > 0) & (poisson > 0)
        pooled = float(np.median(ratio[known])) if known.any() else 1.0
        sigma = np.where(counts > 0, sigma, poisson * max(pooled, 1.0))
        sigma = np.maximum(sigma, poisson)
        return LeadTimeDemand(per_day=per_day, mean=mean, sigma=sigma, errors=counts, path=path)
