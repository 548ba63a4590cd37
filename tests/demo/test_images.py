"""The demo's product photos: real Fashion-MNIST images, one class set per sub-category.

Tests that need the images skip when Debian's ``dataset-fashion-mnist`` (or
``$SHOPKEEPER_FASHION_MNIST``) is absent, unless
``SHOPKEEPER_REQUIRE_FASHION_MNIST=1`` (as in CI, which installs it): then they
fail. The tests of the shop without them always run.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from shopkeeper.demo import TRUTH_FILE, DemoConfig, DemoShop, build_demo, generate, write_shop
from shopkeeper.demo._images import CLASSES, IMAGE_CLASS
from shopkeeper.errors import ConfigError
from shopkeeper.images._fashion import FOLDER_VARIABLE as FASHION_ENV
from shopkeeper.images._fashion import fashion_mnist_folder as fashion_folder
from shopkeeper.images._fashion import load_fashion_mnist
from shopkeeper.store import Store

TINY = DemoConfig(customers=100, products=300, days=60)


@pytest.fixture(scope="module")
def needs_data() -> None:
    """Skip (or, where CI requires the data set, fail) without Fashion-MNIST."""
    if (fashion_folder() / "t10k-images-idx3-ubyte.gz").is_file():
        return
    reason = (
        f"Fashion-MNIST not found in {fashion_folder()} "
        "(apt-get install dataset-fashion-mnist, or set SHOPKEEPER_FASHION_MNIST)"
    )
    if os.environ.get("SHOPKEEPER_REQUIRE_FASHION_MNIST") == "1":
        pytest.fail(f"SHOPKEEPER_REQUIRE_FASHION_MNIST=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def class_of_image(needs_data: None) -> dict[bytes, int]:
    """Every test-split image's bytes -> its class, to tell what a written photo shows."""
    images, labels = load_fashion_mnist("test")
    return {img.tobytes(): int(c) for img, c in zip(images, labels, strict=True)}


@pytest.mark.usefixtures("needs_data")
def test_fashion_products_get_distinct_real_photos(
    small_shop: DemoShop, written: Path, class_of_image: dict[bytes, int]
) -> None:
    listing = pd.read_csv(written / "product_images.csv", dtype=str, keep_default_na=False)
    products = small_shop.tables["products"].set_index("product_id")
    truth = small_shop.truth["images"]
    wrong = set(truth["mismatched_product_ids"])

    primary = listing[listing["is_primary"] == "true"]
    assert primary["product_id"].is_unique
    assert (primary["path"] == "images/" + primary["product_id"] + ".png").all()
    assert set(listing["product_id"]) == set(primary["product_id"])
    assert len(primary) == truth["imaged_products"] and len(listing) == truth["files"]
    assert len(listing) > len(primary)  # some products have a second photo

    seen: set[bytes] = set()
    for row in listing.itertuples():
        with Image.open(written / row.path) as image:
            assert (image.size, image.mode) == ((28, 28), "L")
            pixels = np.asarray(image).tobytes()
        assert pixels not in seen, "each photo is a different image"
        seen.add(pixels)
        shown = CLASSES[class_of_image[pixels]]
        category = str(products.loc[row.product_id, "category"])
        expected = {
            CLASSES[c] for (sub, _), c in IMAGE_CLASS.items() if category == f"Fashion > {sub}"
        }
        assert (shown in expected) == (row.product_id not in wrong), row.product_id


@pytest.mark.usefixtures("needs_data")
def test_sub_categories_have_classes_of_their_own(small_shop: DemoShop) -> None:
    by_category = small_shop.truth["images"]["classes_by_category"]
    owned = [c for classes in by_category.values() for c in classes]
    assert len(owned) == len(set(owned)) == len(CLASSES)
    categories = set(small_shop.tables["products"]["category"])
    assert set(by_category) <= categories


@pytest.mark.usefixtures("needs_data")
def test_planted_wrong_photos_are_in_the_ground_truth(small_shop: DemoShop, written: Path) -> None:
    truth = json.loads((written / TRUTH_FILE).read_text(encoding="utf-8"))["images"]
    wrong = truth["mismatched_product_ids"]
    assert 1 <= len(wrong) <= max(1, round(0.05 * truth["imaged_products"]))
    assert [m["product_id"] for m in truth["mismatches"]] == wrong
    products = small_shop.tables["products"].set_index("product_id")
    for m in truth["mismatches"]:
        assert products.loc[m["product_id"], "category"] == m["category"]
        assert m["looks_like_category"] != m["category"]
        assert m["shown_class"] in truth["classes_by_category"][m["looks_like_category"]]
        assert m["shown_class"] not in truth["classes_by_category"][m["category"]]
    shown = dict(
        zip(truth["products"]["product_id"], truth["products"]["shown_class"], strict=True)
    )
    assert all(shown[m["product_id"]] == m["shown_class"] for m in truth["mismatches"])


@pytest.mark.usefixtures("needs_data")
def test_the_demo_loads_its_photos_through_ingest(store: Store, tmp_path: Path) -> None:
    built = build_demo(store, tmp_path / "demo", TINY)
    stored = store.read("product_images")
    assert len(stored) == {t.table: t.rows for t in built.load.tables}["product_images"] > 0
    assert all(os.path.isabs(p) and Path(p).is_file() for p in stored["path"])
    assert stored["is_primary"].sum() == stored["product_id"].nunique()


@pytest.mark.usefixtures("needs_data")
def test_the_data_set_folder_can_be_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_shop: DemoShop
) -> None:
    copy = tmp_path / "fmnist"
    copy.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(fashion_folder() / name, copy / name)
    monkeypatch.setenv(FASHION_ENV, str(copy))
    again = generate(DemoConfig.preset("small"))
    assert again.images is not None and small_shop.images is not None
    assert np.array_equal(again.images.pixels, small_shop.images.pixels)


def test_without_the_data_set_the_demo_works_and_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "demo"
    (folder / "images").mkdir(parents=True)
    (folder / "images" / "SKU-99999.png").write_bytes(b"an earlier shop's photo")
    (folder / "product_images.csv").write_text("product_id,path\nSKU-99999,images/x.png\n")
    monkeypatch.setenv(FASHION_ENV, str(tmp_path / "nowhere"))

    with caplog.at_level(logging.WARNING, logger="shopkeeper.demo"):
        shop = generate(TINY)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "apt-get install dataset-fashion-mnist" in lines[0]
    assert shop.images is None and shop.truth["images"]["mismatched_product_ids"] == []

    write_shop(shop, folder)
    assert not (folder / "product_images.csv").exists()
    assert list((folder / "images").iterdir()) == []


def test_a_file_that_is_not_an_idx_file_is_refused(tmp_path: Path) -> None:
    for kind in ("images-idx3", "labels-idx1"):
        with gzip.open(tmp_path / f"t10k-{kind}-ubyte.gz", "wb") as fh:
            fh.write(b"<html>not found</html>")
    with pytest.raises(ConfigError, match="is not an idx file"):
        load_fashion_mnist("test", folder=tmp_path)
    with pytest.raises(ConfigError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test", folder=tmp_path / "nowhere")
