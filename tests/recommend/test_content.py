"""ContentBased: catalog text makes items similar, including items nobody has bought."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.recommend import Interactions, Recommender
from shopkeeper.recommend._content import ContentBased, _analyse, tokenise

CATALOG = pd.DataFrame(
    {
        "product_id": ["OAT-1", "OAT-2", "OAT-NEW", "EAR-1", "EAR-2", "MILK-1"],
        "title": [
            "有机燕麦片 500g",
            "即食燕麦片 早餐冲饮",
            "有机燕麦片 经典装",
            "蓝牙耳机 主动降噪",
            "无线蓝牙耳机 运动款",
            "纯牛奶 250ml",
        ],
        "description": ["全谷物", None, "全谷物 无添加", "续航30小时", None, "高钙"],
        "category": [
            "食品 > 早餐",
            "食品 > 早餐",
            "食品 > 早餐",
            "数码 > 耳机",
            "数码 > 耳机",
            "食品 > 乳品",
        ],
        "brand": ["谷源", "麦香", "谷源", "声动", "声动", "牧场"],
    }
)
ITEMS = list(CATALOG["product_id"])


def _orders(rows: list[tuple[str, str, str]], items: list[str] = ITEMS) -> Interactions:
    frame = pd.DataFrame(rows, columns=["customer_id", "product_id", "at"])
    return Interactions.from_frame(frame, items=items)


# OAT-NEW is in the item universe (the catalog) but nobody has bought it.
DATA = _orders(
    [
        ("u1", "OAT-1", "2024-01-01"),
        ("u1", "EAR-1", "2024-02-01"),
        ("u2", "OAT-2", "2024-01-05"),
        ("u2", "MILK-1", "2024-01-06"),
        ("u3", "EAR-2", "2024-01-07"),
    ]
)


def _code(item: str) -> int:
    return int(DATA.item_codes([item])[0])


@pytest.fixture(scope="module")
def model() -> ContentBased:
    return ContentBased(CATALOG).fit(DATA)


def test_tokenise_latin_and_chinese() -> None:
    assert tokenise("Organic Oats, 1kg! (x)") == ["organic", "oats", "1kg"]
    tokens = tokenise("有机燕麦片 Organic oats，早餐。")
    assert {"有机", "燕麦片", "organic", "oats", "早餐"} <= set(tokens)
    assert all(t.strip() and t not in {"，", "。"} for t in tokens)
    # Search-mode segmentation: the shorter word inside a long one matches too.
    assert "燕麦" in tokenise("有机燕麦片")


def test_category_levels_and_brand_become_tokens() -> None:
    tokens = _analyse(("Oats", "", "Grocery > Breakfast", "Good Grain"))
    assert {"cat:grocery", "cat:grocery>breakfast", "brand:good grain"} <= set(tokens)
    assert tokens.count("oats") == 2  # the title counts double


def test_oats_are_similar_to_oats_not_to_earphones(model: ContentBased) -> None:
    codes, scores = model.similar(_code("OAT-1"), 10)
    names = [ITEMS[c] for c in codes]
    assert set(names[:2]) == {"OAT-NEW", "OAT-2"}
    assert "EAR-1" not in names and "EAR-2" not in names
    assert "OAT-1" not in names  # never itself
    assert np.all(np.diff(scores) <= 0) and np.all(scores > 0)
    ear, _ = model.similar(_code("EAR-1"), 10)
    assert ITEMS[ear[0]] == "EAR-2"
    assert not {"OAT-1", "OAT-2", "OAT-NEW"} & {ITEMS[c] for c in ear}


def test_new_item_without_interactions_is_served_from_its_text(model: ContentBased) -> None:
    new = _code("OAT-NEW")
    assert DATA.item_popularity()[new] == 0
    codes, _ = model.similar(_code("OAT-1"), 1)
    assert list(codes) == [new]
    # And it reaches the list of a customer who bought oats.
    scores = model.score(DATA, DATA.user_codes(["u1"]))
    assert scores[0, new] > 0
    assert scores[0, new] > scores[0, _code("MILK-1")]
    # The new item itself has neighbours too.
    back, _ = model.similar(new, 2)
    assert _code("OAT-1") in back


def test_score_shape_and_no_self_similarity(model: ContentBased) -> None:
    scores = model.score(DATA)
    assert scores.shape == (DATA.n_users, DATA.n_items)
    # u3 bought only EAR-2: with no self-similarity it scores itself 0.
    u3 = int(DATA.user_codes(["u3"])[0])
    assert scores[u3, _code("EAR-2")] == 0
    assert scores[u3, _code("EAR-1")] > 0
    assert scores[u3, _code("OAT-1")] == 0


def test_category_and_brand_make_items_similar() -> None:
    catalog = pd.DataFrame(
        {
            "product_id": ["a", "b", "c"],
            "title": ["Morning crunch", "Sunrise flakes", "Trail runner"],
            "category": ["Grocery > Breakfast", "Grocery > Breakfast", "Sport > Shoes"],
            "brand": ["GoodGrain", "GoodGrain", "Stride"],
        }
    )
    data = _orders([("u", "a", "2024-01-01")], items=["a", "b", "c"])
    codes, _ = ContentBased(catalog).fit(data).similar(0, 5)
    assert list(codes) == [1]


def test_items_missing_from_catalog_have_no_vector() -> None:
    items = [*ITEMS, "GHOST"]
    data = _orders([("u1", "GHOST", "2024-01-01"), ("u1", "OAT-1", "2024-01-02")], items=items)
    model = ContentBased(CATALOG).fit(data)
    ghost = len(items) - 1
    assert len(model.similar(ghost, 5)[0]) == 0
    assert model.score(data)[:, ghost].max() == 0


def test_recency_weights_the_latest_purchases() -> None:
    # u1 bought oats first, earphones last: with a short half-life the earphone-like
    # item gains on the oat-like one.
    u1 = DATA.user_codes(["u1"])
    flat = ContentBased(CATALOG, half_life=None).fit(DATA).score(DATA, u1)[0]
    recent = ContentBased(CATALOG, half_life=0.5).fit(DATA).score(DATA, u1)[0]
    ear, oat = _code("EAR-2"), _code("OAT-2")
    assert recent[ear] / recent[oat] > 1.5 * flat[ear] / flat[oat]


def test_neighbours_caps_the_similarity(model: ContentBased) -> None:
    one = ContentBased(CATALOG, neighbours=1).fit(DATA)
    u1 = DATA.user_codes(["u1"])
    # OAT-1's single neighbour is OAT-NEW, so OAT-2 no longer scores for u1.
    assert one.score(DATA, u1)[0, _code("OAT-2")] == 0
    assert model.score(DATA, u1)[0, _code("OAT-2")] > 0


def test_explain_names_the_closest_bought_item(model: ContentBased) -> None:
    u1 = int(DATA.user_codes(["u1"])[0])
    assert model.explain(DATA, u1, _code("EAR-2")) == "like EAR-1, which you bought"
    assert model.explain(DATA, u1, _code("OAT-NEW")) == "like OAT-1, which you bought"
    # u2 bought oats and milk, nothing like earphones: no product to name.
    u2 = int(DATA.user_codes(["u2"])[0])
    assert "which you bought" not in model.explain(DATA, u2, _code("EAR-1"))


def test_no_catalog_or_no_text_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="catalog"):
        ContentBased().fit(DATA)
    with pytest.raises(ConfigError, match="no column title"):
        ContentBased(pd.DataFrame({"product_id": ITEMS})).fit(DATA)
    blank = pd.DataFrame({"product_id": ITEMS, "title": ["", "！！", " ", None, "-", "x"]})
    with pytest.raises(ConfigError, match="has catalog text"):
        ContentBased(blank).fit(DATA)
    other = pd.DataFrame({"product_id": ["elsewhere"], "title": ["有机燕麦片"]})
    with pytest.raises(ConfigError, match="has catalog text"):
        ContentBased(other).fit(DATA)
    with pytest.raises(ConfigError, match="neighbours"):
        ContentBased(CATALOG, neighbours=0)


def test_saved_model_keeps_serving_without_the_catalog(model: ContentBased, tmp_path: Path) -> None:
    assert "catalog" not in model.params()
    assert "\n" not in repr(model)
    model.save(tmp_path / "m.pkl")
    loaded = Recommender.load(tmp_path / "m.pkl")
    assert isinstance(loaded, ContentBased)
    np.testing.assert_array_equal(loaded.score(DATA), model.score(DATA))
    assert list(loaded.similar(_code("OAT-1"), 3)[0]) == list(model.similar(_code("OAT-1"), 3)[0])
    with pytest.raises(ConfigError, match="catalog"):
        loaded.fit(DATA)
