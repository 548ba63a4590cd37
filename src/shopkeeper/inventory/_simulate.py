"""Replaying a stock policy over the shop's own past demand, next to a naive rule.

The last ``holdout_days`` of the data are replayed day by day for every
inventory row that had sold before them, after ``warmup_days`` simulated but
not counted (so that each policy starts the holdout from its own running
state, not from a chosen stock). Each day, in this order:

1. the day's demand (what the order lines sold that day) hits the shelf;
   what the shelf cannot serve is **lost** (an online shopper facing "out of
   stock" buys elsewhere; backorders would flatter a policy that runs out);
2. orders due that day arrive: an order placed at the end of day ``t`` with
   a lead time of ``L`` days (rounded up) arrives at the end of day
   ``t + L``, so its reorder point had ``L`` days of demand to cover;
3. the policy looks at the inventory position (on hand plus on order) and
   orders.

The policy is recomputed every ``review_days`` (weekly by default) from the
demand *before* that day only: the forecast made then, and the errors of
forecasts made at earlier origins whose span had closed by then. The
continuous policy checks its reorder point daily against the latest
parameters; the periodic one orders on review days only.

Starting stock: each row starts the warm-up at a random point of its own
policy's cycle, ``s + U·Q`` (periodic: ``S − U·R·d``), with the same draw of
``U`` for every policy compared, so no policy starts with an advantage.

The **naive rule** reorders a fixed quantity at a fixed level, both in days
of average demand (the mean of the last ``window`` days, recomputed on the
same schedule): when the position falls to ``(L + buffer_days)·d̄``, order
``cover_days·d̄``. It knows the lead time (a rule that did not would be a
straw man for imported goods) but not the spread of demand.

Figures per policy (over the holdout only): **fill rate** (units served over
units demanded), **cycle service level** (the share of replenishment cycles,
from one arrival to the next, with no lost sale), **stock-out days**
(product-location days with a lost sale), average stock (units and value at
unit cost, at the end of each day), orders placed, and the holding and
ordering costs. Demand is the shop's recorded *sales*: during the shop's own
stock-outs it understates what customers wanted, for every policy alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError
from shopkeeper.inventory._data import Stock
from shopkeeper.inventory._forecast import (
    ErrorBook,
    Forecaster,
    LeadTimeDemand,
    MovingAverage,
    forecaster_name,
)
from shopkeeper.inventory._math import DAYS_PER_YEAR
from shopkeeper.inventory._policy import Parameters, PolicySettings, orders_for, parameters

#: Decides the orders of a day: (day index, on hand, position) -> units to order.
Decide = Callable[[int, np.ndarray, np.ndarray], np.ndarray]
Progress = Callable[[str, int, int], None]

POLICY_LEVELS = (0.80, 0.90, 0.95, 0.98, 0.99, 0.995)
NAIVE_BUFFERS = (0.0, 3.0, 7.0, 14.0, 21.0, 28.0, 42.0, 56.0)


@dataclass(frozen=True)
class NaiveRule:
    """Reorder ``cover_days`` of average demand when the position falls to ``L + buffer_days``."""

    buffer_days: float = 7.0
    cover_days: float = 30.0
    window: int = 28

    def __post_init__(self) -> None:
        if self.buffer_days < 0 or self.cover_days <= 0 or self.window < 1:
            raise ConfigError("the naive rule needs buffer_days >= 0, cover_days > 0, window >= 1")

    @property
    def name(self) -> str:
        return f"naive L+{self.buffer_days:g}d, Q={self.cover_days:g}d"


@dataclass
class Replay:
    """Per row totals of one replay (``measured`` days only, but ``final`` and ``received``
    over every simulated day, for the bookkeeping: ``start + received = served + final``)."""

    start: np.ndarray
    demanded: np.ndarray
    served: np.ndarray
    lost: np.ndarray
    served_all: np.ndarray
    received: np.ndarray
    final: np.ndarray
    on_order: np.ndarray
    orders: np.ndarray
    ordered_units: np.ndarray
    stock_days: np.ndarray  # sum over measured days of end-of-day on hand
    stockout_days: np.ndarray
    cycles: np.ndarray
    stockout_cycles: np.ndarray
    days: int
    log: list[tuple[int, int, float]] = field(default_factory=list)  # (day, row, units) ordered


def replay(
    demand: np.ndarray,
    lead_days: np.ndarray,
    start_stock: np.ndarray,
    decide: Decide,
    *,
    first_day: int,
    measure_from: int,
    end: int,
    keep_log: bool = False,
) -> Replay:
    """Run days ``first_day .. end-1`` in the module doc's order; count from ``measure_from``."""
    n = demand.shape[0]
    lead = np.ceil(np.asarray(lead_days, dtype=float) - 1e-9).astype(np.int64)
    lead = np.maximum(lead, 0)
    arrivals = np.zeros((n, end + int(lead.max(initial=0)) + 2))
    on_hand = np.asarray(start_stock, dtype=float).copy()
    on_order = np.zeros(n)
    z = np.zeros
    out = Replay(
        start=on_hand.copy(),
        demanded=z(n),
        served=z(n),
        lost=z(n),
        served_all=z(n),
        received=z(n),
        final=z(n),
        on_order=z(n),
        orders=z(n),
        ordered_units=z(n),
        stock_days=z(n),
        stockout_days=z(n),
        cycles=z(n),
        stockout_cycles=z(n),
        days=max(end - measure_from, 0),
    )
    short_in_cycle = np.zeros(n, dtype=bool)
    rows = np.arange(n)
    for day in range(first_day, end):
        counted = day >= measure_from
        want = demand[:, day]
        served = np.minimum(on_hand, want)
        lost = want - served
        on_hand -= served
        out.served_all += served
        came = arrivals[:, day]
        on_hand += came
        on_order -= came
        out.received += came
        got = came > 0
        if counted:
            out.demanded += want
            out.served += served
            out.lost += lost
            short = lost > 1e-9
            out.stockout_days += short
            short_in_cycle |= short
            out.cycles += got
            out.stockout_cycles += got & short_in_cycle
        short_in_cycle[got] = False
        units = decide(day, on_hand, on_hand + on_order)
        placed = units > 0
        if placed.any():
            arrivals[rows[placed], day + lead[placed]] += units[placed]
            on_order += units
            if counted:
                out.orders += placed
                out.ordered_units += units
            if keep_log:
                out.log += [(day, int(r), float(units[r])) for r in rows[placed]]
        if counted:
            out.stock_days += on_hand
    out.final = on_hand
    out.on_order = on_order
    return out


