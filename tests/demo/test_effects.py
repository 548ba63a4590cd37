"""The effects the generator plants are visible in the tables it writes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from shopkeeper.demo import DemoShop


def _orders_per_day(shop: DemoShop) -> pd.Series:
    day = shop.tables["orders"]["ordered_at"].dt.tz_localize(None).dt.normalize()
    return day.value_counts().sort_index()


def _event_days(shop: DemoShop) -> set[pd.Timestamp]:
    return {pd.Timestamp(e["date"]) for e in shop.truth["seasonality"]["events"]}


def test_double_11_and_618_peak(small_shop: DemoShop) -> None:
    per_day = _orders_per_day(small_shop)
    normal = per_day.median()
    assert per_day[pd.Timestamp("2024-11-11")] > 2.5 * normal
    assert per_day[pd.Timestamp("2024-06-18")] > 1.5 * normal
    assert per_day.idxmax() == pd.Timestamp("2024-11-11")


def test_weekends_are_busier(small_shop: DemoShop) -> None:
    per_day = _orders_per_day(small_shop)
    plain = per_day[~per_day.index.isin(_event_days(small_shop))]
    dow = plain.index.day_of_week
    weekend = plain[dow >= 5].mean()
    weekday = plain[dow <= 3].mean()
    assert weekend > 1.05 * weekday


def test_guests_and_walk_ins_have_no_customer(small_shop: DemoShop) -> None:
    orders = small_shop.tables["orders"]
    share = orders["customer_id"].isna().mean()
    assert 0.03 < share < 0.15
    stores = small_shop.tables["locations"].query("kind == 'store'")["location_id"]
    in_store = orders["location_id"].isin(stores)
    assert 0.02 < in_store.mean() < 0.15
    assert orders.loc[in_store, "carrier"].isna().all()


def test_consumables_are_rebought_on_their_cycle(small_shop: DemoShop) -> None:
    t = small_shop.tables
    lines = t["order_lines"].merge(t["orders"][["order_id", "customer_id", "ordered_at"]])
    lines = lines.dropna(subset=["customer_id"])
    products = small_shop.truth["products"]
    cycle = pd.Series(products["cycle_days"], index=products["product_id"])
    lines = lines[lines["product_id"].map(cycle) > 0].sort_values("ordered_at")
    gap = lines.groupby(["customer_id", "product_id"])["ordered_at"].diff().dt.days.dropna()
    repeat_pairs = lines.groupby(["customer_id", "product_id"]).size()
    assert (repeat_pairs >= 2).mean() > 0.15  # many customers buy the same consumable again
    ratio = gap / lines.loc[gap.index, "product_id"].map(cycle)
    assert 0.7 < ratio.median() < 1.6


def test_planted_pairs_are_bought_together(small_shop: DemoShop) -> None:
    lines = small_shop.tables["order_lines"]
    n_orders = lines["order_id"].nunique()
    baskets = lines.groupby("product_id")["order_id"].apply(set)
    pairs = small_shop.truth["co_purchase_pairs"]
    assert len(pairs) >= 10
    strongest = max(pairs, key=lambda p: p["orders_with_both"])
    a = baskets[strongest["antecedent"]]
    b = baskets[strongest["consequent"]]
    both = len(a & b)
    lift = both * n_orders / (len(a) * len(b))
    assert both >= 10 and lift > 5
    # A random pair of unrelated products of similar popularity is not special.
    assert strongest["confidence"] > 0.2


def test_discounts_lift_sales(small_shop: DemoShop) -> None:
    t = small_shop.tables
    lines = t["order_lines"].merge(t["orders"][["order_id", "ordered_at"]])
    share = lines["discount"] / (lines["quantity"] * lines["unit_price"])
    assert (share > 0).mean() > 0.1
    # Units per product and day, zero days included, inside and outside the
    # product's discount windows (a sale that day or not).
    day = lines["ordered_at"].dt.tz_localize(None).dt.normalize()
    units = lines.assign(day=day).groupby(["product_id", "day"])["quantity"].sum()
    days = pd.date_range(day.min(), day.max(), freq="D")
    promos = t["promotions"][t["promotions"]["kind"] == "discount"]
    ratios = []
    for product, windows in promos.groupby("product_id"):
        sold = units.get(product)
        if sold is None:
            continue
        per_day = sold.reindex(days, fill_value=0)
        on = np.zeros(len(days), dtype=bool)
        for start, end in zip(windows["starts_at"], windows["ends_at"], strict=True):
            first, last = start.tz_localize(None).normalize(), end.tz_localize(None).normalize()
            on |= (days >= first) & (days <= last)
        if on.sum() >= 3 and (~on).sum() >= 30 and per_day[~on].mean() > 0:
            ratios.append(per_day[on].mean() / per_day[~on].mean())
    assert len(ratios) >= 20
    assert np.median(ratios) > 1.1


def test_elastic_categories_respond_more(small_shop: DemoShop) -> None:
    el = small_shop.truth["elasticity_by_top_category"]
    assert el["Electronics"] < el["Grocery"] < el["Baby"] < 0


def test_late_parcels_get_worse_reviews(small_shop: DemoShop) -> None:
    t = small_shop.tables
    orders = t["orders"].dropna(subset=["delivered_at"])
    lines = t["order_lines"].merge(
        orders[["order_id", "customer_id", "delivered_at", "promised_at"]]
    )
    reviews = t["reviews"].dropna(subset=["customer_id"]).sort_values("created_at")
    lines = lines.sort_values("delivered_at")
    got = pd.merge_asof(
        reviews,
        lines,
        left_on="created_at",
        right_on="delivered_at",
        by=["customer_id", "product_id"],
        direction="backward",
    )
    got = got.dropna(subset=["delivered_at"])
    late = got["delivered_at"] > got["promised_at"]
    assert late.sum() >= 20
    assert got.loc[late, "rating"].mean() < got.loc[~late, "rating"].mean() - 0.3


def test_reviews_and_titles_are_bilingual(small_shop: DemoShop) -> None:
    t = small_shop.tables
    cjk = re.compile(r"[\u4e00-\u9fff]")
    titles = t["products"]["title"]
    assert titles.str.contains(cjk).all() and titles.str.contains(r"[A-Za-z]{3}").all()
    assert titles.is_unique
    reviews = t["reviews"]
    assert set(reviews["lang"]) == {"zh", "en"}
    assert reviews.loc[reviews["lang"] == "zh", "text"].str.contains(cjk).all()
    assert not reviews.loc[reviews["lang"] == "en", "text"].str.contains(cjk).any()
    assert reviews["text"].nunique() > 0.5 * len(reviews)
    faq = t["faq"]
    assert 30 <= len(faq) <= 60 and set(faq["lang"]) == {"zh", "en"}
    questions = small_shop.extras["support_questions"]
    assert set(questions["intent"]) <= set(faq["intent"])
    assert set(questions["faq_id"]) <= set(faq["faq_id"])
    searches = t["events"].query("event == 'search'")["query"]
    assert searches.str.contains(cjk).any() and searches.str.contains(r"^[a-z ]+$").any()


def test_carriers_differ_in_lateness(small_shop: DemoShop) -> None:
    orders = small_shop.tables["orders"].dropna(subset=["delivered_at"])
    late = (orders["delivered_at"] > orders["promised_at"]).groupby(orders["carrier"]).mean()
    assert late["SF Express"] < 0.05 < late["YTO Express"]
    assert 0.03 < (orders["delivered_at"] > orders["promised_at"]).mean() < 0.2


def test_customers_churn(small_shop: DemoShop) -> None:
    """BG/NBD-like: customers who dropped out never order again."""
    truth = small_shop.truth["customers"]
    churn = pd.Series(truth["churn_day"], index=truth["customer_id"]).dropna()
    assert len(churn) > 0.1 * len(truth["customer_id"])
    orders = small_shop.tables["orders"].dropna(subset=["customer_id"])
    start = pd.Timestamp(small_shop.truth["window"]["start"])
    day = (orders["ordered_at"].dt.tz_localize(None) - start).dt.days
    last = day.groupby(orders["customer_id"]).max()
    assert (last.reindex(churn.index) <= churn).all()
    # Order counts are heterogeneous: some buy often, many once or twice.
    counts = orders["customer_id"].value_counts()
    assert counts.max() > 8 * counts.median()


def test_stockouts_stop_sales_but_not_views(small_shop: DemoShop) -> None:
    t = small_shop.tables
    lines = t["order_lines"].merge(t["orders"][["order_id", "ordered_at"]])
    day = lines["ordered_at"].dt.tz_localize(None).dt.normalize()
    views = t["events"].query("event == 'view'")
    vday = views["at"].dt.tz_localize(None).dt.normalize()
    seen = 0
    assert small_shop.truth["stockouts"]
    for s in small_shop.truth["stockouts"]:
        inside = day.between(pd.Timestamp(s["first_day"]), pd.Timestamp(s["last_day"]))
        assert not (inside & (lines["product_id"] == s["product_id"])).any()
        vin = vday.between(pd.Timestamp(s["first_day"]), pd.Timestamp(s["last_day"]))
        seen += int((vin & (views["product_id"] == s["product_id"])).sum())
    assert seen > 0
    inventory = t["inventory"]
    still = {s["product_id"] for s in small_shop.truth["stockouts"] if s["still_out"]}
    assert still and (inventory.loc[inventory["product_id"].isin(still), "on_hand"] == 0).all()


def test_advertising_brings_orders(small_shop: DemoShop) -> None:
    channels = small_shop.truth["advertising"]["channels"]
    spend = small_shop.tables["ad_spend"].groupby("channel")["spend"].sum()
    assert set(channels) == set(spend.index)
    for name, c in channels.items():
        assert np.isclose(c["spend_total"], spend[name], rtol=1e-6)
        assert 0 < c["decay"] < 1 and c["realized_extra_orders"] > 0
        expected = c["expected_extra_orders"]
        assert abs(c["realized_extra_orders"] - expected) < 4 * np.sqrt(expected) + 5
    # Spend varies day to day independently per channel (identifiable effects).
    wide = small_shop.tables["ad_spend"].pivot(index="date", columns="channel", values="spend")
    assert (wide.std() / wide.mean()).min() > 0.15


def test_purchase_events_match_the_orders(small_shop: DemoShop) -> None:
    t = small_shop.tables
    warehouses = t["locations"].query("kind == 'warehouse'")["location_id"]
    online = t["orders"][t["orders"]["location_id"].isin(warehouses)]
    lines = t["order_lines"].merge(online[["order_id", "customer_id", "ordered_at"]])
    buys = t["events"].query("event == 'purchase'")
    assert len(buys) == len(lines)
    key = ["product_id", "at"]
    got = lines.rename(columns={"ordered_at": "at"})[key].merge(buys[key].drop_duplicates())
    assert len(got) == len(lines)
    per_line = len(t["events"]) / len(t["order_lines"])
    assert (
        0.75 * small_shop.config.events_per_line
        < per_line
        < 1.25 * small_shop.config.events_per_line
    )
    assert set(t["events"]["event"]) == {"view", "cart", "purchase", "search"}


def test_most_sessions_browse_and_leave(small_shop: DemoShop) -> None:
    events = small_shop.tables["events"]
    bought = events.groupby("session_id")["event"].agg(lambda e: (e == "purchase").any())
    # Far from a real shop's 2-4% (the click-stream would be huge), far from "every session buys".
    assert 0.15 < bought.mean() < 0.4
    size = events.groupby("session_id").size()
    assert size[~bought].median() <= 2
