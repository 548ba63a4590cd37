"""The data contract: the tables a shop hands to shopkeeper, declared once.

>>> from shopkeeper.contract import table
>>> table("order_lines").key
('order_id', 'product_id')
"""

from __future__ import annotations

from shopkeeper.contract._model import Column, Kind, Reference, RowRule, Table
from shopkeeper.contract._tables import (
    IMAGE_MAX_BYTES,
    IMAGE_MAX_PIXELS,
    ORDER_STATUSES,
    SHIPMENT_STATUSES,
    TABLES,
)
from shopkeeper.errors import ConfigError

__all__ = [
    "IMAGE_MAX_BYTES",
    "IMAGE_MAX_PIXELS",
    "ORDER_STATUSES",
    "SHIPMENT_STATUSES",
    "TABLES",
    "Column",
    "Kind",
    "Reference",
    "RowRule",
    "Table",
    "table",
    "table_names",
]

_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The contract table called ``name``; raises ConfigError for an unknown name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ConfigError(f"unknown table {name!r}; the contract has: {known}") from None


def table_names() -> tuple[str, ...]:
    """All contract table names, in load order."""
    return tuple(_BY_NAME)