@dataclass(frozen=True)
class Variant:
    """One policy to replay: the stock policy (with settings) or the naive rule."""

    name: str
    kind: str  # "policy" or "naive"
    settings: PolicySettings | None = None
    naive: NaiveRule | None = None
    quantity_days: float | None = None  # policy with Q fixed in days of demand instead of EOQ
    curve: str = ""  # which curve the variant belongs to ("" for the headline rows)


@dataclass
class Simulation:
    """The replayed policies: ``table`` (one row per variant) and the matched comparison."""

    table: pd.DataFrame
    matched: dict[str, Any]
    holdout: tuple[str, str]
    warmup_days: int
    items: int
    forecaster: str
    settings: PolicySettings
    naive: NaiveRule
    seconds: float = 0.0

    def headline(self) -> pd.DataFrame:
        return self.table[self.table["curve"] == ""]

    def curves(self) -> pd.DataFrame:
        return self.table[self.table["curve"] != ""]

    def to_dict(self) -> dict[str, Any]:
        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for row in frame.to_dict(orient="records"):
                out.append(
                    {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
                )
            return out

        return {
            "holdout": {"first": self.holdout[0], "last": self.holdout[1]},
            "warmup_days": self.warmup_days,
            "items": self.items,
            "forecaster": self.forecaster,
            "review": self.settings.review,
            "review_days": self.settings.review_days,
            "naive_rule": {
                "buffer_days": self.naive.buffer_days,
                "cover_days": self.naive.cover_days,
                "window": self.naive.window,
            },
            "policies": rows(self.headline()),
            "curves": rows(self.curves()),
            "matched": self.matched,
            "seconds": round(self.seconds, 3),
        }


def summarise(
    name: str, run: Replay, unit_cost: np.ndarray, holding: np.ndarray, order_cost: np.ndarray
) -> dict[str, Any]:
    """The figures of the module doc for one replay, pooled over rows."""
    days = max(run.days, 1)
    demanded = float(run.demanded.sum())
    cycles = float(run.cycles.sum())
    row: dict[str, Any] = {
        "policy": name,
        "fill_rate": float(run.served.sum() / demanded) if demanded > 0 else float("nan"),
        "cycle_service_level": (
            float(1 - run.stockout_cycles.sum() / cycles) if cycles > 0 else float("nan")
        ),
        "stockout_days": int(run.stockout_days.sum()),
        "stockout_day_share": float(run.stockout_days.sum() / (days * len(run.served))),
        "lost_units": float(run.lost.sum()),
        "average_units": float(run.stock_days.sum() / days),
        "average_value": float((run.stock_days * unit_cost).sum() / days),
        "orders": int(run.orders.sum()),
        "ordered_units": float(run.ordered_units.sum()),
        "holding_cost": float((run.stock_days * unit_cost * holding).sum() / DAYS_PER_YEAR),
        "ordering_cost": float((run.orders * order_cost).sum()),
    }
    row["total_cost"] = row["holding_cost"] + row["ordering_cost"]
    return row


def _at_fill_rate(curve: pd.DataFrame, target: float, column: str) -> float | None:
    """``column`` interpolated at fill rate ``target`` along a curve (None outside it)."""
    points = curve.sort_values("fill_rate")
    x, y = points["fill_rate"].to_numpy(), points[column].to_numpy()
    if len(x) == 0 or target < x[0] - 1e-12 or target > x[-1] + 1e-12:
        return None
    return float(np.interp(target, x, y))


def simulate(
    stock: Stock,
    settings: PolicySettings | None = None,
    forecaster: Forecaster | None = None,
    *,
    holdout_days: int = 90,
    warmup_days: int = 56,
    naive: NaiveRule | None = None,
    levels: Sequence[float] = POLICY_LEVELS,
    buffers: Sequence[float] = NAIVE_BUFFERS,
    seed: int = 0,
    progress: Progress | None = None,
) -> Simulation:
    """Replay the policy and the naive rule over the holdout, with their curves.

    The headline rows: the policy as the plan computes it (each row's own
    service level, EOQ), the same reorder points ordering the naive rule's
    quantity (so the two differ only in when they reorder; continuous review
    only), and the naive rule. The curves: the policy at every level of ``levels`` (all rows alike),
    with EOQ and with the naive quantity, and the naive rule at every buffer
    of ``buffers``. ``matched`` holds the naive rule's stock at the policy's
    fill rate, read off its curve, and the policy's at the naive rule's.
    """
    import time

    started = time.perf_counter()
    cfg = settings or PolicySettings()
    rule = naive or NaiveRule()
    model = forecaster or MovingAverage(cfg.window)
    n_days = stock.demand.shape[1]
    if holdout_days < 1:
        raise ConfigError(f"the holdout must be 1 or more days, got {holdout_days}")
    if holdout_days + 14 > n_days:
        raise ConfigError(
            f"a holdout of {holdout_days} days leaves {n_days - holdout_days} days of the "
            f"{n_days} in the data to learn from; use a holdout of at most {n_days - 14} days"
        )
    measure_from = n_days - holdout_days
    first_day = max(measure_from - max(warmup_days, 0), 14)
    rows = np.flatnonzero(stock.first < first_day)
    if len(rows) == 0:
        raise ConfigError("no inventory row sold anything before the simulation starts")
    sub = _subset(stock, rows)
    items = sub.items
    lead = items["lead_time_days"].to_numpy(dtype=float)
    unit_cost = items["unit_cost"].to_numpy(dtype=float)
    holding = items["holding_cost_rate"].to_numpy(dtype=float)
    order_cost = items["order_cost"].to_numpy(dtype=float)
    own_levels = items["service_level"].to_numpy(dtype=float)
    reviews = list(range(first_day, n_days, cfg.review_days))
    book = ErrorBook(sub, model, cfg.span(lead), origins=cfg.error_origins, spacing=cfg.review_days)

    # The forecasts and their errors are the same for every variant: compute them once.
    ltd: dict[int, LeadTimeDemand] = {}
    for i, day in enumerate(reviews):
        ltd[day] = book.at(day)
        if progress is not None:
            progress("forecasts", i + 1, len(reviews))
    variants = _variants(cfg, rule, levels, buffers)
    u = np.random.default_rng(seed).random(len(items))
    lost_share: list[dict[str, Any]] = []
    for i, variant in enumerate(variants):
        decide, start = _decider(variant, sub, ltd, reviews, lead, own_levels, u)
        run = replay(
            sub.demand,
            lead,
            start,
            decide,
            first_day=first_day,
            measure_from=measure_from,
            end=n_days,
        )
        row = summarise(variant.name, run, unit_cost, holding, order_cost)
        row["curve"] = variant.curve
        row["parameter"] = _parameter(variant)
        lost_share.append(row)
        if progress is not None:
            progress("policies", i + 1, len(variants))
    table = pd.DataFrame(lost_share)
    return Simulation(
        table=table,
        matched=_matched(table),
        holdout=(str(stock.days[measure_from].date()), str(stock.days[-1].date())),
        warmup_days=measure_from - first_day,
        items=len(items),
        forecaster=forecaster_name(model),
        settings=cfg,
        naive=rule,
        seconds=time.perf_counter() - started,
    )


def _subset(stock: Stock, rows: np.ndarray) -> Stock:
    return Stock(
        items=stock.items.iloc[rows].reset_index(drop=True),
        demand=stock.demand[rows],
        first=stock.first[rows],
        days=stock.days,
        timezone=stock.timezone,
        notes=list(stock.notes),
    )


def _variants(
    cfg: PolicySettings, rule: NaiveRule, levels: Sequence[float], buffers: Sequence[float]
) -> list[Variant]:
    # Periodic review orders up to S whatever the quantity: no fixed-quantity variant there.
    fixed_q = cfg.review == "continuous"
    out = [Variant("policy", "policy", cfg)]
    if fixed_q:
        out.append(
            Variant(f"policy, Q={rule.cover_days:g}d", "policy", cfg, quantity_days=rule.cover_days)
        )
    out.append(Variant(rule.name, "naive", naive=rule))
    for level in levels:
        at = replace(cfg, override_level=level)
        out.append(Variant(f"policy {level:g}", "policy", at, curve="policy"))
        if fixed_q:
            out.append(
                Variant(
                    f"policy {level:g}, Q={rule.cover_days:g}d",
                    "policy",
                    at,
                    quantity_days=rule.cover_days,
                    curve="policy, naive quantity",
                )
            )
    for buffer in buffers:
        b = replace(rule, buffer_days=buffer)
        out.append(Variant(b.name, "naive", naive=b, curve="naive"))
    return out


def _parameter(variant: Variant) -> float | None:
    if variant.kind == "naive":
        assert variant.naive is not None
        return variant.naive.buffer_days
    assert variant.settings is not None
    return variant.settings.override_level or None


def _decider(
    variant: Variant,
    stock: Stock,
    ltd: dict[int, LeadTimeDemand],
    reviews: list[int],
    lead: np.ndarray,
    own_levels: np.ndarray,
    u: np.ndarray,
) -> tuple[Decide, np.ndarray]:
    """The variant's daily decision (parameters per review day) and its starting stock."""
    items = stock.items
    table: dict[int, Parameters] = {}
    if variant.kind == "naive":
        rule = variant.naive
        assert rule is not None
        cfg = PolicySettings()  # continuous review, the naive rule's own points
        for day in reviews:
            mean = stock.demand[:, max(day - rule.window, 0) : day].mean(axis=1)
            q = np.where(mean > 0, np.maximum(np.ceil(rule.cover_days * mean - 1e-9), 1.0), 0.0)
            s = (lead + rule.buffer_days) * mean
            table[day] = Parameters(np.zeros_like(s), s, q, np.zeros_like(s))
    else:
        cfg = variant.settings or PolicySettings()
        levels = cfg.levels(own_levels)
        for day in reviews:
            d = ltd[day]
            quantity = None
            if variant.quantity_days is not None:
                quantity = np.where(
                    d.per_day > 0,
                    np.maximum(np.ceil(variant.quantity_days * d.per_day - 1e-9), 1.0),
                    0.0,
                )
            table[day] = parameters(
                cfg,
                per_day=d.per_day,
                mean=d.mean,
                sigma=d.sigma,
                lead_time=lead,
                levels=levels,
                order_cost=items["order_cost"].to_numpy(dtype=float),
                unit_cost=items["unit_cost"].to_numpy(dtype=float),
                holding_cost_rate=items["holding_cost_rate"].to_numpy(dtype=float),
                quantity=quantity,
            )
    review_set = set(reviews)
    current = [table[reviews[0]]]

    def decide(day: int, on_hand: np.ndarray, position: np.ndarray) -> np.ndarray:
        if day in review_set:
            current[0] = table[day]
        return orders_for(cfg, current[0], position, review_day=day in review_set)

    first = table[reviews[0]]
    if cfg.review == "periodic":
        per_day = ltd[reviews[0]].per_day
        start = first.reorder_point - u * per_day * cfg.review_days
    else:
        start = first.reorder_point + u * first.order_quantity
    return decide, np.round(np.maximum(start, 0.0))


def _matched(table: pd.DataFrame) -> dict[str, Any]:
    """Stock and cost at equal fill rate: the naive curve read at each policy's fill rate."""
    head = table[table["curve"] == ""].set_index("policy")
    naive_curve = table[table["curve"] == "naive"]
    out: dict[str, Any] = {}
    for name in head.index:
        if name.startswith("naive"):
            continue
        fill = float(head.loc[name, "fill_rate"])
        entry: dict[str, Any] = {"fill_rate": fill}
        for column in ("average_units", "average_value", "total_cost"):
            own = float(head.loc[name, column])
            naive = _at_fill_rate(naive_curve, fill, column)
            entry[column] = own
            entry[f"naive_{column}"] = naive
            entry[f"{column}_saved"] = None if not naive else 1 - own / naive
        out[name] = entry
    return out
