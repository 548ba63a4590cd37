"""The building blocks of the data contract: columns, references and tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class Kind(StrEnum):
    """The value type of a contract column, as a shop's export would carry it."""

    ID = "id"  # an identifier, kept as text ("00042" stays "00042")
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"  # true/false, 1/0, yes/no (any case)
    DATETIME = "datetime"  # ISO 8601; offsets are converted to UTC
    DATE = "date"  # ISO 8601 calendar date, YYYY-MM-DD
    ENUM = "enum"  # one of a fixed set of words
    IMAGE = "image"  # a local image file: a path (relative to the table's file) or file:// URL


@dataclass(frozen=True)
class Column:
    """One column of a contract table and the rules its values obey.

    ``minimum``/``maximum`` bound numbers (``exclusive_minimum`` makes the
    lower bound strict); ``max_length`` bounds text in characters;
    ``choices`` lists the words an ENUM column accepts. ``pii`` marks
    personal data, which later capabilities must never put in a model or log.
    """

    name: str
    kind: Kind
    required: bool = True
    doc: str = ""
    example: str = ""
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    pii: bool = False

    def rule_text(self) -> str:
        """The rule a value of this column must follow, in words, for messages."""
        kind = self.kind
        if kind is Kind.ENUM:
            return "must be one of " + ", ".join(self.choices)
        if kind in (Kind.INT, Kind.FLOAT):
            noun = "an integer" if kind is Kind.INT else "a number"
            if self.minimum == 0 and self.exclusive_minimum:
                noun = "a positive integer" if kind is Kind.INT else "a positive number"
            elif self.minimum == 0:
                noun = "a non-negative " + ("integer" if kind is Kind.INT else "number")
            elif self.minimum is not None:
                op = ">" if self.exclusive_minimum else ">="
                noun += f" {op} {_num(self.minimum)}"
            if self.maximum is not None:
                noun += f" and <= {_num(self.maximum)}"
            return "must be " + noun
        if kind is Kind.DATETIME:
            return "must be an ISO 8601 date or time (2024-11-11 or 2024-11-11T20:15:00+08:00)"
        if kind is Kind.DATE:
            return "must be an ISO 8601 date (YYYY-MM-DD)"
        if kind is Kind.BOOL:
            return "must be true/false, 1/0 or yes/no"
        if kind is Kind.IMAGE:
            limit = f" of at most {self.max_length:,} characters" if self.max_length else ""
            return f"must name a local image file (a path or a file:// URL){limit}"
        if self.max_length is not None:
            return f"must be text of at most {self.max_length:,} characters"
        return "must be text"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Reference:
    """``columns`` of this table name an existing row of ``table`` by its key.

    Empty (null) values reference nothing and are allowed where the column is
    optional.
    """

    column: str
    table: str
    target: str


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row, checked vectorised.

    ``broken`` returns a boolean mask of the rows that break the rule; it sees
    typed columns and nulls, and must treat a null as "nothing to check".
    """

    columns: tuple[str, ...]
    text: str
    broken: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Table:
    """A table of the contract: its columns, key, references and row rules.

    ``key`` names the columns that identify a row; loading a row whose key is
    already in the store replaces it (upsert). Where ``derived_key`` is set,
    that key column may be left out of the files and is then computed as a
    stable hash of ``derived_from``, so that re-loading the same rows is
    idempotent.
    """

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    row_rules: tuple[RowRule, ...] = ()
    derived_key: str | None = None
    derived_from: tuple[str, ...] = ()
    optional_table: bool = True
    _by_name: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})
        for name in (*self.key, *self.derived_from):
            if name not in self._by_name:
                raise ValueError(f"table {self.name}: key column {name!r} is not declared")

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def has_column(self, name: str) -> bool:
        return name in self._by_name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns every file of this table must have (a derived key may be absent)."""
        return tuple(c.name for c in self.columns if c.required and c.name != self.derived_key)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)
