"""Inventory policy (issue 6): safety stock, reorder points, order quantities, the reorder plan.

- :func:`load_stock`: the ``inventory`` rows with their costs and daily demand
  (see :mod:`._data` for how sales are matched to rows);
- :class:`PolicySettings`, :func:`parameters`: the (s, Q) and (R, S) policies
  (:mod:`._policy`), built from the formulas of :mod:`._math`;
- :func:`reorder_plan`: order now or not, how much, the run-out date, the
  money tied up (:mod:`._plan`);
- :func:`simulate`: the policy replayed over the shop's own past next to a
  naive rule (:mod:`._simulate`);
- forecasters: any ``(train, horizon) -> forecasts`` callable;
  :class:`MovingAverage` is the default (:mod:`._forecast`).

See docs/inventory.md for the definitions and the choices behind them.
"""

from shopkeeper.inventory._analysis import InventoryPlan, ReplaySettings, load_plan, plan_stock
from shopkeeper.inventory._data import CostDefaults, Stock, build_stock, check_inventory, load_stock
from shopkeeper.inventory._forecast import ErrorBook, Forecaster, MovingAverage, from_baseline
from shopkeeper.inventory._math import (
    count_quantile,
    economic_order_quantity,
    fill_rate_factor,
    lead_time_demand_sigma,
    normal_loss,
    safety_stock_normal,
)
from shopkeeper.inventory._plan import PLAN_COLUMNS, reorder_plan
from shopkeeper.inventory._policy import PolicySettings, orders_for, parameters
from shopkeeper.inventory._simulate import NaiveRule, Simulation, replay, simulate

__all__ = [
    "PLAN_COLUMNS",
    "CostDefaults",
    "ErrorBook",
    "Forecaster",
    "InventoryPlan",
    "MovingAverage",
    "NaiveRule",
    "PolicySettings",
    "ReplaySettings",
    "Simulation",
    "Stock",
    "build_stock",
    "check_inventory",
    "count_quantile",
    "economic_order_quantity",
    "fill_rate_factor",
    "from_baseline",
    "lead_time_demand_sigma",
    "load_plan",
    "load_stock",
    "normal_loss",
    "orders_for",
    "parameters",
    "plan_stock",
    "reorder_plan",
    "replay",
    "safety_stock_normal",
    "simulate",
]
