"""Regret of recommended prices on the demo shop, under the response it planted.

The demo multiplies a product's choice weight by ``(p / list_start) ** e``
with ``e`` its top category's elasticity, and a customer picks a product
within a sub-category in proportion to the weights. So a product with
share ``s`` of its sub-category's weight sells, at price ``p`` instead of
its current price ``p0`` (``x = p / p0``)::

    q(p) / q(p0) = x ** e / (s x ** e + 1 - s)

an own-price elasticity of about ``e (1 - s)``. Approximations, stated
where the figures are shown: one customer segment (the demo has several,
each with its own weights; ``s`` is the product's share of its
sub-category's units in the data); every unit of the product responds (in
the simulation, re-purchases of consumables and complements added to a
basket do not respond on the day, but they follow the purchases that do);
the base demand ``q(p0)`` is the product's mean units per day in the data.
The true optimum is the best price on a fine grid within the same
guardrail bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.decide import PriceGuardrails
from shopkeeper.pricing._panel import DemandPanel

GRID = 2001


def planted_response(x: np.ndarray, e: float, share: float) -> np.ndarray:
    """Units at ``x`` times the current price, relative to units now (see the module doc)."""
    w = np.power(x, e)
    return np.asarray(w / (share * w + 1.0 - share))


def _profit(p: float, cost: float, q0: float, p0: float, e: float, share: float) -> float:
    """Profit per day at price ``p`` under the planted response."""
    return float((p - cost) * q0 * planted_response(np.array([p / p0]), e, share)[0])


def planted_regret(
    recommendations: pd.DataFrame,
    panel: DemandPanel,
    truth: dict[str, Any],
    guardrails: PriceGuardrails | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per product and in total: profit per day at the recommendation vs the true optimum.

    Returns the per-product table (``true_elasticity``, ``share``,
    ``true_price``, ``profit_true_opt``, ``profit_recommended``,
    ``profit_current`` per day, ``regret``) and the totals: ``regret`` (the
    share of the attainable profit the recommendations miss), ``regret_current``
    (what keeping today's prices misses), ``uplift`` (recommended over current).
    """
    rails = guardrails or PriceGuardrails()
    by_top = truth["elasticity_by_top_category"]
    category = panel.products.set_index("product_id")["category"].fillna("").astype(str)
    top = category.str.split(">").str[0].str.strip()
    units = panel.frame.groupby("product_id")["units"].sum()
    days = max(
        1.0,
        (pd.Timestamp(panel.frame["period"].max()) - pd.Timestamp(panel.frame["period"].min()))
        / pd.Timedelta(days=1)
        + (7.0 if panel.frequency == "week" else 1.0),
    )
    sub_units = units.groupby(category.reindex(units.index)).transform("sum")
    share = (units / sub_units.replace(0, np.nan)).fillna(0.0)
    rows = []
    recs = recommendations.dropna(subset=["recommended_price"])
    for r in recs.itertuples(index=False):
        pid = str(r.product_id)
        e = float(by_top[top[pid]])
        s = float(share.get(pid, 0.0))
        p0, c = float(r.current_price), float(r.cost)
        lo, hi = rails.bounds(p0, c)
        grid = np.linspace(lo, hi, GRID)
        q0 = float(units.get(pid, 0.0)) / days
        profit = (grid - c) * q0 * planted_response(grid / p0, e, s)
        best = int(np.argmax(profit))

        rec = float(r.recommended_price)
        rows.append(
            {
                "product_id": pid,
                "top_category": top[pid],
                "true_elasticity": e,
                "share": s,
                "estimated_elasticity": float(r.elasticity),
                "current_price": p0,
                "cost": c,
                "recommended_price": rec,
                "true_price": float(grid[best]),
                "profit_true_opt": float(profit[best]),
                "profit_recommended": _profit(rec, c, q0, p0, e, s),
                "profit_current": _profit(p0, c, q0, p0, e, s),
            }
        )
    table = pd.DataFrame(rows)
    opt = table["profit_true_opt"].to_numpy()
    table["regret"] = np.where(
        opt > 0, 1 - table["profit_recommended"] / np.where(opt > 0, opt, 1), 0
    )
    total_opt = float(opt.sum())
    total_rec = float(table["profit_recommended"].sum())
    total_now = float(table["profit_current"].sum())
    summary = {
        "products": float(len(table)),
        "profit_true_opt_per_day": total_opt,
        "profit_recommended_per_day": total_rec,
        "profit_current_per_day": total_now,
        "regret": 1 - total_rec / total_opt if total_opt > 0 else 0.0,
        "regret_current": 1 - total_now / total_opt if total_opt > 0 else 0.0,
        "uplift": total_rec / total_now - 1 if total_now > 0 else 0.0,
        "same_side": float(
            np.mean(
                np.sign(table["recommended_price"] - table["current_price"])
                == np.sign(table["true_price"] - table["current_price"])
            )
        ),
    }
    return table, summary
