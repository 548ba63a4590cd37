"""Bad input: every failure names file, line, column, value and rule, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shopkeeper.errors import ContractError, SourceError
from shopkeeper.ingest import load_folder
from shopkeeper.store import Store
from tests.ingest.shop_files import write_shop


@pytest.fixture
def loaded(tmp_path: Path, store: Store) -> Store:
    """A store already holding the tiny shop, so "unchanged" means something."""
    load_folder(write_shop(tmp_path / "good"), store)
    return store


def _fails(store: Store, folder: Path, **kwargs: bool) -> ContractError:
    """Load ``folder``, expect a ContractError, and check the store did not change."""
    before = store.checksums()
    with pytest.raises(ContractError) as caught:
        load_folder(folder, store, **kwargs)
    assert store.checksums() == before
    return caught.value


def test_missing_folder(tmp_path: Path, loaded: Store) -> None:
    error = _fails(loaded, tmp_path / "nope")
    assert "folder not found" in str(error) and "nope" in str(error)


def test_folder_without_contract_files(tmp_path: Path, loaded: Store) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("hello", encoding="utf-8")
    error = _fails(loaded, tmp_path / "x")
    assert "holds no contract table files" in str(error)


def test_missing_file_of_a_referenced_table(tmp_path: Path, store: Store) -> None:
    # order_lines refer to orders, but orders.csv is missing and the store is empty.
    folder = write_shop(tmp_path / "shop")
    (folder / "orders.csv").unlink()
    error = _fails(store, folder)
    first = error.problems[0]
    assert first.source == "order_lines.csv" and first.column == "order_id"
    assert first.line == 2 and first.value == "O1"
    assert "does not exist in orders.order_id" in first.rule


def test_missing_required_column(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad", orders="order_id,customer_id\nO9,C1\n")
    error = _fails(loaded, folder)
    assert str(error.problems[0]).startswith("orders.csv: ordered_at is a required column")
    assert "the file has: order_id, customer_id" in str(error)


def test_wrong_type(tmp_path: Path, loaded: Store) -> None:
    body = "product_id,title,price\nP1,Oats,39.9\nP2,Milk,twelve\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", products=body))
    assert str(error) == "products.csv line 3: price 'twelve' must be a non-negative number"


@pytest.mark.parametrize("quantity", ["-3", "0", "1.5"])
def test_quantity_must_be_a_positive_integer(tmp_path: Path, loaded: Store, quantity: str) -> None:
    body = f"order_id,product_id,quantity\nO1,P1,2\nO1,P2,1\nO2,P2,3\nO3,P3,{quantity}\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", order_lines=body))
    assert str(error) == (
        f"order_lines.csv line 5: quantity '{quantity}' must be a positive integer"
    )


def test_duplicate_key(tmp_path: Path, loaded: Store) -> None:
    body = "order_id,product_id,quantity\nO1,P1,2\nO1,P2,1\nO1,P1,4\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", order_lines=body))
    problem = error.problems[0]
    assert (problem.source, problem.line, problem.value) == ("order_lines.csv", 4, "O1 / P1")
    assert "duplicates the key (order_id, product_id)" in problem.rule


def test_dangling_reference(tmp_path: Path, loaded: Store) -> None:
    body = "order_id,product_id,quantity\nO1,P1,2\nO2,P404,1\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", order_lines=body))
    assert str(error) == (
        "order_lines.csv line 3: product_id 'P404' does not exist in products.product_id "
        "(neither in this load nor in the store)"
    )


@pytest.mark.parametrize("value", ["11/11/2024", "2024-13-01", "yesterday", "1850-01-01"])
def test_unparseable_date(tmp_path: Path, loaded: Store, value: str) -> None:
    body = f"order_id,ordered_at\nO7,2024-11-11\nO8,{value}\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", orders=body))
    problem = error.problems[0]
    assert (problem.line, problem.column, problem.value) == (3, "ordered_at", value)
    assert "ISO 8601" in problem.rule


def test_row_rule_across_columns(tmp_path: Path, loaded: Store) -> None:
    body = "order_id,ordered_at,shipped_at\nO7,2024-11-11,2024-11-10\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", orders=body))
    assert "orders.csv line 2: shipped_at" in str(error)
    assert "must not be before ordered_at" in str(error)


def test_not_utf8(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "products.csv").write_bytes(
        b"product_id,title\nP1,Oats\nP2," + "Käse".encode("latin-1") + b"\n"
    )
    error = _fails(loaded, folder)
    assert isinstance(error, SourceError)
    assert str(error).startswith("products.csv line 3: is not UTF-8 text")
    assert "CSV UTF-8" in str(error)


def test_utf16_file_is_refused_with_a_way_out(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "products.csv").write_bytes("product_id,title\nP1,Oats\n".encode("utf-16"))
    error = _fails(loaded, folder)
    assert "is not UTF-8 text" in str(error) and "line 1" in str(error)


def test_empty_file(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "customers.csv").write_bytes(b"")
    error = _fails(loaded, folder)
    assert str(error) == "customers.csv: is empty (0 bytes); expected a file with a header row"


def test_header_only_file(tmp_path: Path, loaded: Store) -> None:
    error = _fails(loaded, write_shop(tmp_path / "bad", customers="customer_id,email\n"))
    assert str(error) == "customers.csv: has a header but no data rows"


def test_zero_byte_parquet(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "orders.csv").unlink()
    (folder / "orders.parquet").write_bytes(b"")
    error = _fails(loaded, folder)
    assert str(error).startswith("orders.parquet: is empty (0 bytes)")


def test_corrupt_parquet(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "orders.csv").unlink()
    (folder / "orders.parquet").write_bytes(b"PAR1 this is not parquet at all")
    error = _fails(loaded, folder)
    assert str(error).startswith("orders.parquet: is not a readable Parquet file")


def test_huge_field(tmp_path: Path, loaded: Store) -> None:
    huge = "x" * 3_000_000  # larger than the reader's first block size
    body = f'product_id,title,description\nP1,Oats,fine\nP2,Milk,"{huge}"\n'
    error = _fails(loaded, write_shop(tmp_path / "bad", products=body))
    problem = error.problems[0]
    assert (problem.line, problem.column) == (3, "description")
    assert "at most 20,000 characters" in problem.rule
    assert "(3,000,000 characters)" in str(error)


def test_ragged_row(tmp_path: Path, loaded: Store) -> None:
    body = "customer_id,city\nC1,Paris\nC2,Rome,extra\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", customers=body))
    assert str(error) == "customers.csv line 3: has 3 fields but the header has 2"


def test_duplicate_header(tmp_path: Path, loaded: Store) -> None:
    error = _fails(loaded, write_shop(tmp_path / "bad", customers="customer_id,city,city\n"))
    assert "header names column 'city' twice" in str(error)


def test_a_stray_carriage_return_in_the_header(tmp_path: Path, loaded: Store) -> None:
    # Found by feeding random bytes to ingest: Python's csv module raised its own error.
    folder = write_shop(tmp_path / "bad")
    (folder / "customers.csv").write_bytes(b"customer_id,c\rity\nC1,Paris\n")
    error = _fails(loaded, folder)
    assert str(error).startswith("customers.csv line 1: has a header row that is not valid CSV")


def test_two_files_for_one_table(tmp_path: Path, loaded: Store) -> None:
    folder = write_shop(tmp_path / "bad")
    (folder / "orders.parquet").write_bytes(b"x")
    error = _fails(loaded, folder)
    assert "two files for table orders" in str(error)


def test_line_numbers_count_quoted_newlines(tmp_path: Path, loaded: Store) -> None:
    body = 'product_id,title,description,price\nP1,Oats,"a\nb\nc",1\nP2,Milk,x,-1\n'
    error = _fails(loaded, write_shop(tmp_path / "bad", products=body))
    assert error.problems[0].line == 5  # the record starts on physical line 5


def test_report_lists_every_problem(tmp_path: Path, loaded: Store) -> None:
    body = "order_id,product_id,quantity\nO1,P1,-1\nO1,P2,0\nO2,P404,2\nO3,P3,zero\n"
    error = _fails(loaded, write_shop(tmp_path / "bad", order_lines=body), report=True)
    assert error.total == 4
    assert [p.line for p in error.problems] == [2, 3, 4, 5]


def test_a_failure_in_a_later_table_keeps_earlier_ones_out(tmp_path: Path, store: Store) -> None:
    # products.csv is fine, but order_lines.csv is not: products must not be written either.
    body = "order_id,product_id,quantity\nO1,P1,-1\n"
    _fails(store, write_shop(tmp_path / "bad", order_lines=body))
    assert store.count("products") == 0


WriteFailure = Callable[..., None]


def test_database_error_mid_write_rolls_everything_back(
    tmp_path: Path, loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shopkeeper.ingest._load as load_module

    real = load_module.write_frame
    calls = []

    def failing(conn, spec, frame):  # type: ignore[no-untyped-def]
        calls.append(spec.name)
        if spec.name == "order_lines":
            raise RuntimeError("disk full")
        return real(conn, spec, frame)

    monkeypatch.setattr(load_module, "write_frame", failing)
    folder = write_shop(tmp_path / "more", products="product_id,title\nP9,New\n")
    before = loaded.checksums()
    with pytest.raises(RuntimeError, match="disk full"):
        load_folder(folder, loaded)
    assert "products" in calls  # products were written, then rolled back
    assert loaded.checksums() == before


def test_failed_first_load_restores_the_dropped_indexes(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first load drops a table's indexes to insert fast; a failure must bring them back.
    from sqlalchemy import inspect

    import shopkeeper.ingest._load as load_module

    real = load_module.write_frame

    def failing(conn, spec, frame):  # type: ignore[no-untyped-def]
        written = real(conn, spec, frame)
        if spec.name == "orders":
            raise RuntimeError("power cut")
        return written

    monkeypatch.setattr(load_module, "write_frame", failing)
    before = {t: inspect(store.engine).get_indexes(t) for t in ("products", "orders")}
    with pytest.raises(RuntimeError, match="power cut"):
        load_folder(write_shop(tmp_path / "shop"), store)
    after = {t: inspect(store.engine).get_indexes(t) for t in ("products", "orders")}
    assert after == before and before["orders"]
    assert store.count("products") == 0
