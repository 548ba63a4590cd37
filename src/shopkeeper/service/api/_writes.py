"""Writes through the API go through ingest's own validation and load, all or nothing.

JSON values are turned into the text a CSV file would hold (``true``, ``3``,
``2024-11-11T20:15:00+08:00``) so that a posted row is checked by exactly the
same rules, with the same messages, as a row in a shop's files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from shopkeeper import figures
from shopkeeper.errors import ContractError
from shopkeeper.ingest import LoadResult, load_frames
from shopkeeper.service.errors import ApiError, contract_details
from shopkeeper.store import Store


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ApiError(
                422,
                f"{field}: must be a finite number",
                details=[{"field": field, "reason": "must be a finite number", "value": None}],
            )
        return repr(value)
    if isinstance(value, str):
        return value
    raise ApiError(
        422,
        f"{field}: must be a single value (text, number, true/false or null)",
        details=[{"field": field, "reason": "must be a single value", "value": json.dumps(value)}],
    )


def frame_of(rows: Sequence[Mapping[str, Any]], name: str) -> pd.DataFrame:
    """Posted rows as a frame of text columns (CSV-like), columns in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    data = {
        c: [_text(row.get(c), f"{name}[{i}].{c}") for i, row in enumerate(rows)] for c in columns
    }
    return pd.DataFrame(data, dtype=object)


def load_rows(
    store: Store,
    tables: Mapping[str, pd.DataFrame],
    source: str,
    fields: Mapping[str, str] | None = None,
) -> LoadResult:
    """Validate and load ``tables`` in one transaction; problems become a 422 with fields.

    ``fields`` maps a table name to the request field its rows came from
    (``order_lines`` -> ``lines``), so details point into the request body.
    """
    try:
        result = load_frames(tables, store, source=source, report=True, record=False)
        figures.invalidate(store)  # the dashboard shows what was just written
        return result
    except ContractError as exc:
        details = []
        for table in tables:
            mine = [p for p in exc.problems if p.source.split(" ", 1)[0] == table]
            if mine:
                sub = ContractError(mine)
                details.extend(contract_details(sub, (fields or {}).get(table, table)))
        raise ApiError(422, _message(exc, fields), details=details) from exc


def _message(exc: ContractError, fields: Mapping[str, str] | None) -> str:
    text = str(exc)
    for table, field in (fields or {}).items():
        text = text.replace(f"{table} (frame) row ", f"{field} item ")
    return text.replace(" (frame) row ", " item ")
