"""Every exception shopkeeper raises on purpose, in one place.

::

    ShopkeeperError
    ├── ConfigError          a setting has a value shopkeeper cannot use
    ├── StoreError           the store cannot be opened, created or read
    ├── ArtifactError        a job's artifact is missing or fails its checksum
    └── ContractError        input breaks the data contract (one or more problems)
        └── SourceError      a file cannot be read at all (missing, empty, not UTF-8)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ShopkeeperError(Exception):
    """Base class: catch this to handle any error shopkeeper raises deliberately."""


class ConfigError(ShopkeeperError):
    """A setting (option, environment variable) has a value that cannot be used."""


class NotFoundError(ShopkeeperError):
    """Something asked for by id does not exist (a product, a customer, a model)."""


class ConflictError(ShopkeeperError):
    """A request contradicts what is stored (an outcome posted twice, a name taken)."""


class StoreError(ShopkeeperError):
    """The store cannot be opened, created or read."""


class ArtifactError(ShopkeeperError):
    """A job's artifact is missing, truncated or changed: it fails its recorded SHA-256.

    ``path`` is the file (or folder) at fault; ``expected`` and ``actual`` are
    the hex digests recorded at save time and found now (``actual`` is None
    for a missing file, both are None when the record itself is unreadable).
    """

    def __init__(
        self,
        message: str,
        path: str,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class Problem:
    """One broken rule, located as precisely as the source allows.

    ``line`` is the physical line in a CSV file (the header is line 1) or the
    1-based row number in a Parquet file or a data frame; ``None`` when the
    problem concerns the whole file or table.
    """

    source: str
    rule: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    line_kind: str = "line"

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f" {self.line_kind} {self.line:,}"
        if self.column is None:
            return f"{where}: {self.rule}"
        if self.value is None:
            return f"{where}: {self.column} {self.rule}"
        return f"{where}: {self.column} {_quote(self.value)} {self.rule}"

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "line_kind": self.line_kind,
            "column": self.column,
            "value": self.value,
            "rule": self.rule,
            "message": str(self),
        }


def _quote(value: str, limit: int = 60) -> str:
    shown = value if len(value) <= limit else f"{value[: limit - 1]}… ({len(value):,} characters)"
    return "'" + shown.replace("\n", "\\n") + "'"


class ContractError(ShopkeeperError):
    """Input breaks the data contract; nothing was written to the store.

    ``problems`` holds every problem found (capped per rule, see
    ``total``), ordered by source and line; the message names the first.
    """

    def __init__(self, problems: Sequence[Problem], total: int | None = None) -> None:
        if not problems:
            raise ValueError("ContractError needs at least one problem")
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        first = str(self.problems[0])
        more = self.total - 1
        suffix = f" (and {more:,} more problem{'s' if more != 1 else ''})" if more else ""
        super().__init__(first + suffix)


class SourceError(ContractError):
    """A source file cannot be read at all: missing, empty, undecodable or malformed."""

    def __init__(self, source: str, rule: str, line: int | None = None) -> None:
        super().__init__([Problem(source=source, rule=rule, line=line)])
