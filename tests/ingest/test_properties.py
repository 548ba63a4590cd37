"""Property: any corrupted cell stops the load with a located error, and nothing changes."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopkeeper.contract._tables import ORDER_STATUSES
from shopkeeper.errors import ContractError, ShopkeeperError
from shopkeeper.ingest import load_folder
from shopkeeper.store import Store
from tests.ingest.shop_files import TABLES, write_shop

letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyz!?# ", min_size=1, max_size=8).filter(
    lambda s: s.strip() != "" and s.strip().lower() not in {"t", "f", "y", "n", "yes", "no"}
)
# For each (table, column): values that the contract must refuse.
BAD_VALUES: dict[tuple[str, str], st.SearchStrategy[str]] = {
    ("order_lines", "quantity"): st.one_of(
        st.integers(max_value=0).map(str),
        st.floats(min_value=0.01, max_value=99.99).filter(lambda x: x != int(x)).map(str),
        letters,
    ),
    ("order_lines", "unit_price"): st.one_of(
        st.floats(max_value=-0.01, allow_nan=False, allow_infinity=False).map(str),
        st.sampled_from(["nan", "inf", "-inf"]),
        letters,
    ),
    ("order_lines", "product_id"): st.text(alphabet="XYZ", min_size=3, max_size=6),
    ("orders", "ordered_at"): st.one_of(
        letters,
        st.sampled_from(["2024-02-30", "11/11/2024", "2024-11-11T25:00", "0000-01-01", ""]),
    ),
    ("orders", "status"): letters.filter(lambda s: s.strip().lower() not in ORDER_STATUSES),
    ("orders", "customer_id"): st.text(alphabet="QRS", min_size=2, max_size=5),
    ("products", "price"): st.one_of(st.integers(max_value=-1).map(str), letters),
    ("products", "title"): st.just(""),
    ("customers", "consent_marketing"): letters,
}


def _corrupt(body: str, column: str, row: int, value: str) -> str:
    rows = list(csv.reader(io.StringIO(body)))
    header, data = rows[0], rows[1:]
    index = header.index(column) if column in header else None
    if index is None:
        header.append(column)
        for r in data:
            r.append("")
        index = len(header) - 1
    data[row % len(data)][index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *data])
    return out.getvalue()


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_corrupted_cell_is_reported_and_store_unchanged(
    tmp_path_factory: pytest.TempPathFactory, store: Store, data: st.DataObject
) -> None:
    if store.count("products") == 0:
        load_folder(write_shop(tmp_path_factory.mktemp("good")), store)
    before = store.checksums()

    (table, column) = data.draw(st.sampled_from(sorted(BAD_VALUES)), label="cell")
    value = data.draw(BAD_VALUES[(table, column)], label="value")
    row = data.draw(st.integers(min_value=0, max_value=10), label="row")
    body = _corrupt(TABLES[table], column, row, value)
    folder = write_shop(tmp_path_factory.mktemp("bad"), **{table: body})

    with pytest.raises(ContractError) as caught:
        load_folder(folder, store)

    problem = caught.value.problems[0]
    assert problem.source == f"{table}.csv"
    assert problem.column == column
    assert problem.line == 2 + row % (len(body.splitlines()) - 1)
    assert problem.rule
    assert store.checksums() == before


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    table=st.sampled_from(sorted(TABLES)),
    keep_header=st.booleans(),
    blob=st.binary(max_size=300),
)
def test_arbitrary_bytes_in_a_file_load_or_are_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    store: Store,
    table: str,
    keep_header: bool,
    blob: bytes,
) -> None:
    # Whatever bytes a file holds (the right header followed by garbage, or garbage alone):
    # the load succeeds, or it raises the contract's own error and leaves the store as it was.
    if store.count("products") == 0:
        load_folder(write_shop(tmp_path_factory.mktemp("good")), store)
    before = store.checksums()
    folder = write_shop(tmp_path_factory.mktemp("bytes"))
    header = TABLES[table].splitlines()[0].encode() + b"\n" if keep_header else b""
    (folder / f"{table}.csv").write_bytes(header + blob)
    try:
        load_folder(folder, store, replace=True)
    except ShopkeeperError as error:
        assert str(error)
        assert store.checksums() == before
