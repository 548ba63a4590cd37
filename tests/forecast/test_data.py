"""What the forecasts read: units per product (and location) per period, on both databases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper.adapters import convert
from shopkeeper.errors import ConfigError
from shopkeeper.forecast._data import fill_prices, load_demand, natural_frequency
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store


def _shop() -> dict[str, pd.DataFrame]:
    """Two products over ten days of 2024-03 at two stores; store B shut on the 5th."""
    rows = []
    for day in range(1, 11):
        for store in ("A", "B"):
            if store == "B" and day == 5:
                continue
            # p1 sells every day (2 units, 3 on the 3rd); p2 only on odd days at A.
            rows.append((f"{store}{day}a", store, day, "p1", 3 if day == 3 else 2, 10.0))
            if store == "A" and day % 2 == 1:
                rows.append((f"{store}{day}b", store, day, "p2", 1, 40.0 + day))
    rows.append(("X1", "A", 4, "p1", 50, 10.0))  # cancelled below: does not count
    orders = pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "location_id": [r[1] for r in rows],
            "ordered_at": [f"2024-03-{r[2]:02d}T12:00:00+00:00" for r in rows],
            "status": ["completed"] * (len(rows) - 1) + ["cancelled"],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "product_id": [r[3] for r in rows],
            "quantity": [str(r[4]) for r in rows],
            "unit_price": [str(r[5]) for r in rows],
        }
    )
    locations = pd.DataFrame({"location_id": ["A", "B"], "name": ["A", "B"], "kind": ["store"] * 2})
    products = pd.DataFrame({"product_id": ["p1", "p2"], "title": ["one", "two"]})
    promotions = pd.DataFrame(
        {
            "product_id": ["p1", "p2"],
            "starts_at": ["2024-03-06", "2024-03-02"],
            "ends_at": ["2024-03-07T23:00:00", "2024-03-02T23:00:00"],
            "kind": ["discount", "feature"],
            "location_id": ["A", None],
        }
    )
    return {
        "locations": locations,
        "products": products,
        "orders": orders,
        "order_lines": lines,
        "promotions": promotions,
    }


def test_units_per_product_location_and_day(store: Store) -> None:
    load_frames(_shop(), store)
    demand = load_demand(store)
    assert demand.frequency == "day" and demand.by_location and demand.timezone == "UTC"
    frame = demand.frame.set_index(["series", "period"])
    assert set(demand.series) == {"p1@A", "p1@B", "p2@A"}
    # The cancelled 50 units do not count; the 3rd sold 3.
    p1a = frame.loc["p1@A", "units"]
    assert p1a.sum() == 2 * 10 + 1 and p1a.loc["2024-03-03"] == 3
    # p2 sells on odd days: the even days are zeros, because store A was open.
    p2 = frame.loc["p2@A"]
    assert len(p2) == 10 and p2.loc["2024-03-02", "units"] == 0 and p2["units"].sum() == 5
    assert np.isnan(p2.loc["2024-03-02", "price"]) and p2.loc["2024-03-03", "price"] == 43.0
    # Store B shut on the 5th: its series skip that day instead of inventing a zero.
    assert pd.Timestamp("2024-03-05") not in frame.loc["p1@B"].index
    assert len(frame.loc["p1@B"]) == 9
    # The discount at A on the 6th and 7th; the shop-wide feature of p2 on the 2nd.
    assert list(p1a.index[frame.loc["p1@A", "discount"] == 1]) == list(
        pd.to_datetime(["2024-03-06", "2024-03-07"])
    )
    assert frame.loc["p1@B", "discount"].sum() == 0
    assert p2.loc["2024-03-02", "feature"] == 1 and p2["feature"].sum() == 1
    prices = fill_prices(demand.frame)
    assert not prices.isna().any()


def test_one_series_per_product_when_asked(store: Store) -> None:
    load_frames(_shop(), store)
    demand = load_demand(store, by_location=False, frequency="week")
    assert set(demand.series) == {"p1", "p2"} and demand.frequency == "week"
    frame = demand.frame.set_index(["series", "period"])
    # Weeks start on Monday for daily data: 4-10 March holds 7 days of A and 6 of B.
    assert frame.loc[("p1", pd.Timestamp("2024-03-04")), "units"] == 7 * 2 + 6 * 2
    # 26 February - 3 March holds the 1st to the 3rd at both stores (3 units on the 3rd).
    assert frame.loc[("p1", pd.Timestamp("2024-02-26")), "units"] == 2 * 2 + 2 * 2 + 3 * 2


def test_weekly_point_of_sale_data_is_read_per_week(tmp_path: Path, shared_data: Path) -> None:
    tables = convert("dominicks", source=shared_data / "dominicks_oj")
    store = Store(f"sqlite:///{tmp_path / 'oj.db'}")
    store.create()
    load_frames(tables, store)
    demand = load_demand(store)
    store.close()
    # Every Dominick's week starts on a Thursday: the natural frequency is the week.
    assert demand.frequency == "week" and demand.by_location
    assert (demand.frame["period"].dt.day_of_week == 3).all()
    assert len(demand.series) == 83 * 11
    # Whole store-weeks that were never reported are skipped, not zeros (106,139 rows).
    assert len(demand) == 106_139 and (demand.frame["units"] > 0).all()
    source = pd.read_csv(shared_data / "dominicks_oj" / "store_brand_week.csv")
    assert demand.frame["units"].sum() == pytest.approx(np.exp(source["logmove"]).round().sum())
    assert demand.frame["discount"].sum() == source["deal"].sum()


def test_natural_frequency_and_bad_input(sqlite_store: Store) -> None:
    days = pd.Series(pd.to_datetime(["2024-03-07", "2024-03-14", "2024-03-21"]))
    assert natural_frequency(days) == "week"
    assert natural_frequency(pd.Series(pd.to_datetime(["2024-03-07"]))) == "day"
    assert natural_frequency(pd.Series(pd.to_datetime(["2024-03-07", "2024-03-08"]))) == "day"
    with pytest.raises(ConfigError, match="no order lines"):
        load_demand(sqlite_store)
    with pytest.raises(ConfigError, match="frequency must be day or week"):
        load_demand(sqlite_store, frequency="month")  # type: ignore[arg-type]
