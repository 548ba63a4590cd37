"""The shop's store: the contract tables in SQLite or PostgreSQL."""

from shopkeeper.store._schema import (
    DEMO_META,
    EXTRA_COLUMN,
    METADATA,
    SCHEMA_VERSION,
    TIMEZONE_META,
    key_expressions,
)
from shopkeeper.store._store import Store
from shopkeeper.store._writer import write_frame

__all__ = [
    "DEMO_META",
    "EXTRA_COLUMN",
    "METADATA",
    "SCHEMA_VERSION",
    "TIMEZONE_META",
    "Store",
    "key_expressions",
    "write_frame",
]
