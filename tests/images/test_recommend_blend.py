"""The image model as a signal of the recommendations hybrid.

Customers of the photo shop (``tests/service/images_shop.py``) each keep to one
kind of product (trousers, sandals, bags or dresses) that the titles do not
reveal ("Item P-..."), buying a few random items of it. What a customer buys
next is then best told by what their past items look like: the hybrid built
with the image model gives the visual component a weight, and the recommend
job finds the model in the workspace by itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.images import ImageModel
from shopkeeper.jobs import JobContext
from shopkeeper.recommend import Interactions
from shopkeeper.recommend._serve import ServingRules
from shopkeeper.recommend._source import ShopData
from shopkeeper.recommend._train import _image_model, build
from tests.service.images_shop import CLASSES, ImagesShop, images_shop


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ImagesShop:
    return images_shop(tmp_path_factory)


@pytest.fixture(scope="module")
def model(shop: ImagesShop) -> ImageModel:
    return shop.model()


def _loyal_shop(catalog: pd.DataFrame) -> ShopData:
    """60 customers, each buying 8 orders of 1-2 random items of their one kind."""
    rng = np.random.default_rng(7)
    kinds = {
        label: [p for p in catalog["product_id"] if p.startswith(f"P-{label}-")]
        for label in CLASSES
    }
    rows = []
    start = pd.Timestamp("2025-01-01")
    for c in range(60):
        pool = kinds[list(CLASSES)[c % len(CLASSES)]]
        for n in range(8):
            at = start + pd.Timedelta(days=5 * n + int(rng.integers(0, 3)))
            for p in rng.choice(pool, size=int(rng.integers(1, 3)), replace=False):
                rows.append(
                    {"customer_id": f"c{c:02d}", "product_id": p, "at": at, "order": f"o{c}-{n}"}
                )
    log = pd.DataFrame(rows)
    data = Interactions.from_frame(log, occasion="order", items=catalog["product_id"].to_numpy())
    full = catalog.assign(description=None, brand=None, price=10.0, cost=5.0, active=True)
    return ShopData(
        interactions=data,
        catalog=full,
        stock=pd.Series(dtype=float),
        no_consent=set(),
        sessions=pd.DataFrame(columns=["session_id", "product_id", "at"]),
    )


def test_the_hybrid_weighs_what_products_look_like(model: ImageModel) -> None:
    catalog = model.catalog[["product_id", "title", "category"]].copy()
    shop = _loyal_shop(catalog)
    recs = build(shop, ServingRules(), quick=True, visual=model)
    weights = recs.metrics["weights"]
    assert "visual" in weights
    assert weights["visual"] > 0, weights
    without = build(shop, ServingRules(), quick=True)
    assert "visual" not in without.metrics["weights"]


def test_the_recommend_job_finds_the_image_model(shop: ImagesShop, model: ImageModel) -> None:
    ctx = JobContext(shop.store, shop.workspace, shop.workspace.root, {}, lambda s, m: None)
    found = _image_model(ctx)
    assert found is not None and list(found.catalog["product_id"]) == list(
        model.catalog["product_id"]
    )
