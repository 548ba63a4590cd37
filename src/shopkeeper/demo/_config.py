"""The settings of a demo shop: its size, time span and random seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from shopkeeper.errors import ConfigError

Size = Literal["small", "default", "large"]


@dataclass(frozen=True)
class DemoConfig:
    """How big the generated shop is, when it runs, and the seed that fixes it.

    The same configuration always yields the same shop, byte for byte.
    ``order_rate`` scales how often customers order (1.0 gives about 22
    order lines per customer over 548 days); ``events_per_line`` is the
    rough ratio of click-stream events to order lines; ``review_rate`` the
    share of delivered orders that get a review; ``support_questions`` the
    number of support questions (``None``: one per 7 customers).
    """

    customers: int = 20_000
    products: int = 2_000
    days: int = 548
    seed: int = 7
    start: str = "2024-06-01"
    order_rate: float = 1.0
    guest_share: float = 0.05
    events_per_line: float = 7.0
    review_rate: float = 0.12
    support_questions: int | None = None

    def __post_init__(self) -> None:
        if self.customers < 100:
            raise ConfigError(f"demo customers must be at least 100, got {self.customers}")
        if self.products < 120:
            raise ConfigError(f"demo products must be at least 120, got {self.products}")
        if not 60 <= self.days <= 3_660:
            raise ConfigError(f"demo days must be between 60 and 3660, got {self.days}")
        try:
            dt.date.fromisoformat(self.start)
        except ValueError:
            raise ConfigError(
                f"demo start must be a date (YYYY-MM-DD), got {self.start!r}"
            ) from None
        for name in ("order_rate", "events_per_line", "review_rate"):
            if getattr(self, name) < 0:
                raise ConfigError(f"demo {name} must not be negative")
        if not 0 <= self.guest_share < 0.9:
            raise ConfigError("demo guest_share must be between 0 and 0.9")
        if self.support_questions is not None and self.support_questions < 0:
            raise ConfigError("demo support_questions must not be negative")

    @classmethod
    def preset(cls, size: Size | str, **overrides: Any) -> DemoConfig:
        """A named size: ``small`` for tests (seconds), ``default``, ``large`` (10x lines)."""
        if size == "small":
            base = cls(customers=2_000, products=300, days=180)
        elif size == "default":
            base = cls()
        elif size == "large":
            base = cls(customers=200_000, products=5_000)
        else:
            raise ConfigError(f"unknown demo size {size!r}; use small, default or large")
        return replace(base, **overrides)

    def scaled(self, factor: float) -> DemoConfig:
        """The same shop with ``factor`` times the customers (so about as many more orders).

        The catalog grows with the square root of the factor, as real catalogs
        grow slower than their customer base.
        """
        if factor <= 0:
            raise ConfigError(f"demo scale factor must be positive, got {factor}")
        return replace(
            self,
            customers=max(100, round(self.customers * factor)),
            products=max(120, round(self.products * factor**0.5)),
        )

    @property
    def start_date(self) -> dt.date:
        return dt.date.fromisoformat(self.start)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
