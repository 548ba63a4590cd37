"""Reading a shop's files: CSV (UTF-8, with or without BOM) and Parquet.

Files are read with pyarrow, whose CSV reader parses on both cores. Every CSV
column is read as text so that validation, not the reader, decides what a
value means and can say which line broke which rule. When pyarrow refuses a
file (bad bytes, a ragged row), a plain Python scan finds the exact line so
the message can name it.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shopkeeper.errors import Problem, SourceError

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
_BLOCK_SIZE = 8 << 20  # pyarrow splits files into blocks; a row must fit in one
_MAX_FIELD = 64 << 20  # the contract caps text far below this; this only guards the reader


@dataclass
class RawTable:
    """One file's contents before validation, with what is needed to locate rows.

    ``frame`` holds text columns for CSV and typed columns for Parquet.
    ``line_kind`` is "line" for CSV (physical line numbers, header = 1) and
    "row" for Parquet and in-memory frames (1-based).
    """

    source: str
    frame: pd.DataFrame
    line_kind: str = "line"
    path: Path | None = None
    origin: np.ndarray | None = field(default=None, repr=False)
    _lines: list[np.ndarray] = field(default_factory=list, repr=False)

    def line_of(self, positions: np.ndarray) -> np.ndarray:
        """Physical line numbers (or 1-based rows) of 0-based row positions."""
        if self.origin is not None:
            positions = self.origin[positions]
        if self.line_kind != "line" or self.path is None:
            return positions + 1
        if not self._lines:
            total = len(self.frame) if self.origin is None else int(self.origin.max()) + 1
            self._lines.append(_record_start_lines(self.path, total))
        return self._lines[0][positions]

    def subset(self, keep: np.ndarray) -> RawTable:
        """The rows where ``keep`` is true, still located by their original lines."""
        kept = np.flatnonzero(keep)
        origin = kept if self.origin is None else self.origin[kept]
        # The line cache list is shared, so a scan done for one view serves both.
        return RawTable(
            self.source, self.frame[keep], self.line_kind, self.path, origin, self._lines
        )

    def problem(
        self,
        position: int | None,
        rule: str,
        column: str | None = None,
        value: str | None = None,
    ) -> Problem:
        line = None if position is None else int(self.line_of(np.array([position]))[0])
        return Problem(self.source, rule, line, column, value, self.line_kind)


def read_file(path: Path) -> RawTable:
    """Read one CSV or Parquet file; SourceError when it cannot be read at all."""
    name = path.name
    if not path.exists():
        raise SourceError(name, f"file not found: {path}")
    if not path.is_file():
        raise SourceError(name, f"{path} is not a file")
    if path.stat().st_size == 0:
        kind = "Parquet file" if name.endswith(PARQUET_SUFFIXES) else "file"
        raise SourceError(name, f"is empty (0 bytes); expected a {kind} with a header row")
    if name.endswith(PARQUET_SUFFIXES):
        return _read_parquet(path)
    return _read_csv(path)


def _read_parquet(path: Path) -> RawTable:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(path.name, f"is not a readable Parquet file ({exc})") from exc
    frame = table.to_pandas(types_mapper=_nullable_types)
    return RawTable(path.name, frame, line_kind="row", path=path)


def _nullable_types(arrow_type: pa.DataType) -> object:
    # Integers with nulls must not turn into floats on the way in.
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    return None


def _read_header(path: Path) -> list[str]:
    opener = _open_binary(path)
    with opener as fh:
        first = fh.readline(_MAX_FIELD)
    if first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(path.name, _not_utf8(exc), line=1) from exc
    if not text.strip():
        raise SourceError(path.name, "has no header row (the first line is empty)", line=1)
    try:
        header = next(csv.reader([text]))
    except csv.Error as exc:  # a stray carriage return in the header line
        message = f"has a header row that is not valid CSV ({exc})"
        raise SourceError(path.name, message, line=1) from exc
    seen: set[str] = set()
    for i, column in enumerate(header, start=1):
        if not column.strip():
            raise SourceError(path.name, f"header column {i} has no name", line=1)
        if column in seen:
            raise SourceError(path.name, f"header names column {column!r} twice", line=1)
        seen.add(column)
    return header


def _open_binary(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def _read_csv(path: Path) -> RawTable:
    header = _read_header(path)
    convert = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        null_values=[""],
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    block = _BLOCK_SIZE
    while True:
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=block),
                parse_options=parse,
                convert_options=convert,
            )
            break
        except pa.ArrowInvalid as exc:
            # A record larger than one block: retry with bigger blocks, within reason.
            if "straddling" in str(exc) and block < _MAX_FIELD:
                block *= 4
                continue
            raise _diagnose_csv(path, header, exc) from exc
    if table.num_rows == 0:
        raise SourceError(path.name, "has a header but no data rows")
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype() if t == pa.string() else None)
    return RawTable(path.name, frame, line_kind="line", path=path)


def _not_utf8(exc: UnicodeDecodeError) -> str:
    bad = exc.object[exc.start : exc.start + 4]
    return (
        f"is not UTF-8 text (byte {bad!r} at column {exc.start + 1}); "
        "save it as UTF-8 (Excel: 'CSV UTF-8'), or convert it with iconv"
    )


def _diagnose_csv(path: Path, header: list[str], exc: Exception) -> SourceError:
    """Find the line pyarrow refused, with Python's own (slower) reader."""
    with _open_binary(path) as fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                return SourceError(path.name, _not_utf8(err), line=number)
    csv.field_size_limit(_MAX_FIELD)
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            for record in reader:
                if reader.line_num == 1 or not record:
                    continue
                if len(record) != len(header):
                    return SourceError(
                        path.name,
                        f"has {len(record)} fields but the header has {len(header)}",
                        line=reader.line_num,
                    )
        except csv.Error as err:
            return SourceError(path.name, f"is not valid CSV ({err})", line=reader.line_num)
    return SourceError(path.name, f"cannot be read as CSV ({exc})")


def _open_text(path: Path) -> io.TextIOBase:
    return io.TextIOWrapper(_open_binary(path), encoding="utf-8-sig", newline="")


def _record_start_lines(path: Path, n_records: int) -> np.ndarray:
    """Physical line on which each data record starts (records may span lines).

    Only called when a problem must be located, so the slow scan stays off the
    path of a clean load.
    """
    starts = np.zeros(n_records, dtype=np.int64)
    csv.field_size_limit(_MAX_FIELD)
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        next(reader, None)  # the header
        previous_end = reader.line_num
        i = 0
        for record in reader:
            # pyarrow skips blank lines, so they are not records here either.
            if record:
                if i >= n_records:
                    break
                starts[i] = previous_end + 1
                i += 1
            previous_end = reader.line_num
    return starts
