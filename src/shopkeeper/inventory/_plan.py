"""The reorder plan: per product-location, order now or not, how much, and when it runs out.

Made for :attr:`Stock.as_of`, the first day after the data (the shop's time
zone), from the forecast made that day and the errors of the forecasts made
before it (see :mod:`._forecast`). Periodic review assumes today is a review
day. Columns of :func:`reorder_plan` (one row per inventory row):

``product_id``, ``location_id``, ``title``; ``on_hand``, ``on_order`` and
``position`` (their sum); ``demand_per_day`` (the forecast over the lead
time, per day); ``lead_time_days``; ``service_level``; ``sigma`` (of demand
over the span); ``safety_stock``; ``reorder_point`` (``s``, or ``S`` when
periodic); ``order_quantity`` (``Q``); ``order_now``; ``order_units`` and
``order_value`` (at unit cost); ``stockout_risk`` (the probability that
demand over the span exceeds the position: running out before an order
placed now arrives); ``runout_date`` (the day the on-hand stock alone would
run out along the forecast, with no open or new order arriving; empty when
nothing is forecast to sell); ``days_of_cover`` (on hand over demand per
day); ``stock_value`` (on hand at unit cost); ``unit_cost``; ``defaulted``.

Rows are sorted by urgency: orders due first, then the highest stock-out
risk, then the fewest days of cover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from shopkeeper.inventory._data import Stock
from shopkeeper.inventory._forecast import ErrorBook, Forecaster, MovingAverage
from shopkeeper.inventory._policy import PolicySettings, orders_for, parameters

PLAN_COLUMNS = (
    "product_id",
    "location_id",
    "title",
    "on_hand",
    "on_order",
    "position",
    "demand_per_day",
    "lead_time_days",
    "service_level",
    "sigma",
    "safety_stock",
    "reorder_point",
    "order_quantity",
    "order_now",
    "order_units",
    "order_value",
    "stockout_risk",
    "runout_date",
    "days_of_cover",
    "stock_value",
    "unit_cost",
    "defaulted",
)


def exceed_probability(
    mean: np.ndarray, sigma: np.ndarray, stock: np.ndarray, slow_units: float
) -> np.ndarray:
    """``P(D > stock)`` for span demand ``D``: normal, or counted for slow movers."""
    mean = np.asarray(mean, dtype=float)
    sigma = np.maximum(np.asarray(sigma, dtype=float), 1e-12)
    out = np.asarray(stats.norm.sf(stock, loc=mean, scale=sigma), dtype=float)
    slow = (mean < slow_units) & (mean > 0)
    if slow.any():
        mu, var, x = mean[slow], sigma[slow] ** 2, np.floor(stock[slow])
        poisson = var <= mu * (1 + 1e-9)
        counted = np.where(
            poisson,
            stats.poisson.sf(x, mu),
            stats.nbinom.sf(x, mu**2 / np.maximum(var - mu, 1e-12), mu / np.maximum(var, mu)),
        )
        out[slow] = counted
    return np.where(mean > 0, out, 0.0)


def runout_days(path: np.ndarray, on_hand: np.ndarray) -> np.ndarray:
    """Days from the path's first day until ``on_hand`` is used up (NaN if it never is).

    0 means it runs out during the first day (or is out already). Past the
    end of the path demand continues at the path's mean rate.
    """
    n, h = path.shape
    cum = np.cumsum(path, axis=1)
    inside = cum >= on_hand[:, None] - 1e-9
    hit = inside.any(axis=1)
    day = np.where(hit, inside.argmax(axis=1), 0).astype(float)
    rate = cum[:, -1] / h
    left = on_hand - cum[:, -1]
    # The day index h + j on which the cumulative demand past the path reaches `left`.
    beyond = h - 1 + np.ceil(np.divide(left, rate, out=np.full(n, np.nan), where=rate > 0) - 1e-9)
    out = np.where(hit, day, beyond)
    return np.where(on_hand <= 0, 0.0, out)


def reorder_plan(
    stock: Stock,
    settings: PolicySettings | None = None,
    forecaster: Forecaster | None = None,
) -> pd.DataFrame:
    """The plan for ``stock`` today (see the module doc for the columns and the order)."""
    cfg = settings or PolicySettings()
    items = stock.items
    lead = items["lead_time_days"].to_numpy(dtype=float)
    span = cfg.span(lead)
    book = ErrorBook(
        stock,
        forecaster or MovingAverage(cfg.window),
        span,
        origins=cfg.error_origins,
        spacing=cfg.origin_spacing,
    )
    today = stock.demand.shape[1]
    ltd = book.at(today)
    levels = cfg.levels(items["service_level"].to_numpy(dtype=float))
    unit_cost = items["unit_cost"].to_numpy(dtype=float)
    params = parameters(
        cfg,
        per_day=ltd.per_day,
        mean=ltd.mean,
        sigma=ltd.sigma,
        lead_time=lead,
        levels=levels,
        order_cost=items["order_cost"].to_numpy(dtype=float),
        unit_cost=unit_cost,
        holding_cost_rate=items["holding_cost_rate"].to_numpy(dtype=float),
    )
    on_hand = items["on_hand"].to_numpy(dtype=float)
    on_order = items["on_order"].to_numpy(dtype=float)
    position = on_hand + on_order
    units = orders_for(cfg, params, position)
    out_in = runout_days(ltd.path, on_hand)
    runout = pd.Series(pd.NaT, index=items.index, dtype="datetime64[ns]")
    known = ~np.isnan(out_in)
    runout[known] = stock.as_of + pd.to_timedelta(out_in[known], unit="D")
    plan = pd.DataFrame(
        {
            "product_id": items["product_id"],
            "location_id": items["location_id"],
            "title": items["title"],
            "on_hand": on_hand,
            "on_order": on_order,
            "position": position,
            "demand_per_day": ltd.per_day,
            "lead_time_days": lead,
            "service_level": levels,
            "sigma": params.sigma,
            "safety_stock": params.safety_stock,
            "reorder_point": params.reorder_point,
            "order_quantity": params.order_quantity,
            "order_now": units > 0,
            "order_units": units,
            "order_value": units * unit_cost,
            "stockout_risk": exceed_probability(ltd.mean, params.sigma, position, cfg.slow_units),
            "runout_date": runout.dt.date,
            "days_of_cover": np.divide(
                on_hand, ltd.per_day, out=np.full(len(items), np.nan), where=ltd.per_day > 0
            ),
            "stock_value": on_hand * unit_cost,
            "unit_cost": unit_cost,
            "defaulted": items["defaulted"],
        }
    )
    cover = plan["days_of_cover"].fillna(np.inf)
    order = np.lexsort((cover.to_numpy(), -plan["stockout_risk"].to_numpy(), ~plan["order_now"]))
    return plan.iloc[order].reset_index(drop=True)[list(PLAN_COLUMNS)]
