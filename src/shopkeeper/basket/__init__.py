"""Market baskets: frequent itemsets, association rules, bundles, bought together."""

from shopkeeper.basket._itemsets import (
    MEASURES,
    Baskets,
    Itemsets,
    association_rules,
    frequent_itemsets,
)

__all__ = ["MEASURES", "Baskets", "Itemsets", "association_rules", "frequent_itemsets"]
