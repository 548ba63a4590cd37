"""Validating one table's rows against the contract, without a loop per row.

Checks, in order: required columns present; every value converts to its
column's type; image files exist and are readable images (``_images.py``);
required values present; numeric bounds, text lengths and choices; rules
across columns of a row; unique keys. References between tables are checked
by the loader, which sees every table of a load and the store. Problems are
collected (a bounded number per rule, with exact totals) so that ``--report``
can list them all and a plain load can name the first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkeeper.contract import Column, Kind, Table
from shopkeeper.errors import Problem
from shopkeeper.ingest._convert import convert
from shopkeeper.ingest._images import check_images
from shopkeeper.ingest._read import RawTable
from shopkeeper.store import EXTRA_COLUMN

log = logging.getLogger(__name__)

EXAMPLES_PER_RULE = 50


class Problems:
    """Problems found so far: every one counted, a bounded number kept per rule."""

    def __init__(self, per_rule: int = EXAMPLES_PER_RULE) -> None:
        self.per_rule = per_rule
        self.kept: list[Problem] = []
        self.counts: dict[tuple[str, str | None, str], int] = defaultdict(int)

    def add_mask(
        self,
        raw: RawTable,
        mask: np.ndarray,
        rule: str,
        column: str | None = None,
        values: pd.Series | None = None,
    ) -> None:
        """Record a problem for every row where ``mask`` is true."""
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        group = (raw.source, column, rule)
        room = max(self.per_rule - self.counts[group], 0)
        self.counts[group] += int(positions.size)
        shown = positions[:room]
        if shown.size == 0:
            return
        lines = raw.line_of(shown)
        for position, line in zip(shown.tolist(), lines.tolist(), strict=True):
            value = None
            if values is not None:
                cell = values.iloc[position]
                value = "" if cell is None or cell is pd.NA else str(cell)
            self.kept.append(Problem(raw.source, rule, int(line), column, value, raw.line_kind))

    def add(self, problem: Problem) -> None:
        self.counts[(problem.source, problem.column, problem.rule)] += 1
        self.kept.append(problem)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)

    def sorted(self) -> list[Problem]:
        return sorted(self.kept, key=lambda p: (p.source, p.line or 0))


@dataclass
class ValidTable:
    """A table's rows in contract types, ready to write.

    ``frame`` has the contract columns the source had (plus a derived key
    and ``extra`` where they apply). ``raw`` keeps the source to locate rows
    when the loader finds a reference problem.
    """

    spec: Table
    raw: RawTable
    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)
    duplicates_dropped: int = 0


def validate(spec: Table, raw: RawTable, problems: Problems) -> ValidTable | None:
    """Check ``raw`` against ``spec``; add what is wrong to ``problems``.

    Returns the typed table, or None when the file is unusable as a whole
    (a required column is missing).
    """
    frame = raw.frame
    mapping = _match_columns(spec, list(frame.columns))
    missing = [c for c in spec.required_columns if c not in mapping]
    if missing:
        have = ", ".join(map(str, frame.columns))
        for name in missing:
            problems.add(
                Problem(
                    raw.source,
                    f"is a required column but is missing (the file has: {have})",
                    column=name,
                )
            )
        return None

    typed: dict[str, pd.Series] = {}
    for name, source_name in mapping.items():
        column = spec.column(name)
        original = frame[source_name]
        values, bad = convert(original, column)
        if column.kind is Kind.IMAGE:
            # Before the length check: what is stored, and bounded, is the resolved path.
            values, broken = check_images(values, raw.path)
            for rule_text, mask in broken.items():
                problems.add_mask(raw, mask, rule_text, name, original)
        # One mask per rule, so the earliest offending line is the one reported.
        bad = bad | _out_of_bounds(column, values)
        problems.add_mask(raw, bad, column.rule_text(), name, original)
        typed[name] = values
        if column.required and name != spec.derived_key:
            empty = (original.isna()).to_numpy(dtype=bool)
            problems.add_mask(raw, empty, "must not be empty", name)

    out = pd.DataFrame(typed, index=frame.index)
    for rule in spec.row_rules:
        if all(c in out.columns for c in rule.columns):
            broken = rule.broken(out).to_numpy(dtype=bool)
            problems.add_mask(raw, broken, rule.text, rule.columns[0], out[rule.columns[0]])

    extra = [c for c in frame.columns if c not in mapping.values()]
    if extra:
        out[EXTRA_COLUMN] = _extra_json(frame[extra])

    valid = ValidTable(spec=spec, raw=raw, frame=out, extra_columns=[str(c) for c in extra])
    _check_keys(valid, problems)
    return valid


def _match_columns(spec: Table, columns: list[object]) -> dict[str, str]:
    """Contract column name -> the file's column name (matched case-insensitively)."""
    mapping: dict[str, str] = {}
    for name in columns:
        canonical = str(name).strip().lower()
        if spec.has_column(canonical) and canonical not in mapping:
            mapping[canonical] = str(name)
    return mapping


