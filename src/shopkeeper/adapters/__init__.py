"""Real-data adapters: public data sets turned into contract tables.

Each adapter reads one real data set from the shared data folder (by default
``../shared/data`` beside the checkout) and returns the contract tables it can
fill, as pandas data frames in contract columns (contract columns first, in
contract order, then the source's extra columns, which the contract keeps):

>>> from shopkeeper.adapters import ADAPTERS, convert
>>> sorted(ADAPTERS)  # doctest: +NORMALIZE_WHITESPACE
['cdnow', 'cdnow_sample', 'dominicks', 'groceries', 'instacart', 'movielens']
>>> tables = convert("cdnow", out=Path("cdnow-tables"))  # doctest: +SKIP
>>> tables["order_lines"].columns.tolist()  # doctest: +SKIP
['order_id', 'product_id', 'quantity', 'unit_price', 'dollar_value']

``convert(name, out=folder)`` also writes ``<table>.csv`` files (UTF-8,
ISO 8601 date-times) that ``shopkeeper ingest`` reads like any shop's export.
Every mapping and every approximation is documented in the adapter's module:
:mod:`._instacart`, :mod:`._cdnow`, :mod:`._groceries`, :mod:`._dominicks`,
:mod:`._movielens`.

Where the data is looked for (:func:`default_source`): the folder named by
``$SHOPKEEPER_SHARED_DATA`` if that is set; otherwise ``../shared/data``
relative to the working directory, then relative to the checkout this
package was loaded from.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from shopkeeper.adapters._cdnow import convert_cdnow, convert_cdnow_sample
from shopkeeper.adapters._common import ENV_VAR, write_tables
from shopkeeper.adapters._dominicks import convert_dominicks
from shopkeeper.adapters._groceries import convert_groceries
from shopkeeper.adapters._instacart import convert_instacart
from shopkeeper.adapters._movielens import convert_movielens
from shopkeeper.adapters._open_bandit import open_bandit_file, read_open_bandit  # noqa: F401
from shopkeeper.errors import ConfigError

__all__ = ["ADAPTERS", "ENV_VAR", "Adapter", "convert", "default_source", "shared_data_dirs"]

logger = logging.getLogger(__name__)

Tables = dict[str, pd.DataFrame]


@dataclass(frozen=True)
class Adapter:
    """One real data set and the function that turns it into contract tables.

    ``folder`` is relative to the shared data folder; ``function`` takes the
    data set's folder (or its main file) and keyword options, and returns the
    tables by contract name. ``files`` are the files it reads, main file first.
    """

    name: str
    folder: str
    description: str
    function: Callable[..., Tables]
    files: tuple[str, ...] = ()


ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Adapter(
            "instacart",
            "instacart_sample",
            "Instacart grocery order histories of 593 shoppers (150,000 lines); "
            "order dates rebuilt from day gaps",
            convert_instacart,
            ("order_lines.csv",),
        ),
        Adapter(
            "cdnow",
            "cdnow",
            "CDNOW music store purchases, 1997-01 to 1998-06 (69,659 rows, 23,570 customers)",
            convert_cdnow,
            ("CDNOW_master.txt",),
        ),
        Adapter(
            "cdnow_sample",
            "cdnow",
            "the 1/10 CDNOW sample of the BG/NBD literature (6,919 rows, 2,357 customers)",
            convert_cdnow_sample,
            ("CDNOW_sample.txt",),
        ),
        Adapter(
            "groceries",
            "groceries",
            "arules Groceries point-of-sale baskets (9,835 baskets, 169 items); no dates",
            convert_groceries,
            ("groceries.csv",),
        ),
        Adapter(
            "dominicks",
            "dominicks_oj",
            "Dominick's orange juice sales per store, brand and week (106,139 rows, 83 stores)",
            convert_dominicks,
            ("store_brand_week.csv", "store_demographics.csv"),
        ),
        Adapter(
            "movielens",
            "movielens_100k",
            "MovieLens 100K ratings as view events (100,000 ratings, 943 users, 1,682 movies)",
            convert_movielens,
            ("ml-100k.inter", "ml-100k.item", "ml-100k.user"),
        ),
    )
}


def _repo_root() -> Path | None:
    """The checkout this package was loaded from (src layout), if it is one."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() else None


def shared_data_dirs() -> list[Path]:
    """The shared data folders looked at, in order (see the module doc)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return [Path(env).expanduser()]
    dirs = [Path.cwd().parent / "shared" / "data"]
    root = _repo_root()
    if root is not None:
        beside_repo = root.parent / "shared" / "data"
        if beside_repo.resolve() != dirs[0].resolve():
            dirs.append(beside_repo)
    return dirs


def _adapter(name: str) -> Adapter:
    try:
        return ADAPTERS[name]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS))
        raise ConfigError(f"unknown data set {name!r}; adapters exist for: {known}") from None


def default_source(name: str) -> Path:
    """Where data set ``name`` is looked for: the first candidate folder that exists.

    When none exists, the first candidate is returned (and :func:`convert`
    reports every place it looked).
    """
    folder = _adapter(name).folder
    candidates = [d / folder for d in shared_data_dirs()]
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def convert(
    name: str, source: Path | str | None = None, out: Path | str | None = None, **options: Any
) -> Tables:
    """Convert data set ``name`` to contract tables; also write CSV files into ``out``.

    ``source`` is the data set's folder or its main file (default:
    :func:`default_source`); ``options`` go to the adapter (for example
    ``align="end"`` for instacart, ``date=...`` for groceries). Raises
    ConfigError when the data is not there.
    """
    adapter = _adapter(name)
    if source is None:
        path = default_source(name)
        if not path.exists():
            looked = ", ".join(str(d / adapter.folder) for d in shared_data_dirs())
            raise ConfigError(
                f"{name}: data set not found (looked in {looked}); set {ENV_VAR} to the folder "
                f"that holds {adapter.folder}/, or pass source= (--source) the data set's folder"
            )
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError(
                f"{name}: no such file or folder: {path}; pass the folder that holds "
                f"{', '.join(adapter.files) or adapter.folder}"
            )
    try:
        inspect.signature(adapter.function).bind(path, **options)
    except TypeError as exc:
        raise ConfigError(f"{name}: bad options {sorted(options)}: {exc}") from None
    started = time.perf_counter()
    tables = adapter.function(path, **options)
    logger.info(
        "converted %s from %s in %.2f s: %s",
        name,
        path,
        time.perf_counter() - started,
        ", ".join(f"{t} {len(df):,}" for t, df in tables.items()),
    )
    if out is not None:
        write_tables(tables, Path(out).expanduser())
    return tables
