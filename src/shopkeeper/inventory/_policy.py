"""The stock policy: safety stock, reorder point and order quantity per product-location.

Two reviews, as in the textbooks:

- **continuous** ``(s, Q)``: when the inventory position (on hand plus on
  order) falls to the reorder point ``s``, order ``Q`` (or the smallest
  multiple of ``Q`` that lifts the position above ``s``). ``s`` covers the
  lead time ``L``: ``s = μ_L + SS``, and ``Q`` is the economic order quantity.
- **periodic** ``(R, S)``: every ``R`` days, order up to ``S``. ``S`` covers
  the lead time plus the review period: ``S = μ_{L+R} + SS``.

The safety stock ``SS`` meets the item's service level, read as a **cycle
service level** by default (the contract's "target probability of no
stock-out": the chance a replenishment cycle ends without one), so
``SS = z·σ``. For slow movers (expected demand over the span below
``slow_units``) the normal is a poor model of a few whole units: the
reorder point is then the Poisson or negative-binomial quantile of the
span's demand (mean ``μ``, variance ``σ²``). With ``target="fill_rate"``
the level is the share of demand served from the shelf instead, and the
safety factor solves the normal loss equation ``σ·G(k) = (1 − β)·Q``
(``Q``: the order quantity, or ``R`` days of demand for periodic review).

``σ`` is the measured error of the forecast over the span
(:mod:`._forecast`); a lead time that varies (``lead_time_cv`` > 0, the
deviation of ``L`` as a share of ``L``) adds ``d²·σ_L²``, the second term of
``σ_LTD² = L·σ_d² + d²·σ_L²``, whose first term the measured error replaces.

``Q`` is ``sqrt(2·D·K/(h·c))`` with ``D`` the forecast yearly demand, held
between one unit and ``max_cover_days`` of demand (cash and shelf life put a
ceiling on what a formula with cheap holding would order), in whole units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.inventory._math import (
    DAYS_PER_YEAR,
    check_service_level,
    count_quantile,
    economic_order_quantity,
    fill_rate_factor,
    safety_factor,
)
from shopkeeper.jobs import settings_from_params

Review = Literal["continuous", "periodic"]
REVIEWS = ("continuous", "periodic")
TARGETS = ("cycle", "fill_rate")


@dataclass(frozen=True)
class PolicySettings:
    """How the policy is computed; every field has the default a shop starts from.

    ``review``: ``continuous`` (s, Q) or ``periodic`` (R, S);
    ``review_days``: R, and how often the simulation recomputes the policy;
    ``service_level``: the level where the inventory row has none;
    ``override_level``: when > 0, the level for every row (the CLI's
    ``--service-level``); ``target``: ``cycle`` or ``fill_rate``;
    ``lead_time_cv``: deviation of the lead time over its mean (0: fixed);
    ``window``: days of the default moving-average forecast;
    ``error_origins`` and ``origin_spacing``: the past forecasts whose errors
    set ``σ``; ``slow_units``: below this expected span demand, the count
    quantile replaces the normal; ``max_cover_days``: the most days of demand
    one order may hold.
    """

    review: str = "continuous"
    review_days: int = 7
    service_level: float = 0.95
    override_level: float = 0.0
    target: str = "cycle"
    lead_time_cv: float = 0.0
    window: int = 28
    error_origins: int = 12
    origin_spacing: int = 7
    slow_units: float = 20.0
    max_cover_days: float = 180.0

    def __post_init__(self) -> None:
        if self.review not in REVIEWS:
            raise ConfigError(f"review must be continuous or periodic, not {self.review!r}")
        if self.target not in TARGETS:
            raise ConfigError(f"target must be cycle or fill_rate, not {self.target!r}")
        if self.review_days < 1:
            raise ConfigError(f"review_days must be 1 or more, got {self.review_days}")
        check_service_level(self.service_level, "default service level")
        if self.override_level:
            check_service_level(self.override_level, "service level")
        if self.lead_time_cv < 0:
            raise ConfigError(f"lead_time_cv must be >= 0, got {self.lead_time_cv}")
        if self.window < 1 or self.error_origins < 1 or self.origin_spacing < 1:
            raise ConfigError("window, error_origins and origin_spacing must be 1 or more")
        if self.max_cover_days <= 0 or self.slow_units < 0:
            raise ConfigError("max_cover_days must be > 0 and slow_units >= 0")

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> PolicySettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, "inventory")

    def levels(self, column: np.ndarray) -> np.ndarray:
        """Each row's service level: the override, else its own, else the default."""
        if self.override_level:
            return np.full(len(column), self.override_level)
        return np.where(np.isnan(column), self.service_level, column)

    def span(self, lead_time: np.ndarray) -> np.ndarray:
        """Days the stock must cover: the lead time, plus the review period if periodic."""
        extra = self.review_days if self.review == "periodic" else 0
        return np.asarray(lead_time, dtype=float) + extra


