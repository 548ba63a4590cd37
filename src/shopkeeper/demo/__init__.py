"""A realistic demo shop, generated: every contract table plus the truth behind it.

>>> from shopkeeper.demo import DemoConfig, generate
>>> shop = generate(DemoConfig.preset("small"))
>>> sorted(shop.tables)[:3]
['ad_spend', 'customers', 'events']

``write_shop(shop, folder)`` writes ``<table>.csv`` per table,
``support_questions.csv`` and ``ground_truth.json``.
"""

from __future__ import annotations

from shopkeeper.demo._config import DemoConfig
from shopkeeper.demo._generator import DemoShop, generate
from shopkeeper.demo._write import TRUTH_FILE, write_shop

__all__ = ["TRUTH_FILE", "DemoConfig", "DemoShop", "generate", "write_shop"]
