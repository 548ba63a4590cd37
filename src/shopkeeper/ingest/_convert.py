"""Turning a column of a shop's file into its contract type, vectorised.

Each converter takes a column as read (text from CSV, typed from Parquet or
a data frame) and returns the typed column and a mask of the values that
could not be converted. A fast pyarrow cast is tried first; only when it
refuses does the slower pandas route run, to find exactly which values fail.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.contract import Column, Kind

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
_EARLIEST = pd.Timestamp("1900-01-01")
_LATEST = pd.Timestamp("2100-01-01")


def convert(series: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    """The column in its contract type, and a mask of unconvertible values.

    Nulls stay null and are never marked bad here; whether a null is allowed
    is the caller's question.
    """
    kind = column.kind
    if kind in (Kind.ID, Kind.TEXT, Kind.IMAGE):
        # An image's path is text here; the validator resolves and checks the file.
        return _to_text(series), np.zeros(len(series), dtype=bool)
    if kind is Kind.ENUM:
        text = _to_text(series).str.strip().str.lower()
        bad = (text.notna() & ~text.isin(column.choices)).to_numpy(dtype=bool)
        return text, bad
    if kind is Kind.INT:
        return _to_int(series)
    if kind is Kind.FLOAT:
        return _to_float(series)
    if kind is Kind.BOOL:
        return _to_bool(series)
    if kind is Kind.DATETIME:
        return _to_datetime(series, date_only=False)
    return _to_datetime(series, date_only=True)


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


def _to_text(series: pd.Series) -> pd.Series:
    if _is_text(series) and series.dtype != object:
        return series
    if pd.api.types.is_float_dtype(series.dtype):
        # Parquet ids stored as floats (1.0) mean "1", not "1.0".
        whole = series.dropna()
        if (whole == np.floor(whole)).all():
            series = series.astype("Int64")
    out = series.astype("string")
    return out.where(series.notna(), pd.NA)


def _arrow(series: pd.Series) -> pa.Array:
    return pa.array(series.astype(object).where(series.notna(), None), type=pa.string())


def _to_int(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64"), np.zeros(len(series), dtype=bool)
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.astype("Float64")
        bad = (values.notna() & (values != values.round())).fillna(False).to_numpy(dtype=bool)
        return values.where(~bad, pd.NA).round().astype("Int64"), bad
    if _is_text(series):
        try:
            typed = pc.cast(_arrow(series), pa.int64())
            return pd.Series(
                typed.to_pandas(types_mapper=pd.ArrowDtype), index=series.index
            ).astype("Int64"), np.zeros(len(series), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    numbers = pd.to_numeric(series.astype(object), errors="coerce")
    numbers = pd.Series(numbers, index=series.index, dtype="Float64")
    whole = numbers.notna() & (numbers == numbers.round())
    bad = (series.notna() & ~whole.fillna(False)).to_numpy(dtype=bool)
    return numbers.where(whole.fillna(False), pd.NA).astype("Int64"), bad


def _to_float(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype("float64")
    else:
        try:
            values = pd.Series(
                pc.cast(_arrow(series), pa.float64()).to_numpy(zero_copy_only=False),
                index=series.index,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = pd.to_numeric(series.astype(object), errors="coerce").astype("float64")
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = (series.notna().to_numpy(dtype=bool)) & ~np.isfinite(array)
    array = np.where(bad, np.nan, array)
    return pd.Series(array, index=series.index, dtype="float64"), bad


def _to_bool(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), np.zeros(len(series), dtype=bool)
    text = _to_text(series).str.strip().str.lower()
    is_true = text.isin(_TRUE)
    is_false = text.isin(_FALSE)
    bad = (text.notna() & ~is_true & ~is_false).to_numpy(dtype=bool)
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[is_true.fillna(False).to_numpy(dtype=bool)] = True
    out[is_false.fillna(False).to_numpy(dtype=bool)] = False
    return out, bad


def _to_datetime(series: pd.Series, *, date_only: bool) -> tuple[pd.Series, np.ndarray]:
    present = series.notna().to_numpy(dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        values = series
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        values = values.astype("datetime64[us]")
    else:
        values = _parse_iso(series)
    parsed = values.notna().to_numpy(dtype=bool)
    bad = present & ~parsed
    in_range = ((values >= _EARLIEST) & (values < _LATEST)).fillna(False).to_numpy(dtype=bool)
    bad |= parsed & ~in_range
    if date_only:
        bad |= parsed & (values != values.dt.normalize()).fillna(False).to_numpy(dtype=bool)
    values = values.where(~bad, pd.NaT)
    return values, bad


def _parse_iso(series: pd.Series) -> pd.Series:
    """ISO 8601 text to naive UTC timestamps (offsets applied; no offset = UTC)."""
    text = _to_text(series)
    array = _arrow(text)
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            typed = pc.cast(array, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        out = pd.Series(typed.to_pandas(), index=series.index)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return out.astype("datetime64[us]")
    # Mixed forms (some with offsets, some without) or bad values: pandas
    # parses what is ISO 8601 and leaves the rest as NaT for the caller to report.
    parsed = pd.to_datetime(text.astype(object), format="ISO8601", utc=True, errors="coerce")
    return pd.Series(parsed, index=series.index).dt.tz_localize(None).astype("datetime64[us]")
