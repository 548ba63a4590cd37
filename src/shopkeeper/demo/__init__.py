"""A realistic demo shop, generated: every contract table plus the truth behind it.

>>> from shopkeeper.demo import DemoConfig, generate
>>> shop = generate(DemoConfig.preset("small"))
>>> sorted(shop.tables)[:3]
['ad_spend', 'customers', 'events']

``write_shop(shop, folder)`` writes ``<table>.csv`` per table,
``support_questions.csv``, ``ground_truth.json`` and the fashion products'
photos (``images/*.png``, listed in ``product_images.csv``; they come from
Debian's ``dataset-fashion-mnist`` and are left out without it);
``build_demo(store, folder)`` does both and loads the files into a store
through ingest, as ``shopkeeper demo`` does.
"""

from __future__ import annotations

from shopkeeper.demo._build import DEMO_FOLDER, DemoBuild, build_demo
from shopkeeper.demo._config import DemoConfig
from shopkeeper.demo._generator import DemoShop, generate
from shopkeeper.demo._write import TRUTH_FILE, write_shop

__all__ = [
    "DEMO_FOLDER",
    "TRUTH_FILE",
    "DemoBuild",
    "DemoConfig",
    "DemoShop",
    "build_demo",
    "generate",
    "write_shop",
]
