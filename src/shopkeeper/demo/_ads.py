"""Advertising: daily spend per channel and the orders it brings.

The planted marketing-mix model, per channel ``c`` and day ``d``::

    adstock[c, d]   = spend[c, d] + decay[c] * adstock[c, d-1]
    saturation      = adstock**shape / (adstock**shape + half_saturation**shape)
    extra_orders    = beta[c] * saturation          (expected orders that day)

The extra orders are drawn (Poisson) on top of the organic ones and are
otherwise ordinary orders; the ground truth holds every parameter plus the
orders and revenue each channel really produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopkeeper.demo._calendar import Calendar
from shopkeeper.demo._vocab import AD_CHANNELS

# channel: (base spend per day for 20k customers, decay, shape, share of
# organic orders the channel adds on an average day). Together the channels
# add about half again the organic orders, a third of all orders, as paid
# traffic does for many online shops, for about a tenth of the sales; much
# smaller effects would drown in the day-to-day noise of a shop this size
# (bench/results/mmm.md shows how well they come back).
_PARAMS: dict[str, tuple[float, float, float, float]] = {
    "search": (4_700.0, 0.25, 1.2, 0.18),
    "social": (3_600.0, 0.55, 1.5, 0.13),
    "display": (2_200.0, 0.35, 1.0, 0.09),
    "video": (5_800.0, 0.75, 2.0, 0.09),
    "email": (450.0, 0.15, 1.0, 0.05),
}


@dataclass
class Ads:
    """Spend per channel and day, and the expected extra orders it causes."""

    channels: tuple[str, ...]
    spend: np.ndarray  # (channels, days)
    adstock: np.ndarray
    expected_orders: np.ndarray  # (channels, days)
    decay: np.ndarray
    shape: np.ndarray
    half_saturation: np.ndarray
    beta: np.ndarray

    def truth(self, realized: np.ndarray, revenue: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": "extra_orders[d] = beta * a**s / (a**s + K**s), "
            "a[d] = spend[d] + decay * a[d-1] (geometric adstock, Hill saturation)",
            "channels": {},
        }
        for i, name in enumerate(self.channels):
            total = float(self.spend[i].sum())
            out["channels"][name] = {
                "decay": float(self.decay[i]),
                "shape": float(self.shape[i]),
                "half_saturation": round(float(self.half_saturation[i]), 2),
                "beta_orders_per_day": round(float(self.beta[i]), 3),
                "spend_total": round(total, 2),
                "expected_extra_orders": round(float(self.expected_orders[i].sum()), 1),
                "realized_extra_orders": int(realized[i]),
                "extra_revenue": round(float(revenue[i]), 2),
                "roi": round(float(revenue[i]) / total, 4) if total > 0 else None,
            }
        return out


def _flights(rng: np.random.Generator, days: int, on_share: float, mean_len: float) -> np.ndarray:
    """On/off campaign bursts: a 0/1 mask of runs with mean length ``mean_len`` days."""
    mask = np.zeros(days)
    d = 0
    on = rng.random() < on_share
    while d < days:
        run = max(3, int(rng.exponential(mean_len)))
        if on:
            mask[d : d + run] = 1.0
        d += run
        on = rng.random() < on_share
    if not mask.any():
        # A short history can draw no flight at all; a channel that never
        # spends would have no effect to plant (and 0/0 saturation), so run one.
        run = min(days, max(3, int(mean_len)))
        first = int(rng.integers(0, days - run + 1))
        mask[first : first + run] = 1.0
    return mask


# Search goes dark for ten days once a quarter (see _pauses).
PAUSE_DAYS, PAUSE_EVERY = 10, 90


def _pauses(rng: np.random.Generator, ramp: np.ndarray) -> np.ndarray:
    """A 0/1 mask with a ten-day pause about every quarter, away from festival ramps.

    Shops pause an always-on channel now and then to measure what it adds (an
    incrementality test); without such a pause, how much such a channel sells
    at its usual spend is beyond what sales and spend alone can show.
    """
    days = len(ramp)
    mask = np.ones(days)
    length, every = PAUSE_DAYS, PAUSE_EVERY
    for k in range(max(1, days // every)):
        lo, hi = k * every + 10, min(days, (k + 1) * every) - length - 10
        if hi <= lo:
            break
        for _ in range(20):  # a few tries to miss the budget ramps before festivals
            first = int(rng.integers(lo, hi))
            if (ramp[first : first + length] == 1.0).all():
                mask[first : first + length] = 0.0
                break
    return mask


def build_ads(
    rng: np.random.Generator, cal: Calendar, customers: int, organic_per_day: float
) -> Ads:
    """Spend patterns with flights independent of seasonality, so effects are identifiable."""
    days = cal.days
    scale = customers / 20_000
    norm_mult = cal.multiplier / cal.multiplier.mean()
    # Budgets ramp up in the ten days before each big festival.
    ramp = np.ones(days)
    for e in cal.events:
        if e["name"] in ("618", "Double 11"):
            i = cal.day_of(dt.date.fromisoformat(e["date"]))
            lo = max(0, i - 10)
            ramp[lo : i + 1] = np.maximum(ramp[lo : i + 1], np.linspace(1.3, 2.2, i + 1 - lo))
    n = len(AD_CHANNELS)
    spend = np.zeros((n, days))
    for i, name in enumerate(AD_CHANNELS):
        base = _PARAMS[name][0] * scale
        noise = rng.lognormal(0.0, 0.2, days)
        if name == "search":
            # Bids follow demand, and the budget is reset every two weeks: without
            # those steps, spend moving only with demand could not be told apart from it.
            steps = np.repeat(rng.lognormal(0.0, 0.35, days // 14 + 1), 14)[:days]
            pattern = (0.75 + 0.35 * np.sqrt(norm_mult)) * ramp * steps * _pauses(rng, ramp)
        elif name == "social":
            pattern = (0.08 + 1.2 * _flights(rng, days, 0.65, 12)) * ramp
        elif name == "display":
            pattern = 1.6 * _flights(rng, days, 0.55, 18) * ramp
        elif name == "video":
            pattern = 0.08 + 2.8 * _flights(rng, days, 0.3, 25)
        else:  # email: sends on a few days a week, otherwise only list costs
            sends = rng.random(days) < 0.3
            pattern = np.where(sends, 3.0, 0.15) * ramp
        spend[i] = np.round(base * pattern * noise, 2)
    decay = np.array([_PARAMS[c][1] for c in AD_CHANNELS])
    shape = np.array([_PARAMS[c][2] for c in AD_CHANNELS])
    adstock = np.zeros_like(spend)
    carry = spend[:, 0] * decay / (1 - decay)  # start in the steady state of day one
    for d in range(days):
        carry = spend[:, d] + decay * carry
        adstock[:, d] = carry
    half = adstock.mean(axis=1)  # an average day sits at half saturation (shape aside)
    sat = adstock ** shape[:, None] / (adstock ** shape[:, None] + half[:, None] ** shape[:, None])
    share = np.array([_PARAMS[c][3] for c in AD_CHANNELS])
    beta = share * organic_per_day / sat.mean(axis=1)
    expected = beta[:, None] * sat
    return Ads(AD_CHANNELS, spend, adstock, expected, decay, shape, half, beta)
