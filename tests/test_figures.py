"""Key figures: hand-checked numbers on a tiny shop, totals against pandas on the demo shop.

The tiny shop (all times UTC) is small enough to work every figure out by
hand; the comments next to each expectation show the arithmetic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from shopkeeper import figures
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.errors import ConfigError
from shopkeeper.info import describe
from shopkeeper.ingest import load_frames
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace

# O4 is cancelled and counts nowhere. O6's second line has no unit price.
# O7 and O8 come a month later, for the cohorts.
TINY = {
    "products": pd.DataFrame(
        {
            "product_id": ["P1", "P2", "P3", "P4"],
            "title": ["燕麦 Oats", "牛奶 Milk", "Old case", "Never sold"],
            "category": ["Grocery", "Grocery", "Electronics", "Home"],
            "price": [10.0, 5.0, 30.0, 12.0],
            "active": ["true", "true", "false", "true"],
        }
    ),
    "customers": pd.DataFrame({"customer_id": ["A", "B", "C", "D"]}),
    "locations": pd.DataFrame(
        {"location_id": ["WH1", "WH2"], "name": ["One", "Two"], "kind": ["warehouse"] * 2}
    ),
    "orders": pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8"],
            "customer_id": ["A", "B", "A", "C", None, "C", "B", "D"],
            "ordered_at": [
                "2025-01-01T10:00:00Z",
                "2025-01-01T23:30:00Z",
                "2025-01-03T09:00:00Z",
                "2025-01-03T12:00:00Z",
                "2025-01-04T08:00:00Z",
                "2025-01-05T15:00:00Z",
                "2025-02-10T10:00:00Z",
                "2025-02-11T10:00:00Z",
            ],
            "status": [
                "completed",
                "completed",
                "completed",
                "cancelled",
                "paid",
                "delivered",
                "completed",
                "completed",
            ],
        }
    ),
    "order_lines": pd.DataFrame(
        {
            "order_id": ["O1", "O1", "O2", "O3", "O4", "O5", "O6", "O6", "O7", "O8"],
            "product_id": ["P1", "P2", "P1", "P2", "P1", "P3", "P1", "P2", "P1", "P2"],
            "quantity": [2, 1, 1, 4, 10, 1, 1, 2, 1, 1],
            "unit_price": [10.0, 5.0, 10.0, 5.0, 10.0, 30.0, 10.0, None, 10.0, 5.0],
            "discount": [None, None, 2.0, 0.0, None, None, None, None, None, None],
        }
    ),
    "events": pd.DataFrame(
        {
            "at": [
                "2025-01-03T10:00:00Z",
                "2025-01-03T10:01:00Z",
                "2025-01-03T10:02:00Z",
                "2025-01-03T11:00:00Z",
                "2025-01-04T23:50:00Z",
                "2025-01-05T00:10:00Z",
                "2025-01-02T08:00:00Z",
                "2025-01-05T09:00:00Z",
            ],
            "event": ["view", "cart", "purchase", "view", "view", "purchase", "view", "search"],
            "customer_id": ["A", "A", "A", None, "C", "C", None, None],
            "session_id": ["s1", "s1", "s1", "s2", "s3", "s3", "s4", None],
            "product_id": ["P1", "P1", "P1", "P2", "P1", "P1", "P2", None],
            "query": [None, None, None, None, None, None, None, "oats"],
        }
    ),
    "inventory": pd.DataFrame(
        {
            "product_id": ["P1", "P1", "P2", "P4"],
            "location_id": ["WH1", "WH2", "WH1", "WH1"],
            "on_hand": [14, 0, 0, 9],
            "lead_time_days": [3.0, 7.0, 2.0, 5.0],
            "on_order": [5, None, None, None],
        }
    ),
}


@pytest.fixture
def tiny(store: Store) -> Store:
    load_frames(TINY, store)
    return store


def test_overview_by_day_matches_the_hand_count(tiny: Store) -> None:
    view = figures.overview(tiny, "day", "2025-01-03", "2025-01-05")
    assert (view["start"], view["end"], view["days"]) == ("2025-01-03", "2025-01-05", 3)
    assert view["previous"] == {"start": "2024-12-31", "end": "2025-01-02"}
    assert view["data_end"] == "2025-02-11"

    now = view["totals"]
    # O3 20 + O5 30 + O6 10 (its unpriced line adds nothing); O4 is cancelled.
    assert now["revenue"] == 60.0 and now["orders"] == 3 and now["aov"] == 20.0
    # A first bought on 01-01 (returning); C's only earlier order was cancelled (new).
    assert (now["customers"], now["new_customers"], now["returning_customers"]) == (2, 1, 1)
    assert now["repeat_rate"] == 0.5 and now["guest_orders"] == 1
    # Sessions s1 (bought), s2, s3 (bought; starts 01-04, buys after midnight).
    assert (now["sessions"], now["converted_sessions"], now["conversion"]) == (3, 2, 0.6667)

    before = view["previous_totals"]
    # O1 (20 + 5) and O2 (10 - 2); A and B both new; s4 did not buy.
    assert before["revenue"] == 33.0 and before["orders"] == 2 and before["aov"] == 16.5
    assert before["repeat_rate"] == 0.0 and before["new_customers"] == 2
    assert before["conversion"] == 0.0

    change = view["change"]
    assert change["revenue"] == pytest.approx(81.82)  # (60 - 33) / 33
    assert change["orders"] == 50.0 and change["aov"] == pytest.approx(21.21)
    assert change["repeat_rate"] is None  # from zero: no relative change
    assert view["change_points"] == {"conversion": 66.67, "repeat_rate": 50.0}

    days = {p["period"]: p for p in view["series"]}
    assert list(days) == ["2025-01-03", "2025-01-04", "2025-01-05"]
    assert days["2025-01-03"]["revenue"] == 20.0 and days["2025-01-03"]["repeat_rate"] == 1.0
    assert days["2025-01-03"]["conversion"] == 0.5
    assert days["2025-01-04"]["customers"] == 0 and days["2025-01-04"]["repeat_rate"] is None
    assert days["2025-01-04"]["guest_orders"] == 1 and days["2025-01-04"]["conversion"] == 1.0
    assert days["2025-01-05"]["new_customers"] == 1 and days["2025-01-05"]["conversion"] is None
    json.dumps(view, allow_nan=False)


def test_a_week_cut_by_the_window_counts_from_the_windows_start(tiny: Store) -> None:
    view = figures.overview(tiny, "week", "2025-01-03", "2025-01-05")
    # Friday to Sunday: one week, labelled by its Monday, three days counted.
    assert [(p["period"], p["days"]) for p in view["series"]] == [("2024-12-30", 3)]
    week = view["series"][0]
    # A's first order (01-01) is in that Monday's week but before the counted days.
    assert week["returning_customers"] == 1 and week["new_customers"] == 1
    assert week["revenue"] == view["totals"]["revenue"] == 60.0


def test_default_window_is_the_last_90_days_of_data(tiny: Store) -> None:
    view = figures.overview(tiny)
    assert (view["start"], view["end"]) == ("2024-11-14", "2025-02-11")
    assert view["previous"]["end"] == "2024-11-13"
    assert view["totals"]["orders"] == 7 and view["totals"]["revenue"] == 108.0
    assert len(view["series"]) == 90


def test_bad_overview_arguments(tiny: Store) -> None:
    with pytest.raises(ConfigError, match="grain"):
        figures.overview(tiny, "month")
    with pytest.raises(ConfigError, match="after end"):
        figures.overview(tiny, "day", "2025-01-05", "2025-01-01")
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        figures.overview(tiny, "day", "last week")
    with pytest.raises(ConfigError, match="longer than"):
        figures.overview(tiny, "day", "2000-01-01", "2025-01-01")


def test_products_best_sellers_slow_movers_and_stock(tiny: Store) -> None:
    view = figures.products(tiny, limit=10)
    assert (view["start"], view["end"]) == ("2024-11-14", "2025-02-11")
    best = [(p["product_id"], p["units"], p["revenue"]) for p in view["best_sellers"]]
    # P1: 20 + 8 + 10 + 10; P2: 5 + 20 + 5 (the unpriced line adds units only); P3: 30.
    # P2 and P3 tie on revenue; more units ranks first.
    assert best == [("P1", 5, 48.0), ("P2", 8, 30.0), ("P3", 1, 30.0)]
    assert view["best_sellers"][0]["revenue_share"] == pytest.approx(48 / 108, abs=1e-4)
    assert view["best_sellers"][0]["title"] == "燕麦 Oats"

    # P3 is inactive; P4 never sold and is still listed.
    slow = [(p["product_id"], p["units"], p["last_sold"]) for p in view["slow_movers"]]
    assert slow == [("P4", 0, None), ("P1", 5, "2025-02-10"), ("P2", 8, "2025-02-11")]
    assert view["slow_movers"][0]["on_hand"] == 9

    stock = view["stock"]
    assert stock["summary"] == {
        "products": 3,
        "on_hand": 23,
        "on_order": 5,
        "out_of_stock": 1,
        "below_lead_time": 1,
        "unsold_with_stock": 1,
    }
    items = {p["product_id"]: p for p in stock["items"]}
    assert [p["product_id"] for p in stock["items"]] == ["P2", "P1", "P4"]
    # The last 28 days hold one unit of P1 (O7): 14 on hand / (1 / 28) = 392 days.
    assert items["P1"]["days_of_cover"] == 392.0 and items["P1"]["lead_time_days"] == 7.0
    assert items["P1"]["on_hand"] == 14 and items["P1"]["on_order"] == 5
    assert items["P2"]["days_of_cover"] == 0.0
    assert items["P4"]["days_of_cover"] is None and items["P4"]["daily_units"] == 0.0


def test_cohorts(tiny: Store) -> None:
    view = figures.cohorts(tiny, months=12)
    assert view["last_month"] == "2025-02"
    # January: A, B, C (C's cancelled order is in January too); B came back in February.
    assert view["cohorts"] == [
        {"cohort": "2025-01", "customers": 3, "retention": [1.0, 0.3333], "active": [3, 1]},
        {"cohort": "2025-02", "customers": 1, "retention": [1.0], "active": [1]},
    ]
    assert [c["cohort"] for c in figures.cohorts(tiny, months=1)["cohorts"]] == ["2025-02"]


def test_data_quality_is_what_info_reports(tiny: Store) -> None:
    found = figures.data_quality(tiny)
    assert found == json.loads(json.dumps(describe(tiny).to_dict()))
    assert found["counts"]["orders"] == 8


def test_an_empty_store_gives_empty_figures(store: Store) -> None:
    everything = figures.compute_all(store)
    json.dumps(everything, allow_nan=False)
    view = everything["overview"]["day"]
    assert view["series"] == [] and view["start"] is None
    assert view["totals"]["orders"] == 0 and view["totals"]["conversion"] is None
    assert set(view["change"].values()) == {None}
    assert everything["products"]["best_sellers"] == []
    assert everything["products"]["stock"]["summary"]["products"] == 0
    assert everything["cohorts"]["cohorts"] == []
    # A window placed by hand on an empty store has periods, all zero.
    placed = figures.overview(store, "day", "2025-01-01", "2025-01-02")
    assert [p["orders"] for p in placed["series"]] == [0, 0]


def test_the_figures_job_writes_figures_json(tiny: Store, tmp_path: Path) -> None:
    workspace = Workspace(root=tmp_path, database_url=tiny.url)
    job = run_job(tiny, workspace, "figures")
    assert job.state == "done", job.error
    artifact = current_artifact(workspace, "figures")
    assert artifact is not None
    document = json.loads((artifact / "figures.json").read_text(encoding="utf-8"))
    assert set(document) == {"overview", "products", "cohorts", "data_quality"}
    assert set(document["overview"]) == {"day", "week"}
    totals = figures.overview(tiny)["totals"]
    assert job.metrics is not None
    assert job.metrics["revenue"] == totals["revenue"] == 108.0
    assert job.metrics["orders"] == 7 and job.metrics["end"] == "2025-02-11"


def test_the_figures_job_runs_on_an_empty_store(store: Store, tmp_path: Path) -> None:
    job = run_job(store, Workspace(root=tmp_path, database_url=store.url), "figures")
    assert job.state == "done", job.error
    assert job.metrics is not None and job.metrics["orders"] == 0


# -- the demo shop, against a direct pandas computation -----------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("demo")
    store = Store(f"sqlite:///{root / 'shop.db'}")
    store.create()
    build_demo(store, root / "demo-shop", DemoConfig.preset("small"))
    yield store
    store.close()


def _pandas_figures(store: Store, start: str, end: str, since: str) -> dict[str, float]:
    """The window's totals from whole tables; sessions start on their first day from ``since``."""
    orders = store.read("orders", ["order_id", "customer_id", "ordered_at", "status"])
    orders = orders[orders["status"].fillna("") != "cancelled"]
    lines = store.read("order_lines", ["order_id", "quantity", "unit_price", "discount"])
    lines["revenue"] = lines["quantity"] * lines["unit_price"] - lines["discount"].fillna(0)
    orders = orders.merge(
        lines.groupby("order_id")["revenue"].sum(min_count=1), on="order_id", how="left"
    )
    orders["day"] = pd.to_datetime(orders["ordered_at"]).dt.normalize()
    first = orders.dropna(subset=["customer_id"]).groupby("customer_id")["day"].min()
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    window = orders[(orders["day"] >= lo) & (orders["day"] <= hi)]
    customers = window["customer_id"].dropna().unique()
    returning = int((first.loc[customers] < lo).sum())

    events = store.read("events", ["session_id", "at", "event"]).dropna(subset=["session_id"])
    events["day"] = pd.to_datetime(events["at"]).dt.normalize()
    events = events[(events["day"] >= pd.Timestamp(since)) & (events["day"] <= hi)]
    per_session = events.groupby("session_id").agg(
        day=("day", "min"), bought=("event", lambda e: (e == "purchase").any())
    )
    sessions = per_session[per_session["day"] >= lo]["bought"]
    return {
        "revenue": round(float(window["revenue"].sum()), 2),
        "orders": len(window),
        "customers": len(customers),
        "returning_customers": returning,
        "sessions": len(sessions),
        "converted_sessions": int(sessions.sum()),
    }


