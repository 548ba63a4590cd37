"""The profit-maximising price per product, inside the price guardrails.

Under constant elasticity ``e`` demand is ``q(p) = q0 (p / p0) ** e`` and
profit ``(p - c) q(p)``. For ``e < -1`` profit peaks at ``p* = c e / (1 + e)``
(the markup rule); for ``-1 <= e`` a higher price always earns more, so the
optimum is the highest price allowed. The optimum is then moved inside the
bounds of :class:`~shopkeeper.decide.PriceGuardrails` (floor and ceiling
around the current price, the margin floor over cost); ``first_step`` is the
price allowed today under the guardrails' daily step from the current
price. Expected changes in units, revenue and profit follow from the same
demand curve; their intervals come from evaluating it at the ends of the
elasticity's interval (the price held at the recommendation).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from shopkeeper.decide import PriceGuardrails
from shopkeeper.errors import ConfigError
from shopkeeper.pricing._estimate import ElasticityResult
from shopkeeper.pricing._panel import DemandPanel


def optimal_price(elasticity: float, cost: float) -> float:
    """The unconstrained profit-maximising price: ``c e / (1 + e)``, or ``inf`` for ``e >= -1``."""
    if not elasticity < -1:
        return float("inf")
    return float(cost * elasticity / (1.0 + elasticity))


def _changes(ratio: float, e: float, price: float, current: float, cost: float) -> list[float]:
    units = ratio**e
    margin_now = current - cost
    profit = (price - cost) * units / margin_now - 1 if margin_now > 0 else np.nan
    return [units - 1, ratio ** (1 + e) - 1, profit]


def recommend_prices(
    elasticities: ElasticityResult,
    panel: DemandPanel,
    guardrails: PriceGuardrails | None = None,
    *,
    costs: Mapping[str, float] | None = None,
    prices: Mapping[str, float] | None = None,
    recent: int = 8,
) -> pd.DataFrame:
    """One row per product with an elasticity: the recommended price and what it should do.

    The current price is ``prices[product]``, else the product's list price,
    else the median of its last paid prices across locations; the unit
    cost is ``costs[product]``, else the product's ``cost``. ``units`` is
    the product's mean units per period over the last ``recent`` periods
    (all locations together). Columns: ``product_id``, ``title``,
    ``elasticity`` (``_lo``/``_hi``), ``cost``, ``current_price``,
    ``optimal_price`` (unconstrained), ``lower_bound``, ``upper_bound``,
    ``recommended_price`` with ``price_lo``/``price_hi`` (the optimum at the
    ends of the elasticity's interval), ``bound`` (``ceiling``, ``floor``,
    ``margin floor`` or empty), ``first_step``, ``units`` and the relative
    changes ``units_change``, ``revenue_change``, ``profit_change`` each with
    ``_lo``/``_hi``, ``profit_now`` and ``profit_new`` per period, ``why``.
    """
    rails = guardrails or PriceGuardrails()
    frame = panel.frame
    catalog = panel.products.set_index("product_id")
    last_periods = sorted(pd.unique(frame["period"]))[-max(recent, 1) :]
    recent_units = frame[frame["period"].isin(last_periods)].groupby("product_id")[
        "units"
    ].sum() / len(last_periods)
    last_paid = (
        frame[frame["sold"]]
        .sort_values("period")
        .groupby(["product_id", "location_id"])["price"]
        .last()
        .groupby("product_id")
        .median()
    )
    rows = []
    for r in elasticities.own.itertuples(index=False):
        pid = str(r.product_id)
        current = _first_finite(
            (prices or {}).get(pid), catalog["price"].get(pid), last_paid.get(pid)
        )
        cost = _first_finite((costs or {}).get(pid), catalog["cost"].get(pid), positive=False)
        row: dict[str, object] = {
            "product_id": pid,
            "title": r.title,
            "elasticity": r.elasticity,
            "elasticity_lo": r.lo,
            "elasticity_hi": r.hi,
            "cost": cost,
            "current_price": current,
            "units": float(recent_units.get(pid, 0.0)),
        }
        if current is None or cost is None:
            missing = "a current price" if current is None else "a unit cost"
            rows.append({**row, "why": f"no recommendation: the product has no {missing}"})
            continue
        try:
            lo, hi = rails.bounds(current, cost)
        except ConfigError as exc:
            rows.append({**row, "why": f"no recommendation: {exc}"})
            continue
        e = float(r.elasticity)
        best = optimal_price(e, cost)
        price = min(max(best, lo), hi)
        bound = ""
        if best > hi + 1e-9:
            bound = "ceiling"
        elif best < lo - 1e-9:
            bound = "margin floor" if lo > current * rails.floor + 1e-9 else "floor"
        ends = [min(max(optimal_price(float(x), cost), lo), hi) for x in (r.lo, r.hi)]
        ratio = price / current
        central = _changes(ratio, e, price, current, cost)
        at_ends = np.array([_changes(ratio, float(x), price, current, cost) for x in (r.lo, r.hi)])
        step = (
            rails.clip(price, current, cost, last_price=current)
            if rails.max_change_per_day is not None
            else price
        )
        row.update(
            optimal_price=best,
            lower_bound=lo,
            upper_bound=hi,
            recommended_price=price,
            price_lo=min(ends),
            price_hi=max(ends),
            bound=bound,
            first_step=step,
        )
        for j, name in enumerate(("units_change", "revenue_change", "profit_change")):
            row[name] = central[j]
            row[f"{name}_lo"] = float(np.nanmin(at_ends[:, j]))
            row[f"{name}_hi"] = float(np.nanmax(at_ends[:, j]))
        units = float(row["units"])  # type: ignore[arg-type]
        row["profit_now"] = units * (current - cost)
        row["profit_new"] = units * ratio**e * (price - cost)
        row["why"] = _why(e, best, bound, lo, hi)
        rows.append(row)
    return pd.DataFrame(rows)


def _why(e: float, best: float, bound: str, lo: float, hi: float) -> str:
    if not e < -1:
        head = f"demand is inelastic (e = {e:.2f} >= -1): a higher price earns more"
    else:
        head = f"markup rule c·e/(1+e) with e = {e:.2f} gives {best:.2f}"
    if bound == "ceiling":
        return f"{head}; held at the guardrail ceiling {hi:.2f}"
    if bound:
        return f"{head}; raised to the guardrail {bound} {lo:.2f}"
    return f"{head}; inside the guardrails"


def _first_finite(*values: object, positive: bool = True) -> float | None:
    """The first value that is a finite number (above 0, or at least 0 when not ``positive``)."""
    for v in values:
        if v is None:
            continue
        try:
            x = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if np.isfinite(x) and (x > 0 if positive else x >= 0):
            return x
    return None
