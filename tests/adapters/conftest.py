"""Shared checks for the adapter tests: does a set of tables keep the data contract?

The check here is deliberately independent of ``shopkeeper.ingest``: it reads
only the contract declarations, so the adapters can be tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import pytest

from shopkeeper.contract import Kind, Table, table


def contract_problems(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """Every way ``tables`` break the contract, as readable lines (empty: none)."""
    problems: list[str] = []
    for name, df in tables.items():
        spec = table(name)
        for col in spec.required_columns:
            if col not in df.columns:
                problems.append(f"{name}: required column {col} missing")
            elif df[col].isna().any():
                problems.append(f"{name}: required column {col} has empty values")
        for col in spec.column_names:
            if col not in df.columns:
                continue
            problems += _column_problems(name, spec, col, df[col])
        key = [c for c in spec.key if c in df.columns]
        if key and df.duplicated(key).any():
            problems.append(f"{name}: {df.duplicated(key).sum()} repeated keys on {key}")
        for ref in spec.references:
            if ref.column not in df.columns:
                continue
            values = df[ref.column].dropna()
            if values.empty:
                continue
            if ref.table not in tables:
                problems.append(f"{name}.{ref.column} refers to absent table {ref.table}")
                continue
            known = set(tables[ref.table][ref.target])
            missing = set(values) - known
            if missing:
                problems.append(
                    f"{name}.{ref.column}: {len(missing)} values not in {ref.table}, "
                    f"e.g. {sorted(missing)[:3]}"
                )
        for rule in spec.row_rules:
            if all(c in df.columns for c in rule.columns):
                broken = int(rule.broken(df).sum())
                if broken:
                    problems.append(f"{name}: {broken} rows break {rule.columns} {rule.text}")
    return problems


def _column_problems(name: str, spec: Table, col: str, values: pd.Series) -> list[str]:
    column = spec.column(col)
    kind = column.kind
    where = f"{name}.{col}"
    present = values.dropna()
    out: list[str] = []
    if kind in (Kind.ID, Kind.TEXT, Kind.ENUM):
        if not (pd.api.types.is_string_dtype(values) or values.isna().all()):
            out.append(f"{where}: not text ({values.dtype})")
        elif not all(isinstance(v, str) for v in present.head(1000)):
            out.append(f"{where}: holds non-text values")
        if column.max_length is not None and (present.str.len() > column.max_length).any():
            out.append(f"{where}: longer than {column.max_length}")
        if kind is Kind.ID and (present == "").any():
            out.append(f"{where}: empty-string ids (use missing values)")
        if kind is Kind.ENUM and not present.isin(column.choices).all():
            out.append(f"{where}: values outside {column.choices}")
    elif kind in (Kind.INT, Kind.FLOAT):
        if kind is Kind.INT and not pd.api.types.is_integer_dtype(values):
            out.append(f"{where}: not integer ({values.dtype})")
        if not pd.api.types.is_numeric_dtype(values):
            out.append(f"{where}: not numeric ({values.dtype})")
            return out
        if column.minimum is not None:
            low = (
                present <= column.minimum if column.exclusive_minimum else present < column.minimum
            )
            if low.any():
                out.append(f"{where}: {int(low.sum())} values below the minimum")
        if column.maximum is not None and (present > column.maximum).any():
            out.append(f"{where}: values above the maximum")
    elif kind in (Kind.DATETIME, Kind.DATE) and not pd.api.types.is_datetime64_any_dtype(values):
        out.append(f"{where}: not a date-time ({values.dtype})")
    return out


@pytest.fixture(scope="session")
def check_contract() -> Callable[[Mapping[str, pd.DataFrame]], None]:
    """A function that fails the test with every contract problem of a set of tables."""

    def check(tables: Mapping[str, pd.DataFrame]) -> None:
        problems = contract_problems(tables)
        assert not problems, "\n".join(problems)

    return check