def test_demo_shop_totals_agree_with_pandas(demo_store: Store) -> None:
    view = figures.overview(demo_store, "week")
    expected = _pandas_figures(demo_store, view["start"], view["end"], view["previous"]["start"])
    got = {k: view["totals"][k] for k in expected}
    assert got["revenue"] == pytest.approx(expected.pop("revenue"), abs=0.05)
    got.pop("revenue")
    assert got == expected
    assert sum(p["orders"] for p in view["series"]) == view["totals"]["orders"]
    assert sum(p["revenue"] for p in view["series"]) == pytest.approx(
        view["totals"]["revenue"], abs=0.5
    )
    start, end = view["previous"]["start"], view["previous"]["end"]
    previous = _pandas_figures(demo_store, start, end, start)
    assert view["previous_totals"]["orders"] == previous["orders"]


def test_demo_shop_products_and_cohorts_agree_with_pandas(demo_store: Store) -> None:
    view = figures.products(demo_store, limit=5)
    orders = demo_store.read("orders", ["order_id", "ordered_at", "status"])
    orders = orders[
        (orders["status"].fillna("") != "cancelled")
        & (pd.to_datetime(orders["ordered_at"]).dt.normalize() >= pd.Timestamp(view["start"]))
    ]
    lines = demo_store.read("order_lines", ["order_id", "product_id", "quantity", "unit_price"])
    lines = lines[lines["order_id"].isin(orders["order_id"])]
    units = lines.groupby("product_id")["quantity"].sum()
    top = view["best_sellers"][0]
    assert top["units"] == units[top["product_id"]]
    assert len(view["best_sellers"]) == 5 and len(view["slow_movers"]) == 5

    cohorts = figures.cohorts(demo_store, months=60)
    ordering = demo_store.read("orders", ["customer_id", "status"])
    ordering = ordering[ordering["status"].fillna("") != "cancelled"]
    assert sum(c["customers"] for c in cohorts["cohorts"]) == ordering["customer_id"].nunique()
