"""Access and erasure requests: the export holds everything; the erase leaves no byte behind.

One small demo shop with trained recommendation and customer models is built
once; each test works on its own copy of that workspace.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from shopkeeper.cli import app
from shopkeeper.customers._train import load_analytics
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.errors import ConfigError, NotFoundError
from shopkeeper.ingest import load_folder
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.orders import load_analysis
from shopkeeper.privacy import KEY_ENV, KEY_FILE_ENV, erase_customer, find_traces
from shopkeeper.recommend import Recommendations
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop

PERSONAL_TABLES = ("customers", "orders", "events", "reviews", "decisions")


@pytest.fixture(autouse=True)
def _own_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (KEY_ENV, KEY_FILE_ENV, "SHOPKEEPER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the demo shop, its CSV files, and trained recommend and customers."""
    root = tmp_path_factory.mktemp("privacy") / "ws"
    ws = Workspace.resolve(root)
    store = Store.open(ws)
    build_demo(
        store,
        root / "demo-shop",
        DemoConfig.preset("small", customers=300, products=120, days=120),
    )
    for kind, params in (("recommend", {"quick": True}), ("customers", {}), ("orders", {})):
        job = run_job(store, ws, kind, params)
        assert job.state == "done", job.error
    store.close()
    return root


@pytest.fixture
def shop(trained: Path, tmp_path: Path) -> tuple[Workspace, Store]:
    root = tmp_path / "ws"
    shutil.copytree(trained, root)
    ws = Workspace.resolve(root)
    return ws, Store.open(ws)


def _subject(store: Store) -> tuple[str, str]:
    """A customer with an e-mail, orders, events and reviews, and that e-mail."""
    t = METADATA.tables
    with store.engine.connect() as conn:
        reviewers = set(conn.execute(select(t["reviews"].c.customer_id)).scalars())
        buyers = set(conn.execute(select(t["orders"].c.customer_id)).scalars())
        browsers = set(conn.execute(select(t["events"].c.customer_id)).scalars())
    people = store.read("customers", ["customer_id", "email"]).dropna()
    for customer_id, email in zip(people["customer_id"], people["email"], strict=True):
        if customer_id in reviewers & buyers & browsers:
            return str(customer_id), str(email)
    raise AssertionError("the demo shop has no customer with reviews, orders and events")


def _count(store: Store, table: str, customer_id: str) -> int:
    sql = METADATA.tables[table]
    with store.engine.connect() as conn:
        query = select(func.count()).select_from(sql).where(sql.c.customer_id == customer_id)
        return int(conn.execute(query).scalar_one())


def test_model_files_name_customers_only_by_pseudonymous_keys(
    shop: tuple[Workspace, Store],
) -> None:
    ws, store = shop
    ids = store.read("customers", ["customer_id"])["customer_id"].astype(str).tolist()
    name = store.vault.pseudonymizer()
    files = [p for p in ws.models_dir.rglob("*") if p.is_file()]
    for kind in ("recommend", "customers", "orders"):
        assert any(f.parent.parent.name == kind for f in files)
    # No id in any encoding in any model file; the keys are there instead.
    assert find_traces(store, None, []) == []  # no workspace: the database only, no ids asked
    found = [p for p in find_traces(store, ws, ids[:80]) if p.startswith("model artifact")]
    assert found == []
    raw = b"".join(f.read_bytes() for f in files)
    assert sum(name(c).encode() in raw for c in ids[:80]) >= 40
    # Loaded with the store, the models answer by customer id as before.
    served = Recommendations.load(_artifact(ws), store)
    assert sum(served.knows_customer(c) for c in ids[:80]) >= 40
    with pytest.raises(ConfigError, match="pseudonymous keys"):
        Recommendations.load(_artifact(ws))
    analytics = load_analytics(ws, store)
    assert set(analytics.scores.index) <= set(ids) and len(analytics.scores) == len(ids)
    orders = load_analysis(ws, store)
    named = orders.at_risk["customer_id"].dropna()
    assert len(named) and set(named) <= set(ids)


