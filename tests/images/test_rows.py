"""Which photos the job reads, and the categories it learns (no PyTorch needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.images import ImageSettings
from shopkeeper.images._analysis import _category, _photo_rows


def test_the_primary_photo_first_and_at_most_n_per_product() -> None:
    photos = pd.DataFrame(
        {
            "product_id": ["a", "a", "a", "b", "ghost"],
            "path": ["/p/a1.png", "/p/a2.png", "/p/a3.png", "/p/b.png", "/p/g.png"],
            "is_primary": [None, True, False, None, True],
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ["a", "b"],
            "title": ["A", "B"],
            "category": ["Fashion >Shoes> Boots ", None],
        }
    )
    rows = _photo_rows(photos, products, ImageSettings(images_per_product=2, category_depth=2))
    assert rows["path"].tolist() == ["/p/a2.png", "/p/a1.png", "/p/b.png"]  # no ghost product
    assert rows["category"].tolist() == ["Fashion > Shoes", "Fashion > Shoes", None]
    every = _photo_rows(photos.drop(columns="is_primary"), products, ImageSettings())
    assert every["path"].tolist() == ["/p/a1.png", "/p/a2.png", "/p/a3.png", "/p/b.png"]


def test_category_paths_are_tidied() -> None:
    assert _category(" Home>Kitchen >  Pots", 0) == "Home > Kitchen > Pots"
    assert _category("Home > Kitchen", 1) == "Home"
    assert _category(" > ", 0) is None and _category(float("nan"), 0) is None


def test_settings_are_checked_with_the_value_and_the_range() -> None:
    with pytest.raises(ConfigError, match=r"neighbours=0 must lie in 1\.\.1000"):
        ImageSettings(neighbours=0)
    with pytest.raises(ConfigError, match=r"mismatch_confidence=1\.5"):
        ImageSettings(mismatch_confidence=1.5)
    with pytest.raises(ConfigError, match="image size 4"):
        ImageSettings(size=4)
    with pytest.raises(ConfigError, match="must be a whole number"):
        ImageSettings.from_params({"epochs": 2.5})
