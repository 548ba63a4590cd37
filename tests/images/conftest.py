"""Fixtures of the image tests: Fashion-MNIST when Debian's package is installed, and a
small shop of product photos written as PNG files.

Tests of Fashion-MNIST skip without the data set, unless
``SHOPKEEPER_REQUIRE_FASHION_MNIST=1`` (as in CI, which installs it): then they fail.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from shopkeeper.images import (
    fashion_mnist_available,
    fashion_mnist_folder,
    load_fashion_mnist,
)

#: Four classes that look nothing alike, so a tiny network separates them in seconds.
SHOP_CLASSES = {1: "Fashion > Trousers", 5: "Fashion > Sandals", 8: "Bags", 3: "Fashion > Dresses"}
#: Products per category of the small shop.
PER_CLASS = 45


@pytest.fixture(scope="session")
def fashion() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first 6,000 training and 2,000 test images (uint8) and their labels."""
    if not fashion_mnist_available():
        reason = (
            f"Fashion-MNIST not found in {fashion_mnist_folder()}: install the Debian package "
            "dataset-fashion-mnist or set SHOPKEEPER_FASHION_MNIST"
        )
        # CI installs the data set and says so: there a missing one is a failure.
        if os.environ.get("SHOPKEEPER_REQUIRE_FASHION_MNIST") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    x, y = load_fashion_mnist("train", limit=6000)
    xt, yt = load_fashion_mnist("test", limit=2000)
    return x, y, xt, yt


@pytest.fixture(scope="session")
def shop_photos(
    tmp_path_factory: pytest.TempPathFactory,
    fashion: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """A shop of 180 products in four categories, one PNG each (dark product on white, as a
    studio shot), plus six unlabelled products; four products carry a wrong category.

    Returns the photo table, the catalog, and the true category of each planted product.
    """
    folder = tmp_path_factory.mktemp("photos")
    x, y, _, _ = fashion
    rows, products = [], []
    for label, category in SHOP_CLASSES.items():
        picks = np.flatnonzero(y == label)[: PER_CLASS + 2]
        for j, i in enumerate(picks):
            pid = f"P-{label}-{j:03d}"
            path = folder / f"{pid}.png"
            Image.fromarray(255 - x[i]).save(path)
            rows.append({"product_id": pid, "path": str(path), "is_primary": True})
            stated = category if j < PER_CLASS else None  # the last two: no category
            products.append({"product_id": pid, "title": f"item {pid}", "category": stated})
    catalog = pd.DataFrame(products)
    # Plant wrong labels: a trouser called a bag, a sandal a dress, and so on.
    planted = {
        "P-1-003": "Bags",
        "P-5-007": "Fashion > Dresses",
        "P-8-011": "Fashion > Trousers",
        "P-3-013": "Fashion > Sandals",
    }
    truth = {}
    for pid, wrong in planted.items():
        at = catalog.index[catalog["product_id"] == pid][0]
        truth[pid] = str(catalog.at[at, "category"])
        catalog.at[at, "category"] = wrong
    return pd.DataFrame(rows), catalog, truth


def as_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) as the network's float arrays (n, 1, 28, 28) in [0, 1]."""
    return (images[:, None] / 255.0).astype(np.float32)