def test_the_export_holds_everything_about_the_customer(
    shop: tuple[Workspace, Store], tmp_path: Path
) -> None:
    ws, store = shop
    customer_id, email = _subject(store)
    out = tmp_path / "export.json"
    done = CliRunner().invoke(
        app, ["privacy", "export", customer_id, "-w", str(ws.root), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    found = json.loads(out.read_text(encoding="utf-8"))
    tables = found["tables"]
    assert tables["customers"][0]["email"] == email  # opened, not the sealed token
    for table in ("orders", "events", "reviews"):
        assert len(tables[table]) == _count(store, table, customer_id) > 0
    lines = METADATA.tables["order_lines"]
    order_ids = [o["order_id"] for o in tables["orders"]]
    with store.engine.connect() as conn:
        query = select(func.count()).select_from(lines).where(lines.c.order_id.in_(order_ids))
        assert len(tables["order_lines"]) == conn.execute(query).scalar_one()
    # What the models hold: both per-customer models, and the customer's scores.
    assert {"recommend", "customers"} <= set(found["models"])
    assert found["models"]["customers"]["scores"]["orders"] == len(order_ids)
    pseudonym = store.vault.pseudonymizer()(customer_id)
    assert found["pseudonym"] == pseudonym
    # The export is audited, under the pseudonym.
    with store.engine.connect() as conn:
        audit = conn.execute(text("SELECT action, target FROM audit_log")).all()
    assert ("privacy.export", pseudonym) in [tuple(r) for r in audit]


def test_the_erase_leaves_nothing_of_the_customer_in_any_byte(
    shop: tuple[Workspace, Store],
) -> None:
    ws, store = shop
    customer_id, email = _subject(store)
    orders_before = store.count("orders")
    lines_before = store.count("order_lines")
    old_models = {k: current_artifact(ws, k) for k in ("recommend", "customers")}
    pseudonym = store.vault.pseudonymizer()(customer_id)
    # The search finds the customer where they are: it can fail. Models hold the pseudonym.
    before = find_traces(store, ws, [customer_id], [email], [pseudonym])
    assert any(p.startswith("database file") for p in before)
    assert any(p.startswith("model artifact models/recommend/") for p in before)
    assert any(p.startswith("model artifact models/customers/") for p in before)
    assert any(p.startswith("workspace file demo-shop/") for p in before)

    done = CliRunner().invoke(
        app, ["privacy", "erase", customer_id, "--yes", "--json", "-w", str(ws.root)]
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["ok"] and report["traces"] == []
    assert report["rows"]["customers deleted"] == 1 and report["rows"]["reviews deleted"] > 0
    assert set(report["models_retrained"]) >= {"recommend", "customers"}

    store = Store.open(ws)
    # Raw bytes of the database, every artifact and every workspace file.
    assert find_traces(store, ws, [customer_id], [email], [pseudonym]) == []
    for table in PERSONAL_TABLES:
        assert _count(store, table, customer_id) == 0
    # The books keep their orders, without the link.
    assert store.count("orders") == orders_before and store.count("order_lines") == lines_before
    # The old model versions are gone; the new ones serve.
    for kind, folder in old_models.items():
        assert folder is not None and not folder.exists()
        assert current_artifact(ws, kind) == ws.models_dir / kind / report["models_retrained"][kind]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, action, target FROM audit_log")).all()
    assert ("cli", "privacy.erase", pseudonym) in [tuple(r) for r in rows]
    # The shop's own folder still loads (orders kept, unlinked).
    fresh = Store(f"sqlite:///{ws.root / 'reload.db'}")
    fresh.create()
    load_folder(ws.root / "demo-shop", fresh)
    assert fresh.count("orders") == orders_before


def test_after_the_erase_the_customer_does_not_influence_recommendations(
    shop: tuple[Workspace, Store], tmp_path: Path
) -> None:
    ws, store = shop
    customer_id, _ = _subject(store)
    erase_customer(store, ws, customer_id, actor="test")
    served = Recommendations.load(_artifact(ws), store)
    assert not served.knows_customer(customer_id)
    # A shop that never had the customer: the erased CSV folder, loaded afresh.
    other = Workspace.resolve(tmp_path / "never")
    never = Store.open(other)
    load_folder(ws.root / "demo-shop", never)
    assert run_job(never, other, "recommend", {"quick": True}).state == "done"
    baseline = Recommendations.load(_artifact(other), never)
    people = store.read("customers", ["customer_id"])["customer_id"].tolist()[:60]
    assert people and customer_id not in people
    for person in [*people, customer_id]:
        got = [r.product_id for r in served.for_customer(person, 10)]
        expected = [r.product_id for r in baseline.for_customer(person, 10)]
        assert got == expected, person


def _artifact(ws: Workspace) -> Path:
    folder = current_artifact(ws, "recommend")
    assert folder is not None
    return folder / "recommender.pkl"


def test_the_erase_works_on_both_databases_without_a_workspace(
    store: Store, tmp_path: Path
) -> None:
    load_folder(write_shop(tmp_path / "shop"), store)
    done = erase_customer(store, None, "C1", actor="test", full_vacuum=True)
    assert done.rows["customers deleted"] == 1 and done.rows["events deleted"] == 2
    assert done.rows["orders unlinked"] == 1
    for table in PERSONAL_TABLES:
        assert _count(store, table, "C1") == 0
    assert list(store.read("customers")["email"]) == ["b@example.com"]
    if store.dialect == "sqlite":
        assert done.traces == []
    with pytest.raises(NotFoundError, match="no customer 'C1'"):
        erase_customer(store, None, "C1", actor="test")


def test_an_unknown_customer_or_a_missing_yes_changes_nothing(
    shop: tuple[Workspace, Store],
) -> None:
    ws, store = shop
    before = store.checksums()
    runner = CliRunner()
    unknown = runner.invoke(app, ["privacy", "erase", "NOBODY", "--yes", "-w", str(ws.root)])
    assert unknown.exit_code == 2 and "no customer 'NOBODY'" in unknown.output
    customer_id, _ = _subject(store)
    unconfirmed = runner.invoke(
        app, ["privacy", "erase", customer_id, "--json", "-w", str(ws.root)]
    )
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
    assert Store.open(ws).checksums() == before
