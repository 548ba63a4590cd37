"""The shop's product photos and categories, as the ``images`` job reads them from a store.

``product_images`` holds one row per photo: ``product_id``, ``path`` (an
absolute local path once ingest has resolved it) and ``is_primary`` (may be
null). ``products`` gives each product's ``title`` and ``category``.
"""

from __future__ import annotations

import pandas as pd

from shopkeeper import contract
from shopkeeper.errors import ConfigError
from shopkeeper.store import Store

IMAGE_COLUMNS = ("product_id", "path", "is_primary")
PRODUCT_COLUMNS = ("product_id", "title", "category")


def load_product_images(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The photos (``product_id``, ``path``, ``is_primary``) and the catalog
    (``product_id``, ``title``, ``category``) of the shop in ``store``.

    Raises :class:`ConfigError` when the store holds no photos.
    """
    if "product_images" not in contract.table_names():
        raise ConfigError("this shopkeeper's contract has no product_images table")
    images = store.read("product_images", list(IMAGE_COLUMNS))
    if images.empty:
        raise ConfigError(
            "the store holds no product photos; load a product_images table (product_id, "
            "path, is_primary) with 'shopkeeper ingest' first"
        )
    products = store.read("products", list(PRODUCT_COLUMNS))
    return images, products