@dataclass
class Parameters:
    """The policy for every item: what to hold and when and how much to order."""

    safety_stock: np.ndarray
    reorder_point: np.ndarray  # s (continuous); S (periodic: the level it orders up to)
    order_quantity: np.ndarray  # Q (continuous); R days of demand (periodic, for reference)
    sigma: np.ndarray  # of demand over the span, lead-time variance included


def order_quantity(
    per_day: np.ndarray,
    order_cost: np.ndarray,
    unit_cost: np.ndarray,
    holding_cost_rate: np.ndarray,
    max_cover_days: float,
) -> np.ndarray:
    """EOQ in whole units, at least 1 where anything sells, at most ``max_cover_days`` of it."""
    eoq = economic_order_quantity(per_day * DAYS_PER_YEAR, order_cost, unit_cost, holding_cost_rate)
    q = np.minimum(eoq, max_cover_days * per_day)
    return np.where(per_day > 0, np.maximum(np.ceil(q - 1e-9), 1.0), 0.0)


def parameters(
    settings: PolicySettings,
    *,
    per_day: np.ndarray,
    mean: np.ndarray,
    sigma: np.ndarray,
    lead_time: np.ndarray,
    levels: np.ndarray,
    order_cost: np.ndarray,
    unit_cost: np.ndarray,
    holding_cost_rate: np.ndarray,
    quantity: np.ndarray | None = None,
) -> Parameters:
    """The policy from expected demand over the span (``mean``), its spread and the costs.

    ``quantity`` replaces the economic order quantity (the simulation uses it
    to compare reorder points at one order size).
    """
    sigma_l = settings.lead_time_cv * np.asarray(lead_time, dtype=float)
    spread = np.sqrt(sigma**2 + (per_day * sigma_l) ** 2)
    if quantity is None:
        q = order_quantity(
            per_day, order_cost, unit_cost, holding_cost_rate, settings.max_cover_days
        )
    else:
        q = np.asarray(quantity, dtype=float)
    cycle_units = q if settings.review == "continuous" else per_day * settings.review_days
    if settings.target == "fill_rate":
        k = fill_rate_factor(levels, spread, cycle_units)
        point = mean + k * spread
    else:
        point = mean + safety_factor(levels) * spread
        slow = (mean < settings.slow_units) & (mean > 0)
        if slow.any():
            point = point.copy()
            point[slow] = count_quantile(mean[slow], spread[slow], levels[slow])
    point = np.where(per_day > 0, np.maximum(point, 0.0), 0.0)
    return Parameters(
        safety_stock=point - mean,
        reorder_point=point,
        order_quantity=q,
        sigma=spread,
    )


def orders_for(
    settings: PolicySettings, params: Parameters, position: np.ndarray, review_day: bool = True
) -> np.ndarray:
    """Units to order now at inventory ``position`` (0 where no order is due).

    Continuous: the smallest multiple of ``Q`` lifting the position above
    ``s`` when it is at or below ``s``. Periodic (on a review day): up to
    ``S``, in whole units.
    """
    s = params.reorder_point
    if settings.review == "periodic":
        if not review_day:
            return np.zeros_like(position)
        return np.where(s > position, np.ceil(s - position - 1e-9), 0.0)
    q = params.order_quantity
    due = (position <= s) & (q > 0)
    times = np.floor(np.divide(s - position, q, out=np.zeros_like(q), where=q > 0)) + 1
    return np.where(due, times * q, 0.0)
