"""What the marketing mix reads from a store, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.ingest import load_frames
from shopkeeper.mmm import load_mix_data
from shopkeeper.store import TIMEZONE_META, Store
from shopkeeper.timezone import parse_timezone

DAYS = 196  # 28 weeks: enough for a weekly mix too


def _shop() -> dict[str, pd.DataFrame]:
    """28 weeks: one order a day at 20:00 UTC, a second at 10:00 UTC, spend on two channels."""
    days = pd.date_range("2024-03-01", periods=DAYS, freq="D")
    late = [f"{d:%Y-%m-%d}T20:00:00+00:00" for d in days]  # the next day at +08:00
    noon = [f"{d:%Y-%m-%d}T10:00:00+00:00" for d in days]
    n = len(days)
    orders = pd.DataFrame(
        {
            "order_id": [f"L{i}" for i in range(n)] + [f"N{i}" for i in range(n)],
            "ordered_at": late + noon,
            "status": ["completed"] * (2 * n - 1) + ["cancelled"],
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": orders["order_id"],
            "product_id": ["p1"] * n + ["p2"] * n,
            "quantity": ["1"] * (2 * n),
            "unit_price": ["10"] * n + ["50"] * n,
        }
    )
    spend = pd.DataFrame(
        {
            "date": [f"{d:%Y-%m-%d}" for d in days] * 2,
            "channel": ["search"] * n + ["video"] * n,
            "spend": [str(100 + i % 7) for i in range(n)] + ["0"] * (n - 10) + ["50"] * 10,
        }
    )
    promotions = pd.DataFrame(
        {
            "product_id": ["p1", "p1"],
            "starts_at": ["2024-03-10T00:00:00+08:00", "2024-03-12T00:00:00+08:00"],
            "ends_at": ["2024-03-14T23:59:59+08:00", "2024-03-20T23:59:59+08:00"],
            "kind": ["discount", "discount"],
        }
    )
    products = pd.DataFrame(
        {"product_id": ["p1", "p2"], "title": ["a", "b"], "price": ["10", "50"]}
    )
    return {
        "products": products,
        "orders": orders,
        "order_lines": lines,
        "ad_spend": spend,
        "promotions": promotions,
    }


def test_days_are_the_shops_local_days(store: Store) -> None:
    load_frames(_shop(), store)
    utc = load_mix_data(store)
    local = load_mix_data(store, timezone="+08:00")
    assert utc.timezone == "UTC" and local.timezone == "+08:00"
    assert utc.channels == ("search", "video")
    # In UTC each day has both orders (10 + 50); at +08:00 the 20:00 order moves a day on.
    assert np.allclose(utc.sales[1:-1], 60.0)
    day = local.dates.get_loc(pd.Timestamp("2024-03-05"))
    assert local.sales[day] == 60.0 and local.orders[day] == 2
    # The cancelled order (the last day's noon order, 50) does not count.
    assert len(utc) == DAYS and utc.sales[-1] == 10.0
    # The store's own setting is used when no zone is given.
    with store.engine.begin() as conn:
        store.set_meta(conn, {TIMEZONE_META: "Asia/Shanghai"})
    assert load_mix_data(store).timezone == "Asia/Shanghai"


def test_spend_promotions_and_weeks(store: Store) -> None:
    load_frames(_shop(), store)
    data = load_mix_data(store, timezone="+08:00")
    i = data.channels.index("video")
    assert data.spend[i].sum() == pytest.approx(500.0)
    frame = data.frame().set_index("date")
    # p1 (one of two products) is on promotion 10-20 March: the overlapping windows merge.
    assert frame.loc["2024-03-15", "promotion"] == pytest.approx(0.5)
    assert frame.loc["2024-03-09", "promotion"] == 0.0
    assert frame.loc["2024-03-21", "promotion"] == 0.0
    assert data.price_index is not None and np.allclose(data.price_index, 1.0)
    weekly = load_mix_data(store, frequency="week", timezone="+08:00")
    assert weekly.frequency == "week" and len(weekly) == len(data) // 7
    assert weekly.sales[0] == pytest.approx(data.sales[:7].sum())
    assert weekly.spend.sum() == pytest.approx(data.spend[:, : len(weekly) * 7].sum())


def test_missing_or_disjoint_data_is_named(store: Store) -> None:
    shop = _shop()
    load_frames({k: v for k, v in shop.items() if k != "ad_spend"}, store)
    with pytest.raises(ConfigError, match="no ad_spend rows"):
        load_mix_data(store)
    with pytest.raises(ConfigError, match="frequency must be day or week"):
        load_mix_data(store, frequency="month")  # type: ignore[arg-type]


def test_too_short_a_window_is_refused(store: Store) -> None:
    shop = _shop()
    shop["ad_spend"] = shop["ad_spend"].iloc[:20]
    load_frames(shop, store)
    with pytest.raises(ConfigError, match="needs at least 56"):
        load_mix_data(store)


@pytest.mark.parametrize(
    ("text", "offset"),
    [("+08:00", dt.timedelta(hours=8)), ("-0530", -dt.timedelta(hours=5, minutes=30))],
)
def test_offsets_and_zone_names_parse(text: str, offset: dt.timedelta) -> None:
    assert parse_timezone(text).utcoffset(None) == offset
    assert parse_timezone("Asia/Shanghai") is not None
    with pytest.raises(ConfigError, match="neither an offset"):
        parse_timezone("Mars/Olympus")
    with pytest.raises(ConfigError, match="-14:00 to \\+14:00"):
        parse_timezone("+15:00")
