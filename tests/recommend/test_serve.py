"""Serving rules applied after scoring, on the planted shop."""

from __future__ import annotations

import pandas as pd
import pytest

from shopkeeper.errors import ConfigError, NotFoundError
from shopkeeper.recommend import (
    ContentBased,
    Interactions,
    ItemKNN,
    Recommendations,
    RepeatBuyer,
    ServingRules,
)
from shopkeeper.recommend._serve import popularity_fallback
from tests.recommend.conftest import BREAKFAST, CATALOG


def _recs(
    planted: Interactions,
    rules: ServingRules | None = None,
    catalog: pd.DataFrame | None = None,
    stock: pd.Series | None = None,
    no_consent: set[str] | None = None,
) -> Recommendations:
    cat = CATALOG if catalog is None else catalog
    return Recommendations(
        model=RepeatBuyer(half_life=3.0, neighbours=10).fit(planted),
        fallback=popularity_fallback(planted),
        data=planted,
        catalog=cat,
        rules=rules or ServingRules(max_per_category=None),
        stock=pd.Series(dtype=float) if stock is None else stock,
        no_consent=no_consent or set(),
        similar_model=ItemKNN(k=20, weighting="cosine", input="binary").fit(planted),
        content_model=ContentBased(cat).fit(planted),
    )


def _ids(recs: list) -> list[str]:
    return [r.product_id for r in recs]


def test_inactive_and_out_of_stock_products_are_never_shown(planted: Interactions) -> None:
    catalog = CATALOG.assign(active=[p != "b0" for p in CATALOG["product_id"]])
    stock = pd.Series({"b1": 0.0, "b2": 5.0})
    got = _ids(_recs(planted, catalog=catalog, stock=stock).for_customer("c01", 11))
    assert "b0" not in got and "b1" not in got
    assert "b2" in got  # in stock; b3 has no inventory row and counts as available
    assert "b3" in got


def test_durables_bought_are_not_shown_again(planted: Interactions) -> None:
    rules = ServingRules(durable_categories=("Electronics",), max_per_category=None)
    recs = _recs(planted, rules=rules)
    bought = {r["product_id"] for r in recs.history("c25", 100) if r["kind"] == "purchase"}
    got = _ids(recs.for_customer("c25", 11))
    assert bought and not bought & set(got)
    # The same customer without the rule sees their electronics again.
    assert bought & set(_ids(_recs(planted).for_customer("c25", 11)))


def test_consumables_come_back_only_when_due(planted: Interactions) -> None:
    rules = ServingRules(consumable_categories=("Grocery",), max_per_category=None)
    recs = _recs(planted, rules=rules)
    end = planted.log["at"].max()
    soon = _ids(recs.for_customer("c01", 11, now=end))
    later = _ids(recs.for_customer("c01", 11, now=end + pd.Timedelta(days=60)))
    assert len(set(later) & set(BREAKFAST)) > len(set(soon) & set(BREAKFAST))


def test_diversity_caps_products_per_category(planted: Interactions) -> None:
    got = _recs(planted, rules=ServingRules(max_per_category=2)).for_customer("c01", 6)
    per = pd.Series([r.category for r in got]).value_counts()
    assert per.max() <= 2 and len(got) >= 4


def test_category_filter_keeps_one_category(planted: Interactions) -> None:
    got = _recs(planted).for_customer("c01", 5, category="Electronics")
    assert got and all(r.category.startswith("Electronics") for r in got)


def test_no_consent_and_unknown_customers_get_the_non_personal_list(
    planted: Interactions,
) -> None:
    recs = _recs(planted, no_consent={"c01"})
    declined = recs.for_customer("c01", 5)
    unknown = recs.for_customer("nobody", 5)
    assert _ids(declined) == _ids(unknown)
    assert "declined" in declined[0].reason and "no history" in unknown[0].reason
    # A customer with consent and history gets a personal, explained list.
    assert "popular" not in recs.for_customer("c02", 5)[0].reason


def test_margin_boost_lifts_high_margin_products(planted: Interactions) -> None:
    catalog = CATALOG.assign(cost=[1.0 if p == "b4" else 9.9 for p in CATALOG["product_id"]])
    plain = _ids(_recs(planted, catalog=catalog).for_customer("c01", 11))
    rules = ServingRules(max_per_category=None, margin_boost=5.0)
    boosted = _ids(_recs(planted, rules=rules, catalog=catalog).for_customer("c01", 11))
    assert boosted.index("b4") < plain.index("b4") or plain.index("b4") == 0


def test_new_products_are_served_from_their_text(planted: Interactions) -> None:
    # "new-oats" was never bought: it can only be similar through its title.
    got = _recs(planted).similar_items("b0", 5)
    assert "new-oats" in _ids(got)
    assert all(r.product_id != "b0" for r in got)


def test_bought_together_counts_shared_baskets(planted: Interactions) -> None:
    got = _recs(planted).bought_together("b0", 3)
    assert got and set(_ids(got)) <= set(BREAKFAST)
    assert "orders with this product" in got[0].reason
    with pytest.raises(NotFoundError):
        _recs(planted).bought_together("nope")


def test_rules_reject_unknown_knobs() -> None:
    with pytest.raises(ConfigError, match="unknown serving rule"):
        ServingRules.from_params({"max_per_cat": 2})
    with pytest.raises(ConfigError, match="repurchase_default"):
        ServingRules(repurchase_default="sometimes")


def test_the_artifact_survives_save_and_load(planted: Interactions, tmp_path) -> None:
    recs = _recs(planted)
    recs.save(tmp_path / "r.pkl")
    again = Recommendations.load(tmp_path / "r.pkl")
    assert _ids(again.for_customer("c03", 5)) == _ids(recs.for_customer("c03", 5))


def test_recent_activity_is_folded_in_without_refitting(planted: Interactions) -> None:
    rules = ServingRules(durable_categories=("Electronics",), max_per_category=None)
    recs = _recs(planted, rules=rules)
    end = recs.trained_until
    # A breakfast customer starts browsing electronics and buys the earphones.
    purchases = pd.DataFrame({"order_id": ["n1"], "product_id": ["e0"], "at": [end]})
    events = pd.DataFrame(
        {
            "event_id": ["v1", "v2", "v3"],
            "event": ["view", "view", "cart"],
            "product_id": ["e1", "e2", "e1"],
            "at": [end + pd.Timedelta(minutes=m) for m in (1, 2, 3)],
        }
    )
    recent = recs.recent_frame(purchases, events)
    before = _ids(recs.for_customer("c03", 6))
    after = _ids(recs.for_customer("c03", 6, recent=recent))
    assert not set(before) & {"e1", "e2"}
    assert {"e1", "e2"} & set(after)  # what was just viewed shapes the list
    assert "e0" not in after  # a durable bought since training is not offered again
    # A customer the model never saw gets a personal list from recent activity alone.
    fresh = recs.for_customer("brand-new", 3, recent=recent)
    assert fresh and "popular" not in fresh[0].reason
