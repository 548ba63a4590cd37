"""Guardrails on prices: what a learning policy or a recommendation may show.

Every price a policy explores and every price the pricing analysis recommends
passes through :class:`PriceGuardrails`, so an operator sets the limits once:
a floor and a ceiling relative to the product's reference price, a margin
floor over its unit cost, the largest change from one day's price to the
next, and the share of visitors a bandit may explore on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from shopkeeper.errors import ConfigError


@dataclass(frozen=True)
class PriceGuardrails:
    """Limits on a shown price, relative to the product's reference price.

    ``floor`` and ``ceiling`` are shares of the reference price (0.8 and 1.2
    allow 20% either way); ``margin_floor`` is the smallest allowed
    ``(price - cost) / price``; ``max_change_per_day`` the largest relative
    step from the price shown yesterday (``None``: no limit);
    ``exploration_share`` the share of decisions a learning policy may spend
    on prices other than its current best (the rest get the best).
    """

    floor: float = 0.8
    ceiling: float = 1.2
    margin_floor: float = 0.05
    max_change_per_day: float | None = 0.1
    exploration_share: float = 0.2

    def __post_init__(self) -> None:
        checks = [
            ("floor", self.floor, 0 < self.floor <= 1, "a share of the reference in (0, 1]"),
            ("ceiling", self.ceiling, self.ceiling >= 1, "a share of the reference, at least 1"),
            ("margin_floor", self.margin_floor, 0 <= self.margin_floor < 1, "in [0, 1)"),
            (
                "exploration_share",
                self.exploration_share,
                0 <= self.exploration_share <= 1,
                "in [0, 1]",
            ),
        ]
        step = self.max_change_per_day
        if step is not None:
            checks.append(("max_change_per_day", step, 0 < step < 1, "in (0, 1), or none"))
        for name, value, ok, rule in checks:
            if not ok or (isinstance(value, float) and math.isnan(value)):
                raise ConfigError(f"guardrail {name}={value!r}: must be {rule}")

    def bounds(
        self, reference: float, cost: float, last_price: float | None = None
    ) -> tuple[float, float]:
        """The lowest and highest allowed price; refuses when none is allowed.

        The margin floor raises the lower bound to ``cost / (1 - margin_floor)``;
        the daily step narrows both bounds around ``last_price``.
        """
        if not reference > 0:
            raise ConfigError(f"reference price {reference!r}: must be above 0")
        if cost < 0:
            raise ConfigError(f"unit cost {cost!r}: must be at least 0")
        lo = max(reference * self.floor, cost / (1.0 - self.margin_floor))
        hi = reference * self.ceiling
        if last_price is not None and self.max_change_per_day is not None:
            lo = max(lo, last_price * (1.0 - self.max_change_per_day))
            hi = min(hi, last_price * (1.0 + self.max_change_per_day))
        if lo > hi + 1e-9:
            raise ConfigError(
                f"no price is allowed: the margin floor ({self.margin_floor:.0%} over a cost "
                f"of {cost:.2f}) and the daily step need at least {lo:.2f}, the ceiling "
                f"allows at most {hi:.2f}"
            )
        return lo, max(lo, hi)

    def grid(
        self,
        reference: float,
        cost: float,
        points: int = 7,
        last_price: float | None = None,
    ) -> np.ndarray:
        """``points`` evenly spaced prices between the bounds, rounded to cents."""
        if points < 1:
            raise ConfigError(f"price points {points!r}: must be at least 1")
        lo, hi = self.bounds(reference, cost, last_price)
        prices = np.unique(np.round(np.linspace(lo, hi, points), 2))
        # Rounding must not step outside the bounds (or below the margin floor).
        return np.clip(prices, math.ceil(lo * 100) / 100, math.floor(hi * 100) / 100)

    def allows(
        self, price: float, reference: float, cost: float, last_price: float | None = None
    ) -> bool:
        """Whether ``price`` lies within the bounds (to the cent)."""
        lo, hi = self.bounds(reference, cost, last_price)
        return lo - 0.005 <= price <= hi + 0.005

    def clip(
        self, price: float, reference: float, cost: float, last_price: float | None = None
    ) -> float:
        """``price`` moved to the nearest allowed price."""
        lo, hi = self.bounds(reference, cost, last_price)
        return float(min(max(price, lo), hi))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PriceGuardrails:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(
                f"unknown guardrail {unknown[0]!r}; known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**known)
