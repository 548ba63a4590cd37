"""The demo shop obeys the data contract, in memory and as written CSV files."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper.contract import TABLES, Kind, Table
from shopkeeper.demo import TRUTH_FILE, DemoConfig, DemoShop, generate, write_shop
from shopkeeper.errors import ConfigError
from shopkeeper.ingest import load_frames
from shopkeeper.store import Store

ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _problems(table: Table, df: pd.DataFrame) -> list[str]:
    """Every contract rule the frame breaks, as readable lines (empty when clean)."""
    out: list[str] = []
    for col in table.columns:
        s = df[col.name]
        present = s.notna()
        if col.required and not present.all():
            out.append(f"{table.name}.{col.name}: {int((~present).sum())} empty required values")
        v = s[present]
        if col.kind is Kind.ENUM:
            bad = ~v.isin(col.choices)
            if bad.any():
                out.append(f"{table.name}.{col.name}: {v[bad].unique()[:5]} not in choices")
        if col.kind in (Kind.INT, Kind.FLOAT):
            x = v.astype(float)
            if col.kind is Kind.INT and not np.all(np.mod(x, 1) == 0):
                out.append(f"{table.name}.{col.name}: non-integer values")
            if col.minimum is not None:
                low = x <= col.minimum if col.exclusive_minimum else x < col.minimum
                if low.any():
                    out.append(f"{table.name}.{col.name}: {x[low].min()} below minimum")
            if col.maximum is not None and (x > col.maximum).any():
                out.append(f"{table.name}.{col.name}: {x.max()} above maximum")
        if col.kind in (Kind.ID, Kind.TEXT) and len(v):
            if not all(isinstance(x, str) for x in v.iloc[:1000]):
                out.append(f"{table.name}.{col.name}: not text")
            if col.max_length is not None and v.str.len().max() > col.max_length:
                out.append(f"{table.name}.{col.name}: longer than {col.max_length}")
        if col.kind is Kind.DATETIME and not isinstance(s.dtype, pd.DatetimeTZDtype):
            out.append(f"{table.name}.{col.name}: not a timezone-aware datetime")
        if col.kind is Kind.BOOL and not pd.api.types.is_bool_dtype(s.dtype):
            out.append(f"{table.name}.{col.name}: not boolean")
    for rule in table.row_rules:
        broken = rule.broken(df)
        if broken.any():
            out.append(
                f"{table.name}: {int(broken.sum())} rows where {rule.columns[0]} {rule.text}"
            )
    key = df[list(table.key)].astype(str)
    if key.duplicated().any():
        out.append(f"{table.name}: {int(key.duplicated().sum())} duplicate keys {table.key}")
    return out


# Its rows name image files, which exist only once the shop is written (test_images.py).
IN_MEMORY = tuple(t for t in TABLES if t.name != "product_images")


def test_every_contract_table_with_exactly_its_columns(small_shop: DemoShop) -> None:
    assert set(small_shop.tables) == {t.name for t in IN_MEMORY}
    for t in IN_MEMORY:
        assert tuple(small_shop.tables[t.name].columns) == t.column_names, t.name
        assert len(small_shop.tables[t.name]) > 0, t.name


def test_values_follow_the_contract(small_shop: DemoShop) -> None:
    problems = [p for t in IN_MEMORY for p in _problems(t, small_shop.tables[t.name])]
    assert problems == []


def test_references_resolve(small_shop: DemoShop) -> None:
    tables = small_shop.tables
    for t in IN_MEMORY:
        for ref in t.references:
            values = tables[t.name][ref.column].dropna()
            known = set(tables[ref.table][ref.target])
            missing = set(values) - known
            assert not missing, f"{t.name}.{ref.column}: {sorted(missing)[:5]}"


def test_rules_beyond_the_contract(small_shop: DemoShop) -> None:
    """Orders happen after the account exists; parcel scans sit between order and delivery."""
    t = small_shop.tables
    orders = t["orders"].merge(t["customers"][["customer_id", "created_at"]], how="left")
    assert (
        (orders["ordered_at"] >= orders["created_at"])
        .where(orders["created_at"].notna(), True)
        .all()
    )
    scans = t["shipment_events"].merge(t["orders"], on="order_id", suffixes=("", "_o"))
    assert (scans["at"] >= scans["ordered_at"]).all()
    done = scans[scans["status"] == "delivered"]
    assert (done["at"] == done["delivered_at"]).all()
    ev = t["events"].merge(t["customers"][["customer_id", "created_at"]], how="inner")
    assert (ev["at"] >= ev["created_at"]).all()
    shipped = t["orders"][t["orders"]["shipped_at"].notna()]
    assert shipped["carrier"].notna().all() and shipped["ship_city"].notna().all()
    cancelled = t["orders"][t["orders"]["status"] == "cancelled"]
    assert cancelled["shipped_at"].isna().all()


def test_written_files_follow_the_csv_conventions(small_shop: DemoShop, written: Path) -> None:
    for t in TABLES:
        path = written / f"{t.name}.csv"
        if t.name == "product_images" and small_shop.images is None:
            assert not path.exists()
            continue
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert tuple(df.columns) == t.column_names
        assert len(df) == small_shop.rows()[t.name]
        for col in t.columns:
            values = df[col.name][df[col.name] != ""]
            if col.kind is Kind.DATETIME:
                assert values.str.match(ISO_TIME).all(), (t.name, col.name, values.iloc[0])
            elif col.kind is Kind.DATE:
                assert values.str.match(ISO_DATE).all(), (t.name, col.name)
            elif col.kind is Kind.BOOL:
                assert set(values) <= {"true", "false"}, (t.name, col.name)
            # Nulls are empty cells, never a word for nothing.
            assert not values.isin(["nan", "NaN", "None", "NaT", "<NA>", "null"]).any()
    truth = json.loads((written / TRUTH_FILE).read_text(encoding="utf-8"))
    assert truth["seed"] == small_shop.config.seed
    questions = pd.read_csv(written / "support_questions.csv", dtype=str, keep_default_na=False)
    assert len(questions) == len(small_shop.extras["support_questions"])


def test_written_values_round_trip(small_shop: DemoShop, written: Path) -> None:
    """What is read back from the files is what was generated."""
    lines = pd.read_csv(written / "order_lines.csv", dtype={"order_id": str, "product_id": str})
    mem = small_shop.tables["order_lines"]
    assert np.allclose(lines["unit_price"], mem["unit_price"])
    assert np.allclose(lines["discount"], mem["discount"])
    orders = pd.read_csv(written / "orders.csv", dtype=str, keep_default_na=False)
    back = pd.to_datetime(orders["ordered_at"], format="ISO8601")
    assert (back.to_numpy() == small_shop.tables["orders"]["ordered_at"].to_numpy()).all()
    assert (
        (orders["customer_id"] == "")
        == small_shop.tables["orders"]["customer_id"].isna().to_numpy()
    ).all()


def test_same_seed_same_bytes_other_seed_other_shop(
    small_shop: DemoShop, written: Path, tmp_path: Path
) -> None:
    again = generate(DemoConfig.preset("small"))
    write_shop(again, tmp_path / "again")
    files = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()
    )
    for name in files:
        assert (tmp_path / "again" / name).read_bytes() == (written / name).read_bytes(), name
    other = generate(DemoConfig.preset("small", seed=8))
    assert not other.tables["orders"]["ordered_at"].equals(
        small_shop.tables["orders"]["ordered_at"]
    )


def test_truth_is_json_and_small(small_shop: DemoShop) -> None:
    text = json.dumps(small_shop.truth, allow_nan=False)
    assert len(text) < 1_000_000
    for key in (
        "seed",
        "config",
        "seasonality",
        "elasticity_by_top_category",
        "advertising",
        "customers",
        "co_purchase_pairs",
        "promotions",
        "stockouts",
        "delivery",
        "products",
        "consumables",
        "reviews",
        "support",
        "images",
    ):
        assert key in small_shop.truth, key


def test_progress_is_reported() -> None:
    seen: list[tuple[str, int, int]] = []
    generate(
        DemoConfig(customers=300, products=150, days=60),
        progress=lambda step, done, total: seen.append((step, done, total)),
    )
    steps = [s for s, _, _ in seen]
    assert "orders" in steps and steps[-1] == "done"
    assert all(0 < done <= total for _, done, total in seen)


def test_config_checks_and_presets() -> None:
    with pytest.raises(ConfigError):
        DemoConfig(customers=5)
    with pytest.raises(ConfigError):
        DemoConfig(start="June")
    with pytest.raises(ConfigError):
        DemoConfig.preset("huge")
    small = DemoConfig.preset("small")
    assert (small.customers, small.products, small.days) == (2_000, 300, 180)
    assert DemoConfig.preset("large").customers == 10 * DemoConfig().customers
    bigger = DemoConfig().scaled(4)
    assert bigger.customers == 80_000 and bigger.products == 4_000


@pytest.mark.parametrize(("seed", "days"), [(0, 60), (1, 60), (7, 90)])
def test_the_smallest_shops_are_valid_too(seed: int, days: int, tmp_path: Path) -> None:
    # Short histories can draw an ad channel with no flight (seed 7 over 90 days did).
    config = DemoConfig(customers=100, products=120, days=days, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 or overflow anywhere in the simulation
        shop = generate(config)
    assert shop.tables["ad_spend"]["spend"].notna().all()
    store = Store(f"sqlite:///{tmp_path / 'shop.db'}")
    store.create()
    result = load_frames(shop.tables, store)  # ingest's own validation, every rule
    assert result.rows == sum(len(frame) for frame in shop.tables.values())
