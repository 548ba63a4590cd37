"""Market-basket analysis in one pass, and the ``basket`` job that saves it.

:func:`analyse` mines a shop's baskets twice, counting support over orders
(for rules: "of the orders with A, how many hold C") and over distinct
customers (for bundles: a bundle is worth offering when many *people* buy
its items together, not when one person re-orders the same basket), then
derives the rules, the bundles and the bought-together lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from shopkeeper.basket._bundles import bought_together, bundles
from shopkeeper.basket._itemsets import Itemsets, association_rules, frequent_itemsets
from shopkeeper.basket._source import Level, ShopBaskets, load_baskets
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import (
    JobContext,
    JobOutcome,
    current_artifact,
    load_artifact,
    register,
    save_artifact,
    settings_from_params,
)
from shopkeeper.workspace import Workspace

FORMAT = 3  # 2: Itemsets keep their derived tuples and keys; 3: keys with a hash table
ARTIFACT = "basket.pkl"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BasketSettings:
    """The knobs of an analysis, with the defaults a shop starts from.

    ``min_support``: share of orders (and, for bundles, of customers) an
    itemset needs; ``max_size``: items per itemset; ``min_confidence`` and
    ``min_lift``: the rules kept; ``level``: ``product`` or ``category``;
    ``margin_floor`` and ``max_discount``: the bundle discount rule;
    ``bundle_items``: the largest bundle; ``per_product``: bought-together
    partners kept per product.
    """

    min_support: float = 0.0005
    max_size: int = 4
    min_confidence: float = 0.1
    min_lift: float = 1.0
    level: str = "product"
    margin_floor: float = 0.25
    max_discount: float = 0.2
    bundle_items: int = 3
    per_product: int = 10
    max_basket_items: int = 200

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> BasketSettings:
        """Settings from job parameters: unknown names and wrong types are refused."""
        return settings_from_params(cls, params, "basket")


@dataclass
class BasketAnalysis:
    """Itemsets, rules, bundles and bought-together lists of a shop (the artifact)."""

    settings: BasketSettings
    itemsets: Itemsets  # support over orders
    customer_itemsets: Itemsets  # support over distinct customers
    rules: pd.DataFrame
    bundles: pd.DataFrame
    together: pd.DataFrame
    catalog: pd.DataFrame
    period: tuple[str, str]
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        save_artifact(self, path)

    @classmethod
    def load(cls, path: Path) -> BasketAnalysis:
        return load_artifact(cls, path, "basket", FORMAT)

    def bought_with(self, product_id: str, k: int = 10) -> pd.DataFrame:
        """The products most often in the same orders as ``product_id``."""
        rows = self.together[self.together["product_id"] == product_id]
        return rows.head(k)

    def network(self, edges: int = 60) -> dict[str, list[dict[str, Any]]]:
        """The strongest pairs as a graph: nodes (products) and edges (lift, orders)."""
        pairs = self.together[self.together["product_id"] < self.together["partner_id"]]
        top = pairs.sort_values(["orders", "lift"], ascending=False, kind="stable").head(edges)
        ids = sorted(set(top["product_id"]) | set(top["partner_id"]))
        titles = dict(zip(self.catalog["product_id"], self.catalog["title"], strict=True))
        sizes = self.itemsets.sizes
        orders = {
            self.itemsets.itemset(int(s))[0]: int(self.itemsets.baskets[s])
            for s in np.flatnonzero(sizes == 1)
        }
        nodes = [
            {"id": p, "title": str(titles.get(p) or p), "orders": orders.get(p, 0)} for p in ids
        ]
        links = [
            {
                "source": r.product_id,
                "target": r.partner_id,
                "lift": float(r.lift),
                "orders": int(r.orders),
            }
            for r in top.itertuples()
        ]
        return {"nodes": nodes, "edges": links}

    def metrics(self) -> dict[str, Any]:
        return {
            "baskets": self.itemsets.n_baskets,
            "customers": self.itemsets.n_customers,
            "itemsets": len(self.itemsets),
            "customer_itemsets": len(self.customer_itemsets),
            "rules": len(self.rules),
            "bundles": len(self.bundles),
            "products_with_partners": int(self.together["product_id"].nunique()),
            "skipped_baskets": self.itemsets.settings.get("skipped_baskets", 0),
        }


def analyse(shop: ShopBaskets, settings: BasketSettings | None = None) -> BasketAnalysis:
    """Itemsets on both bases, rules, bundles and bought-together; see the module doc."""
    cfg = settings or BasketSettings()
    by_orders = frequent_itemsets(
        shop.baskets, cfg.min_support, max_size=cfg.max_size, basis="baskets"
    )
    by_people = frequent_itemsets(
        shop.baskets, cfg.min_support, max_size=cfg.max_size, basis="customers"
    )
    rules = association_rules(by_orders, min_confidence=cfg.min_confidence, min_lift=cfg.min_lift)
    offer = bundles(
        by_people,
        shop.catalog,
        days=shop.days,
        max_items=cfg.bundle_items,
        min_lift=cfg.min_lift,
        margin_floor=cfg.margin_floor,
        max_discount=cfg.max_discount,
    )
    notes = []
    if shop.baskets.skipped:
        notes.append(
            f"{shop.baskets.skipped} orders with more than {cfg.max_basket_items} items were "
            "left out of the search"
        )
    return BasketAnalysis(
        settings=cfg,
        itemsets=by_orders,
        customer_itemsets=by_people,
        rules=rules,
        bundles=offer,
        together=bought_together(by_orders, per_product=cfg.per_product),
        catalog=shop.catalog[["product_id", "title", "category", "price", "cost"]].copy(),
        period=(str(shop.first.date()), str(shop.last.date())),
        notes=notes,
    )


@register("basket", "Frequent itemsets, association rules, bundles and bought-together")
def train_job(ctx: JobContext) -> JobOutcome:
    """Job: read the store's baskets, analyse them, save the analysis as the artifact."""
    settings = BasketSettings.from_params(dict(ctx.params))
    ctx.progress(0.05, "reading orders")
    shop = load_baskets(
        ctx.store,
        level=cast(Level, settings.level),
        max_basket_items=settings.max_basket_items,
    )
    ctx.progress(0.5, "mining itemsets and rules")
    analysis = analyse(shop, settings)
    analysis.save(ctx.artifact_dir / ARTIFACT)
    return JobOutcome(metrics={**analysis.metrics(), "settings": asdict(settings)})


def load_analysis(ws: Workspace) -> BasketAnalysis:
    """The analysis of the last successful ``basket`` job."""
    folder = current_artifact(ws, "basket")
    if folder is None or not (folder / ARTIFACT).exists():
        raise ConfigError("no basket analysis yet; run 'shopkeeper train basket' first")
    return BasketAnalysis.load(folder / ARTIFACT)
