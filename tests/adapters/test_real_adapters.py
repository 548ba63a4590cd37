"""The real-data adapters on the real data sets in ``../shared/data``.

Each data set is converted once per module (all together take a few
seconds); the tests compare the tables with the raw files, read here
independently of the adapters.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper.adapters import ADAPTERS, convert, default_source
from shopkeeper.adapters._dominicks import week_start

pytestmark = pytest.mark.realdata

Tables = dict[str, pd.DataFrame]
Check = Callable[[Mapping[str, pd.DataFrame]], None]


def _source(name: str) -> Path:
    path = default_source(name)
    if not path.is_dir():
        pytest.skip(
            f"real data set {name!r} not found at {path}; put the shared data beside the "
            "checkout (../shared/data) or set SHOPKEEPER_SHARED_DATA"
        )
    return path


def _converted(name: str) -> tuple[Path, Tables]:
    path = _source(name)
    return path, convert(name, source=path)


@pytest.fixture(scope="module")
def instacart() -> tuple[Path, Tables]:
    return _converted("instacart")


@pytest.fixture(scope="module")
def cdnow() -> tuple[Path, Tables]:
    return _converted("cdnow")


@pytest.fixture(scope="module")
def cdnow_sample() -> tuple[Path, Tables]:
    return _converted("cdnow_sample")


@pytest.fixture(scope="module")
def groceries() -> tuple[Path, Tables]:
    return _converted("groceries")


@pytest.fixture(scope="module")
def dominicks() -> tuple[Path, Tables]:
    return _converted("dominicks")


@pytest.fixture(scope="module")
def movielens() -> tuple[Path, Tables]:
    return _converted("movielens")


# --- Instacart -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def instacart_raw(instacart: tuple[Path, Tables]) -> pd.DataFrame:
    return pd.read_csv(instacart[0] / "order_lines.csv", index_col=0)


def test_instacart_counts(
    instacart: tuple[Path, Tables], instacart_raw: pd.DataFrame, check_contract: Check
) -> None:
    _, t = instacart
    raw = instacart_raw
    assert len(t["order_lines"]) == len(raw) == 150_000
    assert len(t["orders"]) == raw["order_id"].nunique() == 15_183
    assert len(t["customers"]) == raw["user_id"].nunique() == 593
    assert len(t["products"]) == raw["product_id"].nunique() == 14_190
    assert (t["order_lines"]["quantity"] == 1).all()
    assert t["order_lines"]["unit_price"].isna().all()
    assert t["products"]["title"].str.fullmatch(r"Instacart product \d+").all()
    check_contract(t)


def test_instacart_spot_values(instacart: tuple[Path, Tables]) -> None:
    _, t = instacart
    orders = t["orders"].set_index("order_id")
    # raw row 0: order 2539329 is user 1's first order, order_dow 2 (Tuesday), hour 8.
    first = orders.loc["2539329"]
    assert first["customer_id"] == "1"
    assert first["ordered_at"] == pd.Timestamp("2017-01-03 08:00")
    assert first["order_number"] == 1
    assert pd.isna(first["days_since_prior_order"])
    # user 1's second order: 15 days later, at 07:00.
    assert orders.loc["2398795", "ordered_at"] == pd.Timestamp("2017-01-18 07:00")
    lines = t["order_lines"].set_index(["order_id", "product_id"])
    line = lines.loc[("2539329", "14084")]
    assert (line["add_to_cart_order"], line["reordered"], line["quantity"]) == (2, 0, 1)


def test_instacart_dates_follow_weekdays_hours_and_gaps(instacart: tuple[Path, Tables]) -> None:
    _, t = instacart
    _check_instacart_dates(t["orders"])
    assert t["orders"]["ordered_at"].min() >= pd.Timestamp("2017-01-01")


def _check_instacart_dates(orders: pd.DataFrame) -> None:
    at = orders["ordered_at"]
    assert ((at.dt.day_of_week + 1) % 7 == orders["order_dow"]).all()  # 0 = Sunday
    assert (at.dt.hour == orders["order_hour_of_day"]).all()
    o = orders.assign(user=orders["customer_id"].astype(int)).sort_values(["user", "order_number"])
    day = o["ordered_at"].dt.normalize()
    gap = (day - day.groupby(o["user"]).shift()).dt.days
    recorded = o["days_since_prior_order"].astype("float64")
    later = recorded.notna()
    exact = later & (recorded < 30)
    assert (gap[exact] == recorded[exact]).all()
    capped = recorded == 30
    assert capped.sum() > 0
    assert gap[capped].between(30, 36).all()
    assert (o["ordered_at"].groupby(o["user"]).diff().dropna() >= pd.Timedelta(0)).all()


def test_instacart_align_end(instacart: tuple[Path, Tables]) -> None:
    path, start = instacart
    end = convert("instacart", source=path, align="end")["orders"]
    _check_instacart_dates(end)
    last = end.groupby("customer_id")["ordered_at"].max().dt.normalize()
    assert last.max() - last.min() <= pd.Timedelta(days=6)
    shift = end["ordered_at"] - start["orders"]["ordered_at"]
    assert (shift.dt.days % 7 == 0).all()


# --- CDNOW -----------------------------------------------------------------------------------


def _cdnow_raw(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as f:
        rows = [line.split() for line in f if line.strip()]
    return [r for r in rows if r[0].isdigit()]


def test_cdnow_counts_and_totals(cdnow: tuple[Path, Tables], check_contract: Check) -> None:
    path, t = cdnow
    raw = _cdnow_raw(path / "CDNOW_master.txt")
    kept = [r for r in raw if int(r[2]) > 0]
    dropped = len(raw) - len(kept)
    assert len(raw) == 69_659
    assert len(t["orders"]) == len(t["order_lines"]) == 69_659 - dropped
    assert len(t["customers"]) == len({r[0] for r in raw}) == 23_570
    assert t["customers"]["customer_id"].str.fullmatch(r"\d{5}").all()
    assert "00001" in set(t["customers"]["customer_id"])
    lines = t["order_lines"]
    assert lines["quantity"].sum() == sum(int(r[2]) for r in kept)
    assert math.isclose(lines["dollar_value"].sum(), sum(float(r[3]) for r in kept))
    assert np.allclose(lines["quantity"] * lines["unit_price"], lines["dollar_value"])
    assert (lines["dollar_value"] == 0).sum() == 80
    assert list(t["products"]["product_id"]) == ["cd"]
    check_contract(t)


def test_cdnow_spot_values(cdnow: tuple[Path, Tables]) -> None:
    _, t = cdnow
    # raw lines 3 and 4: "00002 19970112 1 12.00" and "00002 19970112 5 77.00"
    orders = t["orders"].set_index("order_id")
    assert orders.loc["00002-19970112-2", "customer_id"] == "00002"
    assert orders.loc["00002-19970112-2", "ordered_at"] == pd.Timestamp("1997-01-12")
    line = t["order_lines"].set_index("order_id").loc["00002-19970112-2"]
    assert (line["product_id"], line["quantity"]) == ("cd", 5)
    assert line["unit_price"] == pytest.approx(15.4)
    assert line["dollar_value"] == 77.0
    assert t["order_lines"]["order_id"].iloc[0] == "00001-19970101-1"


def test_cdnow_sample_matches_published_summary(
    cdnow_sample: tuple[Path, Tables], cdnow: tuple[Path, Tables], check_contract: Check
) -> None:
    path, t = cdnow_sample
    assert len(t["orders"]) == 6_919
    assert len(t["customers"]) == 2_357
    assert set(t["customers"]["customer_id"]) <= set(cdnow[1]["customers"]["customer_id"])
    check_contract(t)
    # Recompute the BG/NBD summary (calibration to 1997-09-30, weeks) from the tables.
    orders = t["orders"].merge(t["customers"], on="customer_id")
    cut = pd.Timestamp("1997-09-30")
    calib = orders[orders["ordered_at"] <= cut]
    per = calib.groupby("sample_id")["ordered_at"].agg(["min", "max", "nunique"])
    ours = pd.DataFrame(
        {
            "frequency": per["nunique"] - 1,
            "recency": (per["max"] - per["min"]).dt.days / 7,
            "T": (cut - per["min"]).dt.days / 7,
        }
    )
    ours.index = ours.index.astype(int)
    summary = pd.read_csv(path / "cdnow_customers_summary.csv", index_col="ID").sort_index()
    assert len(summary) == 2_357
    ours = ours.loc[summary.index]
    assert (ours["frequency"].to_numpy() == summary["frequency"].to_numpy()).all()
    assert np.allclose(ours["recency"], summary["recency"], atol=0.006)
    assert np.allclose(ours["T"], summary["T"], atol=0.006)


# --- Groceries -------------------------------------------------------------------------------


def test_groceries_counts(groceries: tuple[Path, Tables], check_contract: Check) -> None:
    path, t = groceries
    with (path / "groceries.csv").open(encoding="utf-8", newline="") as f:
        baskets = [[x for x in row if x] for row in csv.reader(f)]
    assert len(t["orders"]) == len(baskets) == 9_835
    assert len(t["products"]) == len({x for b in baskets for x in b}) == 169
    assert len(t["order_lines"]) == sum(len(b) for b in baskets) == 43_366
    assert (t["order_lines"]["quantity"] == 1).all()
    assert t["orders"]["customer_id"].isna().all()
    assert (t["orders"]["ordered_at"] == pd.Timestamp("2000-01-01")).all()
    # the classic figure: whole milk is in 2,513 baskets (support 0.2555)
    assert (t["order_lines"]["product_id"] == "whole-milk").sum() == 2_513
    check_contract(t)


def test_groceries_spot_values(groceries: tuple[Path, Tables]) -> None:
    _, t = groceries
    first = t["order_lines"][t["order_lines"]["order_id"] == "basket-00001"]
    assert list(first["product_id"]) == [
        "citrus-fruit",
        "semi-finished-bread",
        "margarine",
        "ready-soups",
    ]
    assert list(first["position"]) == [1, 2, 3, 4]
    titles = t["products"].set_index("product_id")["title"]
    assert titles["fruit-vegetable-juice"] == "fruit/vegetable juice"
    assert titles["uht-milk"] == "UHT-milk"
    assert t["orders"]["order_id"].iloc[-1] == "basket-09835"


# --- Dominick's ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dominicks_raw(dominicks: tuple[Path, Tables]) -> pd.DataFrame:
    return pd.read_csv(dominicks[0] / "store_brand_week.csv")


def test_dominicks_counts(
    dominicks: tuple[Path, Tables], dominicks_raw: pd.DataFrame, check_contract: Check
) -> None:
    _, t = dominicks
    raw = dominicks_raw
    assert len(t["orders"]) == len(t["order_lines"]) == len(raw) == 106_139
    assert len(t["locations"]) == raw["store"].nunique() == 83
    assert len(t["products"]) == 11
    assert (t["locations"]["kind"] == "store").all()
    assert t["orders"]["customer_id"].isna().all()
    assert t["orders"]["week"].min() == 40 and t["orders"]["week"].max() == 160
    promos = t["promotions"]["kind"].value_counts()
    assert promos["discount"] == (raw["deal"] == 1).sum()
    assert promos["feature"] == (raw["feat"] > 0).sum()
    check_contract(t)


def test_dominicks_calendar() -> None:
    weeks = week_start(pd.Series([1, 40, 160]))
    assert list(weeks) == [pd.Timestamp(d) for d in ("1989-09-14", "1990-06-14", "1992-10-01")]


def test_dominicks_values_match_raw(
    dominicks: tuple[Path, Tables], dominicks_raw: pd.DataFrame
) -> None:
    _, t = dominicks
    raw = dominicks_raw
    lines = t["order_lines"].merge(t["orders"], on="order_id")
    keyed = raw.assign(
        order_id="s"
        + raw["store"].astype(str)
        + "-b"
        + raw["brand"].astype(str)
        + "-w"
        + raw["week"].astype(str)
    ).set_index("order_id")
    mine = lines.set_index("order_id").loc[keyed.index]
    prices = keyed[[f"price{b}" for b in range(1, 12)]].to_numpy()
    own_price = prices[np.arange(len(keyed)), keyed["brand"].to_numpy() - 1]
    assert (mine["price_per_oz"].to_numpy() == own_price).all()
    assert (mine["logmove"].to_numpy() == keyed["logmove"].to_numpy()).all()
    assert (mine["profit"].to_numpy() == keyed["profit"].to_numpy()).all()
    assert (mine["week"].to_numpy() == keyed["week"].to_numpy()).all()
    assert (mine["location_id"].to_numpy() == keyed["store"].astype(str).to_numpy()).all()
    assert np.allclose(np.log(mine["quantity"]), keyed["logmove"], atol=1e-5)
    assert (mine["ordered_at"].dt.day_of_week == 3).all()  # Thursdays
    # raw row 0: store 2, brand 1, week 40
    row = mine.loc["s2-b1-w40"]
    assert row["quantity"] == 8256 == round(math.exp(9.0186954877))
    assert row["unit_price"] == pytest.approx(0.06046875 * 64)
    assert row["ordered_at"] == pd.Timestamp("1990-06-14")
    promo = t["promotions"]
    first = promo[(promo["location_id"] == "2") & (promo["week"] == 40)]
    assert set(zip(first["product_id"], first["kind"], strict=True)) >= {("1", "discount")}
    assert (first["ends_at"] - first["starts_at"] == pd.Timedelta(days=6)).all()


def test_dominicks_products_and_demographics(
    dominicks: tuple[Path, Tables],
) -> None:
    path, t = dominicks
    titles = t["products"].set_index("product_id")["title"]
    assert titles["1"] == "Tropicana Premium 64 oz"
    assert titles["11"] == "Dominick's 128 oz"
    demo = pd.read_csv(path / "store_demographics.csv").set_index("STORE")
    loc = t["locations"].set_index("location_id")
    assert loc["income"]["2"] == demo["INCOME"][2]
    assert loc.loc["2", "name"] == "Dominick's store 2"


# --- MovieLens -------------------------------------------------------------------------------


def test_movielens(movielens: tuple[Path, Tables], check_contract: Check) -> None:
    _, t = movielens
    assert len(t["events"]) == 100_000
    assert len(t["customers"]) == 943
    assert len(t["products"]) == 1_682
    assert (t["events"]["event"] == "view").all()
    ev = t["events"].set_index("event_id")
    # first rating line: "196 242 3 881250949"
    assert ev.loc["196-242", "rating"] == 3
    assert ev.loc["196-242", "at"] == pd.Timestamp(881250949, unit="s", tz="UTC")
    assert t["products"].set_index("product_id").loc["1", "title"] == "Toy Story"
    assert "zip_code" not in t["customers"].columns
    check_contract(t)


# --- all adapters ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_conversion_is_deterministic_and_writes_iso_csv(
    name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path, first = request.getfixturevalue(name)
    again = convert(name, source=path, out=tmp_path)
    assert first.keys() == again.keys()
    for table_name, df in first.items():
        pd.testing.assert_frame_equal(df, again[table_name])
        text = (tmp_path / f"{table_name}.csv").read_text(encoding="utf-8")
        back = pd.read_csv(tmp_path / f"{table_name}.csv", dtype=str, keep_default_na=False)
        assert list(back.columns) == list(df.columns)
        assert len(back) == len(df)
        assert "\r" not in text
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                iso = r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\+00:00)?)?|"
                assert back[col].str.fullmatch(iso).all(), (table_name, col)
            elif df[col].dtype == "str":
                assert (back[col] == df[col].fillna("")).all(), (table_name, col)
