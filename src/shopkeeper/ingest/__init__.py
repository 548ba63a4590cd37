"""Ingest: a shop's files (CSV or Parquet) validated against the contract and loaded.

>>> from shopkeeper.ingest import load_folder          # doctest: +SKIP
>>> load_folder("exports/", store).rows                 # doctest: +SKIP
"""

from shopkeeper.ingest._load import (
    LoadResult,
    Progress,
    TableLoad,
    find_table_files,
    load_folder,
    load_frames,
    validate_only,
)
from shopkeeper.ingest._read import RawTable, read_file

__all__ = [
    "LoadResult",
    "Progress",
    "RawTable",
    "TableLoad",
    "find_table_files",
    "load_folder",
    "load_frames",
    "read_file",
    "validate_only",
]