def _out_of_bounds(column: Column, values: pd.Series) -> np.ndarray:
    """Mask of values outside the column's numeric bounds or text length."""
    if column.kind in (Kind.INT, Kind.FLOAT):
        numbers = values.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        bad = np.zeros(len(numbers), dtype=bool)
        with np.errstate(invalid="ignore"):
            if column.minimum is not None:
                if column.exclusive_minimum:
                    bad |= numbers <= column.minimum
                else:
                    bad |= numbers < column.minimum
            if column.maximum is not None:
                bad |= numbers > column.maximum
        return bad
    if column.max_length is not None and column.kind in (Kind.ID, Kind.TEXT, Kind.IMAGE):
        return values.str.len().to_numpy(dtype="float64", na_value=0) > column.max_length
    return np.zeros(len(values), dtype=bool)


def _extra_json(extra: pd.DataFrame) -> pd.Series:
    """One JSON object per row holding the columns the contract does not know."""
    text = extra.astype(object).where(extra.notna(), None)
    lines = text.to_json(orient="records", lines=True, force_ascii=False).split("\n")
    return pd.Series(lines[: len(extra)], index=extra.index, dtype="string")


def _check_keys(valid: ValidTable, problems: Problems) -> None:
    spec, frame, raw = valid.spec, valid.frame, valid.raw
    if spec.derived_key is not None and spec.derived_key not in frame.columns:
        frame.insert(0, spec.derived_key, _derived_key(frame, spec.derived_from))
        # Rows identical in every column are the same fact sent twice: keep one.
        identical = frame.duplicated(keep="first").to_numpy(dtype=bool)
        if identical.any():
            valid.duplicates_dropped = int(identical.sum())
            log.info(
                "%s: dropped %d rows identical to an earlier row",
                raw.source,
                valid.duplicates_dropped,
            )
            keep = ~identical
            valid.frame = frame = frame[keep]
            valid.raw = raw = raw.subset(keep)
    key = [c for c in spec.key if c in frame.columns]
    if len(key) != len(spec.key):
        return
    dup = frame.duplicated(subset=key, keep="first").to_numpy(dtype=bool)
    if dup.any():
        label = ", ".join(key)
        values = frame[key].astype("string").fillna("").agg(" / ".join, axis=1)
        rule = f"duplicates the key ({label}) of an earlier row; each key may appear once"
        problems.add_mask(valid.raw, dup, rule, label, values)


# Stands for a missing column or value in a derived key. Not NUL: pandas 2 hashes a
# string only up to its first NUL byte, so NUL placeholders made keys collide.
_MISSING = "\x1e"


def _derived_key(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """A stable 16-hex-digit key per row, hashed from the identifying columns.

    The same row gets the same key under pandas 2 and 3 (SipHash of the UTF-8
    text, as ``pd.util.hash_pandas_object`` computes it in both).
    """
    parts = []
    for name in columns:
        if name not in frame.columns:
            parts.append(pd.Series(_MISSING, index=frame.index, dtype="string"))
            continue
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            col = col.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        parts.append(col.astype("string").fillna(_MISSING))
    joined = parts[0].str.cat(parts[1:], sep="\x1f") if len(parts) > 1 else parts[0]
    hashes = pd.util.hash_pandas_object(joined.astype(object), index=False).to_numpy()
    hexed = np.frombuffer(hashes.astype(">u8").tobytes().hex().encode(), dtype="S16")
    return pd.Series(hexed.astype("U16"), index=frame.index, dtype="string")
