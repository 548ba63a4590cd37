"""Helpers shared by the real-data adapters: finding files, shaping and writing tables.

Every adapter returns ``dict[str, pandas.DataFrame]`` keyed by contract table
name. :func:`frame` gives each table its contract shape: the contract's
columns that the adapter fills, in the contract's order, followed by the
adapter's extra columns (the contract keeps unknown columns). Identifier
columns are text (pandas ``str``), date-times are ``datetime64`` (naive where
the source gives local or calendar times, UTC where it gives Unix time).

:func:`write_tables` writes the tables as UTF-8 CSV files named after the
table, with ISO 8601 date-times: ``YYYY-MM-DD`` where every value of a column
is a calendar date, ``YYYY-MM-DDTHH:MM:SS`` for local times and
``YYYY-MM-DDTHH:MM:SS+00:00`` for UTC times.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.contract import Kind, table, table_names
from shopkeeper.errors import ConfigError, SourceError

logger = logging.getLogger(__name__)

ENV_VAR = "SHOPKEEPER_SHARED_DATA"


def source_file(source: Path, name: str) -> Path:
    """The file ``name`` inside the folder ``source``, or ``source`` itself if it is a file.

    Raises ConfigError when the file does not exist, naming the path looked at.
    """
    path = source / name if source.is_dir() else source
    if not path.is_file():
        raise ConfigError(
            f"no such file: {path}; pass the data set's folder (or the file itself) as the "
            f"source, or set {ENV_VAR} to the folder that holds the shared data sets"
        )
    return path


def sibling_file(main: Path, name: str) -> Path:
    """The file ``name`` beside ``main`` (an adapter's second file)."""
    return source_file(main.parent, name)


def read_text(path: Path) -> str:
    """The whole file as text; SourceError if it is not UTF-8 or is empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), f"is not UTF-8 text ({exc.reason})") from None
    if not text.strip():
        raise SourceError(str(path), "is empty")
    return text


def read_csv(path: Path, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with SourceError for an empty, non-UTF-8 or malformed file."""
    try:
        return pd.read_csv(path, encoding="utf-8", **options)
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), f"is not UTF-8 text ({exc.reason})") from None
    except pd.errors.EmptyDataError:
        raise SourceError(str(path), "is empty") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceError(str(path), f"cannot be read ({exc})") from None


def expect_columns(df: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    """SourceError unless ``df`` (read from ``path``) has every column in ``columns``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SourceError(
            str(path), f"lacks the column(s) {', '.join(missing)} (it has {', '.join(df.columns)})"
        )


def id_text(values: pd.Series | pd.Index) -> pd.Series:
    """Integer-like or text identifiers as text ("00042" stays "00042", 42 becomes "42")."""
    series = pd.Series(values)
    if pd.api.types.is_float_dtype(series):
        series = series.astype("Int64")
    # Missing stays missing (pandas 2 would write "nan" or "<NA>" as text).
    return series.astype("str").mask(series.isna())


def empty_ids(n: int) -> pd.Series:
    """A column of ``n`` missing identifiers (guests, aggregated sales)."""
    return id_text(pd.Series(np.full(n, np.nan, dtype=object)))


def slug(names: pd.Series) -> pd.Series:
    """Lower-case ASCII slugs: runs of anything but a-z and 0-9 become one '-'."""
    out = names.str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True).str.strip("-")
    return out.astype("str")


def frame(name: str, columns: Mapping[str, object]) -> pd.DataFrame:
    """A contract table ``name`` from ``columns``: contract columns first, in order, then extras.

    Only the contract columns given appear (optional ones the source lacks are
    left out); every required column must be given. Identifier columns are
    converted to text.
    """
    spec = table(name)
    missing = [c for c in spec.required_columns if c not in columns]
    if missing:
        raise ValueError(f"{name}: required column(s) {', '.join(missing)} not built")
    order = [c for c in spec.column_names if c in columns]
    order += [c for c in columns if not spec.has_column(c)]
    values = {c: _positional(columns[c]) for c in order}
    lengths = {len(v) for v in values.values()}
    if len(lengths) > 1:
        raise ValueError(f"{name}: columns of different lengths {sorted(lengths)}")
    df = pd.DataFrame(values)
    for col in order:
        if spec.has_column(col) and spec.column(col).kind is Kind.ID:
            df[col] = id_text(df[col])
    return df.reset_index(drop=True)


def _positional(values: object) -> pd.Series:
    """``values`` as a Series with a fresh 0..n-1 index, so columns line up by position."""
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return pd.Series(values)


def check_unique(df: pd.DataFrame, name: str) -> None:
    """ValueError if ``df`` repeats a key of contract table ``name`` (an adapter bug)."""
    key = list(table(name).key)
    if set(key) <= set(df.columns) and df.duplicated(key).any():
        raise ValueError(f"{name}: the adapter produced repeated keys on {key}")


def _format_datetimes(series: pd.Series) -> pd.Series:
    values = series
    tz = getattr(values.dt, "tz", None)
    if tz is not None:
        text = values.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    elif (values.dropna() == values.dropna().dt.normalize()).all():
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return text.where(values.notna())


def to_csv_text(df: pd.DataFrame) -> str:
    """``df`` as CSV text: ISO 8601 date-times, empty cells for missing values."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = _format_datetimes(out[col])
    return out.to_csv(index=False, lineterminator="\n")


_TABLE_FILE = re.compile(r"^(?P<table>[a-z_]+)\.(csv|parquet)$")


def write_tables(tables: Mapping[str, pd.DataFrame], out: Path) -> list[Path]:
    """Write each table to ``out/<table>.csv`` (UTF-8) and return the paths written.

    Files are written to a temporary name and renamed, so a reader never sees
    half a file. ConfigError if ``out`` already holds other contract tables
    (from another data set), which a later ingest of the folder would mix in.
    """
    out.mkdir(parents=True, exist_ok=True)
    known = set(table_names())
    foreign = sorted(
        p.name
        for p in out.iterdir()
        if (m := _TABLE_FILE.match(p.name))
        and m["table"] in known
        and (m["table"] not in tables or p.suffix != ".csv")
    )
    if foreign:
        raise ConfigError(
            f"{out} already holds {', '.join(foreign)}, which this conversion does not write; "
            "choose an empty folder or remove those files"
        )
    written = []
    for name, df in tables.items():
        path = out / f"{name}.csv"
        tmp = out / f".{name}.csv.tmp-{os.getpid()}"
        tmp.write_text(to_csv_text(df), encoding="utf-8", newline="")
        tmp.replace(path)
        written.append(path)
        logger.info("wrote %s (%d rows)", path, len(df))
    return written
