"""The reorder plan on a shop whose every figure can be worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError, ContractError
from shopkeeper.forecast import Demand
from shopkeeper.forecast._baselines import Baseline, naive
from shopkeeper.ingest import load_frames
from shopkeeper.inventory import (
    ErrorBook,
    MovingAverage,
    PolicySettings,
    build_stock,
    check_inventory,
    from_baseline,
    load_stock,
    reorder_plan,
)
from shopkeeper.inventory._data import daily_units
from shopkeeper.store import Store
from tests.inventory.shop import shop_frames


@pytest.fixture
def shop_store(sqlite_store: Store) -> Store:
    load_frames(shop_frames(), sqlite_store)
    return sqlite_store


def test_the_plan_of_the_hand_built_shop(shop_store: Store) -> None:
    stock = load_stock(shop_store)
    assert stock.as_of == pd.Timestamp("2024-04-30") and stock.timezone == "UTC"
    plan = reorder_plan(stock)
    # Orders due first: only `steady` (10 on hand, 2 a day, 5 days of lead time).
    assert plan["product_id"].iloc[0] == "steady"
    rows = plan.set_index("product_id")
    steady = rows.loc["steady"]
    assert steady["demand_per_day"] == pytest.approx(2.0)
    # Constant demand: no forecast error, so σ is the Poisson floor sqrt(10); 10 units over
    # the lead time is a slow mover, so s is the Poisson(10) 95% quantile, 15.
    assert steady["sigma"] == pytest.approx(np.sqrt(10.0))
    assert steady["reorder_point"] == 15 and steady["safety_stock"] == pytest.approx(5.0)
    # EOQ: sqrt(2·730·50 / (0.25·10)) = 170.9 -> 171 units, 1,710 at cost.
    assert bool(steady["order_now"]) and steady["order_units"] == 171
    assert steady["order_value"] == pytest.approx(1710.0)
    assert steady["stock_value"] == pytest.approx(100.0)
    # 10 units at 2 a day last through the 4th of May: it runs out during the 5th day.
    assert steady["runout_date"] == dt.date(2024, 5, 4)
    assert steady["days_of_cover"] == pytest.approx(5.0)
    assert steady["stockout_risk"] > 0.4
    flush = rows.loc["flush"]
    # 25 units over the lead time: the normal, s = 25 + 1.6449·5.
    assert flush["reorder_point"] == pytest.approx(25 + 1.64485 * 5, abs=1e-3)
    assert not flush["order_now"] and flush["order_units"] == 0 and flush["order_value"] == 0
    assert flush["position"] == 500 and flush["days_of_cover"] == pytest.approx(80.0)
    assert flush["runout_date"] == dt.date(2024, 4, 30) + dt.timedelta(days=79)
    assert flush["stockout_risk"] < 1e-6
    slow = rows.loc["slow"]
    assert slow["demand_per_day"] == pytest.approx(0.25) and not slow["order_now"]
    assert (plan["defaulted"] == "").all()


def test_a_service_level_and_periodic_review_change_the_plan(shop_store: Store) -> None:
    stock = load_stock(shop_store)
    high = reorder_plan(stock, PolicySettings(override_level=0.999)).set_index("product_id")
    base = reorder_plan(stock).set_index("product_id")
    assert (high["safety_stock"] > base["safety_stock"]).all()
    assert (high["service_level"] == 0.999).all()
    periodic = reorder_plan(stock, PolicySettings(review="periodic", review_days=7))
    steady = periodic.set_index("product_id").loc["steady"]
    # Up to S: 12 days of 2 a day plus the safety stock, less the 10 on hand.
    assert steady["reorder_point"] > 24
    assert steady["order_units"] == np.ceil(steady["reorder_point"] - 10)


def test_missing_costs_take_the_documented_defaults(sqlite_store: Store) -> None:
    frames = shop_frames()
    frames["inventory"] = frames["inventory"].drop(
        columns=["unit_cost", "order_cost", "holding_cost_rate", "service_level"]
    )
    load_frames(frames, sqlite_store)
    stock = load_stock(sqlite_store)
    items = stock.items.set_index("product_id")
    # unit_cost from products.cost (the shop's own figure, not marked as a guess).
    assert items.loc["steady", "unit_cost"] == 10.0
    assert items.loc["steady", "order_cost"] == 50.0
    assert items.loc["steady", "holding_cost_rate"] == 0.25
    assert items.loc["steady", "defaulted"] == "order_cost,holding_cost_rate"
    plan = reorder_plan(stock).set_index("product_id")
    assert plan.loc["steady", "service_level"] == 0.95


def test_demand_is_matched_to_inventory_rows_by_the_rules() -> None:
    inventory = pd.DataFrame(
        {
            "product_id": ["p", "p", "q"],
            "location_id": ["A", "B", None],
            "on_hand": [1, 1, 1],
            "lead_time_days": [2, 2, 2],
        }
    )
    day = pd.Timestamp("2024-01-01")
    sold = pd.DataFrame(
        {
            "product_id": ["p", "p", "q", "r"],
            "location_id": ["A", "", "A", "A"],
            "day": [day, day + pd.Timedelta(days=1), day, day],
            "units": [3.0, 4.0, 5.0, 6.0],
        }
    )
    stock = build_stock(inventory, sold)
    # p at A: its own row; p online (no row there): shared by A and B; q: the shop-wide row.
    assert stock.demand[0].tolist() == [3.0, 2.0] and stock.demand[1].tolist() == [0.0, 2.0]
    assert stock.demand[2].tolist() == [5.0, 0.0]
    assert stock.first.tolist() == [0, 1, 0] and "shared equally" in stock.notes[0]


def test_weekly_data_is_spread_over_its_days() -> None:
    frame = pd.DataFrame(
        {
            "series": ["p", "p"],
            "product_id": ["p", "p"],
            "location_id": ["", ""],
            "period": pd.to_datetime(["2024-01-03", "2024-01-10"]),
            "units": [14.0, 7.0],
        }
    )
    daily = daily_units(Demand(frame=frame, frequency="week", by_location=False, timezone="UTC"))
    assert len(daily) == 14 and daily["units"].sum() == pytest.approx(21.0)
    assert daily["day"].min() == pd.Timestamp("2024-01-03") and daily["units"].iloc[0] == 2.0


def test_bad_inventory_is_refused_naming_table_and_column(sqlite_store: Store) -> None:
    with pytest.raises(ConfigError, match="the inventory table is empty"):
        check_inventory(pd.DataFrame(columns=["product_id", "on_hand", "lead_time_days"]))
    with pytest.raises(ConfigError, match=r"lacks the required column.* lead_time_days"):
        check_inventory(pd.DataFrame({"product_id": ["p"], "on_hand": [3]}))
    with pytest.raises(ConfigError, match=r"row 2: on_hand -1 must be >= 0"):
        check_inventory(
            pd.DataFrame({"product_id": ["p", "q"], "on_hand": [1, -1], "lead_time_days": [1, 1]})
        )
    with pytest.raises(ConfigError, match=r"service_level 1\.5 must lie strictly between"):
        check_inventory(
            pd.DataFrame(
                {"product_id": ["p"], "on_hand": [1], "lead_time_days": [1], "service_level": [1.5]}
            )
        )
    # The contract already refuses a negative on_hand at ingest, naming file, row and value.
    frames = shop_frames()
    frames["inventory"].loc[0, "on_hand"] = "-4"
    with pytest.raises(ContractError, match=r"inventory.*on_hand '-4'"):
        load_frames(frames, sqlite_store)
    # A store with sales but no inventory rows: the plan says what to load.
    frames = shop_frames()
    del frames["inventory"]
    load_frames(frames, sqlite_store)
    with pytest.raises(ConfigError, match=r"inventory table is empty.*inventory\.csv"):
        load_stock(sqlite_store)


def _trend_stock(days: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    inventory = pd.DataFrame(
        {"product_id": ["t"], "location_id": [""], "on_hand": [0], "lead_time_days": [7]}
    )
    start = pd.Timestamp("2024-01-01")
    sold = pd.DataFrame(
        {
            "product_id": "t",
            "location_id": "",
            "day": pd.date_range(start, periods=days, freq="D"),
            "units": np.arange(1, days + 1, dtype=float),  # demand grows by one a day
        }
    )
    return inventory, sold


def test_a_better_forecaster_buys_less_safety_stock() -> None:
    # On a rising trend the last value lags less than a 28-day mean: smaller measured errors.
    stock = build_stock(*_trend_stock())
    average = reorder_plan(stock, forecaster=MovingAverage(28)).iloc[0]
    last = reorder_plan(stock, forecaster=from_baseline(Baseline("naive", naive))).iloc[0]
    assert last["sigma"] < average["sigma"] / 3
    assert last["safety_stock"] < average["safety_stock"] / 3


def test_forecasts_see_only_the_days_before_their_origin() -> None:
    stock = build_stock(*_trend_stock(90))
    seen: list[pd.Timestamp] = []

    def spy(train: pd.DataFrame, horizon: int) -> pd.DataFrame:
        seen.append(pd.Timestamp(train["period"].max()))
        return MovingAverage(7)(train, horizon)

    book = ErrorBook(stock, spy, np.array([7.0]), origins=4, spacing=7)
    ltd = book.at(60)
    # The decision day's forecast and four closed origins, every one from before its origin.
    assert len(seen) >= 5 and max(seen) == stock.days[59]
    assert sorted(book._paths) == [32, 39, 46, 53, 60]
    assert ltd.errors[0] == 4
