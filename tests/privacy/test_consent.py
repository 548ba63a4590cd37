"""Consent is honoured by every capability that personalises, read when it is used.

One small demo shop (300 customers, half a year) with its ``recommend`` and
``customers`` jobs run once for the module; each test changes a customer's
consent in the store *after* those jobs, as a shop's next load would, and puts
it back. Recommendations (API, Python, CLI, dashboard) and decisions need
``consent_personalization`` (missing = allowed); audiences (CLI, API) need
``consent_marketing`` (missing = no). Prices are never personal: the price a
visitor is shown reads neither who they are nor their context.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from shopkeeper.access import create_key
from shopkeeper.cli import app as cli
from shopkeeper.decide import (
    PriceGuardrails,
    decide_price,
    decide_slot,
    get_policy,
    ope_log,
    read_decisions,
    record_outcomes,
    start_price_policy,
    start_slot_policy,
)
from shopkeeper.decide._serve import WITHHELD, neutral_context
from shopkeeper.demo import DemoConfig, build_demo
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.recommend import Recommendations
from shopkeeper.recommend._train import ARTIFACT
from shopkeeper.service import create_app
from shopkeeper.service.api.routes.customer_analytics import served_analytics
from shopkeeper.service.api.routes.recommend import served_model
from shopkeeper.store import METADATA, Store
from shopkeeper.workspace import Workspace
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth, ok
from tests.service.pages import html_of

CUSTOMERS = METADATA.tables["customers"]
PRODUCTS = METADATA.tables["products"]
REC = "/api/v1/recommend"
AUDIENCES = "/api/v1/customers/audiences"
EVERYONE = "orders >= 1"  # an audience every buyer matches
DAY = datetime(2026, 3, 2, 9, 0)
runner = CliRunner()


@dataclass
class Shop:
    """The demo shop's store and workspace, both jobs run, and who is who at training."""

    store: Store
    workspace: Workspace
    root: Path
    sample: str  # consented at training, the most history
    declined: str  # declined at training, with history
    newcomer_list: list[str]  # what an unknown visitor is shown


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """Built once for the module (about 15 s on two idle cores)."""
    root = tmp_path_factory.mktemp("consent")
    workspace = new_workspace(root)
    store = Store(workspace.database_url)
    store.create()
    build_demo(
        store, root / "demo", DemoConfig.preset("small", customers=300, products=120, days=180)
    )
    for kind, params in (("recommend", {"quick": True}), ("customers", {})):
        job = run_job(store, workspace, kind, params)
        assert job.state == "done", job.error
    model = served_model(workspace)
    assert model is not None
    sample = model.sample_customer()
    assert sample is not None and consent_of(store, sample)[0] is not False
    declined = next(
        c for c in sorted(model.recs.no_consent) if model.recs.history(c, 1)
    )  # the demo has customers who said no
    newcomer = [r.product_id for r in model.recs.for_customer("nobody-at-all", 10)]
    return Shop(store, workspace, root, sample, declined, newcomer)


@pytest.fixture(scope="module")
def api(shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(shop.workspace, store=shop.store)) as client:
        yield client


@pytest.fixture(scope="module")
def keys(shop: Shop) -> dict[str, dict[str, str]]:
    return {
        role: auth(create_key(shop.store, f"consent {role}", role)[1])
        for role in ("reader", "operator")
    }


def consent_of(store: Store, customer_id: str) -> tuple[bool | None, bool | None]:
    """(personalisation, marketing) as the store holds them."""
    query = select(CUSTOMERS.c.consent_personalization, CUSTOMERS.c.consent_marketing).where(
        CUSTOMERS.c.customer_id == customer_id
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).one()
    return row[0], row[1]


@contextmanager
def consent(store: Store, customer: str, **values: bool | None) -> Iterator[None]:
    """The customer's consent columns set in the store (as a later load would), then put back."""
    columns = {f"consent_{name}": value for name, value in values.items()}
    with store.engine.connect() as conn:
        row = conn.execute(
            select(*[CUSTOMERS.c[c] for c in columns]).where(CUSTOMERS.c.customer_id == customer)
        ).one()
    before = dict(zip(columns, row, strict=True))

    def write(new: dict[str, Any]) -> None:
        one = CUSTOMERS.c.customer_id == customer
        with store.transaction() as conn:
            conn.execute(update(CUSTOMERS).where(one).values(**new))

    write(columns)
    try:
        yield
    finally:
        write(before)


def _ids(items: list[Any]) -> list[str]:
    return [i["product_id"] if isinstance(i, dict) else i.product_id for i in items]


# -- recommendations: consent_personalization, read at every request ------------------------


def test_recommendations_follow_consent_withdrawn_and_given_back_without_a_retrain(
    shop: Shop, api: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    artifact = current_artifact(shop.workspace, "recommend")
    assert artifact is not None
    recs = Recommendations.load(artifact / ARTIFACT, shop.store)  # the Python path, a copy
    customer, reader = shop.sample, keys["reader"]

    def python() -> tuple[bool, list[str]]:
        personal, found = recs.answer(customer, 10, store=shop.store)
        return personal, _ids(found)

    def http() -> dict[str, Any]:
        return ok(api.get(f"{REC}/{customer}", headers=reader))

    before = http()
    assert before["personal"] is True and python() == (True, _ids(before["items"]))
    assert _ids(before["items"]) != shop.newcomer_list
    with consent(shop.store, customer, personalization=False):
        now = http()
        # The same model (no retrain) serves the anonymous list at once.
        assert now["model_job"] == before["model_job"] and now["personal"] is False
        assert _ids(now["items"]) == shop.newcomer_list
        assert all("declined" in i["reason"] for i in now["items"])
        assert python() == (False, shop.newcomer_list)
    # Given back: their own list again, still without a retrain.
    assert http() == before and python() == (True, _ids(before["items"]))
    # A missing answer is an agreement (the contract's default).
    with consent(shop.store, customer, personalization=None):
        assert http()["personal"] is True


def test_consent_given_after_training_makes_the_list_personal(
    shop: Shop, api: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    declined, reader = shop.declined, keys["reader"]
    refused = ok(api.get(f"{REC}/{declined}", headers=reader))
    assert refused["personal"] is False and _ids(refused["items"]) == shop.newcomer_list
    with consent(shop.store, declined, personalization=True):
        given = ok(api.get(f"{REC}/{declined}", headers=reader))
        assert given["personal"] is True and _ids(given["items"]) != shop.newcomer_list
        assert not any("popular in the shop" in i["reason"] for i in given["items"])


def test_a_customer_the_store_no_longer_holds_is_served_as_a_stranger(shop: Shop) -> None:
    model = served_model(shop.workspace)
    assert model is not None and model.recs.knows_customer(shop.sample)
    with shop.store.engine.connect() as conn:
        row = dict(
            conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.customer_id == shop.sample))
            .one()
            ._mapping
        )
    with shop.store.transaction() as conn:
        conn.execute(delete(CUSTOMERS).where(CUSTOMERS.c.customer_id == shop.sample))
    try:
        # The model still holds their history; none of it is used.
        personal, found = model.recs.answer(shop.sample, 10, store=shop.store)
        assert personal is False and _ids(found) == shop.newcomer_list
    finally:
        with shop.store.transaction() as conn:
            conn.execute(insert(CUSTOMERS).values(**row))
    assert model.recs.answer(shop.sample, 10, store=shop.store)[0] is True


def test_a_declined_customers_new_activity_is_not_read(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopkeeper.recommend import _source

    model = served_model(shop.workspace)
    assert model is not None
    read: list[str] = []
    real = _source.recent_activity

    def spy(store: Store, customer_id: str, since: datetime) -> Any:
        read.append(customer_id)
        return real(store, customer_id, since)

    monkeypatch.setattr(_source, "recent_activity", spy)
    with consent(shop.store, shop.sample, personalization=False):
        model.recs.answer(shop.sample, 5, store=shop.store)
    assert read == []  # neither their orders nor their events were looked up
    model.recs.answer(shop.sample, 5, store=shop.store)
    assert read == [shop.sample]


def test_cli_and_dashboard_read_consent_now(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    customer = shop.sample

    def cli_list() -> dict[str, Any]:
        args = ["recommend", "--customer", customer, "-w", str(shop.root), "--json"]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        payload: dict[str, Any] = json.loads(result.stdout)
        return payload

    assert "not personal" not in cli_list()["query"]
    app = create_app(shop.workspace, store=shop.store)
    with TestClient(app) as web:
        token = create_key(shop.store, "consent page", "reader")[1]
        assert web.post("/login", data={"api_key": token, "next": "/"}).status_code == 200
        page = f"/recommendations?customer={customer}"
        assert 'data-personal="true"' in html_of(web.get(page))
        with consent(shop.store, customer, personalization=False):
            payload = cli_list()
            assert "not personal" in payload["query"]
            assert _ids(payload["items"]) == shop.newcomer_list
            html = html_of(web.get(page))
            assert 'data-note="declined"' in html and 'data-personal="false"' in html
        html = html_of(web.get(page))
        assert 'data-note="declined"' not in html and 'data-personal="true"' in html


# -- audiences: consent_marketing, read when the audience is built ----------------------------


def _member_with_marketing_consent(shop: Shop, api: TestClient, reader: dict[str, str]) -> str:
    body = ok(api.post(AUDIENCES, json={"conditions": [EVERYONE], "preview": 1}, headers=reader))
    assert body["size"] > 0 and body["without_consent"] > 0
    member: str = body["members"][0]["customer_id"]
    assert consent_of(shop.store, member)[1] is True
    return member


@dataclass
class Lists:
    """The audience of EVERYONE through every door: API preview, API export, CLI export.

    Each maps a member to the ``consent_marketing`` its row shows.
    """

    shop: Shop
    api: TestClient
    keys: dict[str, dict[str, str]]

    def preview(self) -> dict[str, str]:
        body = {"conditions": [EVERYONE], "preview": 500}
        found = ok(self.api.post(AUDIENCES, json=body, headers=self.keys["reader"]))
        assert found["size"] <= 500  # the preview is the whole audience
        return {m["customer_id"]: str(m["consent_marketing"]) for m in found["members"]}

    def exported(self) -> dict[str, str]:
        body = {"conditions": [EVERYONE]}
        answer = self.api.post(f"{AUDIENCES}/export", json=body, headers=self.keys["operator"])
        assert answer.status_code == 200, answer.text
        return _by_customer(csv.DictReader(io.StringIO(answer.text)))

    def cli(self) -> dict[str, str]:
        out = self.shop.root / "audience.csv"
        args = ["customers", "audience", "-w", str(self.shop.root), "--where", EVERYONE]
        result = runner.invoke(cli, [*args, "--out", str(out), "--json"])
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8") as rows:
            return _by_customer(csv.DictReader(rows))

    def all(self) -> list[dict[str, str]]:
        return [self.preview(), self.exported(), self.cli()]


def _by_customer(rows: Any) -> dict[str, str]:
    return {r["customer_id"]: r["consent_marketing"] for r in rows}


@pytest.fixture
def lists(
    shop: Shop, api: TestClient, keys: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> Lists:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)  # the CLI finds the store
    return Lists(shop, api, keys)


def test_no_audience_holds_a_customer_who_withdrew_marketing_consent_after_the_job(
    shop: Shop, api: TestClient, keys: dict[str, dict[str, str]], lists: Lists
) -> None:
    member = _member_with_marketing_consent(shop, api, keys["reader"])
    assert all(member in found for found in lists.all())
    for withdrawn in (False, None):  # a missing answer is not an agreement
        with consent(shop.store, member, marketing=withdrawn):
            assert not any(member in found for found in lists.all())
    # Every member of every list is one the store says may be contacted, now.
    for found in lists.all():
        assert member in found and set(found.values()) == {"True"}
        assert all(consent_of(shop.store, c)[1] is True for c in found)


def test_marketing_consent_given_after_the_job_counts_in_every_list(
    shop: Shop, lists: Lists
) -> None:
    analytics = served_analytics(shop.workspace)
    assert analytics is not None
    scores = analytics.analytics.scores
    said_no = scores[(scores["orders"] >= 1) & ~scores["consent_marketing"].astype(bool)]
    refused = str(said_no.index[0])  # matched, but had not agreed when scored
    assert not any(refused in found for found in lists.all())
    with consent(shop.store, refused, marketing=True):
        for found in lists.all():
            # A member now, and their row shows the answer given now, not the saved one.
            assert found.get(refused) == "True"


# -- decisions: a declined customer's context is withheld -------------------------------------


def _customers(shop: Shop) -> tuple[str, str]:
    """Two customers who have not declined personalisation (put right by ``consent``)."""
    with shop.store.engine.connect() as conn:
        ids = (
            conn.execute(select(CUSTOMERS.c.customer_id).order_by("customer_id").limit(2))
            .scalars()
            .all()
        )
    return ids[0], ids[1]


def _teach(shop: Shop, slot: str, rounds: int, rng: np.random.Generator) -> float:
    """Decisions for anonymous visitors: A earns a click when x = 1, B when x = 0.

    Returns the share of contexts with x = 1, the mean the neutral context must hold.
    """
    xs = [1.0 if i % 5 == 0 else 0.0 for i in range(rounds)]
    for x in xs:
        served = decide_slot(shop.store, slot, context={"one": 1, "x": x}, rng=rng, at=DAY)
        item = served["items"][0]
        click = item["item"] == ("A" if x == 1.0 else "B")
        record_outcomes(shop.store, [{"decision_id": item["decision_id"], "click": click}])
    return float(np.mean(xs))


def test_a_slot_decision_for_a_declined_customer_uses_the_neutral_context(shop: Shop) -> None:
    store = shop.store
    start_slot_policy(store, "consent-hero", ["A", "B"], kind="linucb", features=["one", "x"])
    rng = np.random.default_rng(3)
    share = _teach(shop, "consent-hero", 100, rng)
    config = get_policy(store, "slot:consent-hero").config
    assert neutral_context(config) == pytest.approx({"one": 1.0, "x": share})
    agrees, declines = _customers(shop)
    personal = {"one": 1, "x": 1}  # a context that makes A the best item
    with (
        consent(store, agrees, personalization=True),
        consent(store, declines, personalization=False),
    ):
        used = decide_slot(store, "consent-hero", customer_id=agrees, context=personal, rng=rng)
        held = decide_slot(store, "consent-hero", customer_id=declines, context=personal, rng=rng)
    assert used["items"][0]["item"] == "A"
    assert held["items"][0]["item"] == "B"  # what the average visitor gets
    log = read_decisions(store, "slot:consent-hero").set_index("decision_id")
    assert json.loads(log.loc[used["items"][0]["decision_id"], "context"]) == personal
    logged = json.loads(log.loc[held["items"][0]["decision_id"], "context"])
    assert logged == pytest.approx({"one": 1.0, "x": share, WITHHELD: True})
    # The logged chance is the policy's at the context it really used.
    policy = get_policy(store, "slot:consent-hero").policy()
    table = policy.probabilities(np.array([1.0, share]), 1)
    assert held["items"][0]["probability"] == pytest.approx(table[1, 0])
    # Its outcome teaches the neutral context; the mean stays that of real contexts.
    version = get_policy(store, "slot:consent-hero").version
    record_outcomes(store, [{"decision_id": held["items"][0]["decision_id"], "click": True}])
    after = get_policy(store, "slot:consent-hero")
    assert after.version == version + 1
    assert after.config["context_totals"]["n"] == config["context_totals"]["n"]
    rows = ope_log(store, "slot:consent-hero").set_index("decision_id")
    row = rows.loc[held["items"][0]["decision_id"]]
    assert bool(row["withheld"]) and row["context_x"] == pytest.approx(share)
    assert not rows.drop(index=held["items"][0]["decision_id"])["withheld"].any()


def test_before_learning_a_declined_customer_gets_an_even_draw(shop: Shop) -> None:
    store = shop.store
    start_slot_policy(
        store,
        "consent-fresh",
        ["A", "B", "C"],
        kind="linear-thompson",
        positions=2,
        features=["one", "x"],
    )
    _, declines = _customers(shop)
    rng = np.random.default_rng(0)
    with consent(store, declines, personalization=False):
        served = [
            decide_slot(
                store, "consent-fresh", customer_id=declines, context={"one": 1, "x": 4}, rng=rng
            )
            for _ in range(60)
        ]
        with pytest.raises(ConfigError, match=WITHHELD):  # the marker cannot be forged
            decide_slot(store, "consent-fresh", context={"one": 1, "x": 0, WITHHELD: True})
    assert all(i["probability"] == pytest.approx(1 / 3) for s in served for i in s["items"])
    assert {s["items"][0]["item"] for s in served} == {"A", "B", "C"}
    contexts = read_decisions(store, "slot:consent-fresh")["context"].map(json.loads)
    assert all(c == {"one": 0.0, "x": 0.0, WITHHELD: True} for c in contexts)
    # Someone the store does not hold is an anonymous visitor: their context is used.
    stranger = decide_slot(
        store, "consent-fresh", customer_id="not-a-customer", context={"one": 1, "x": 4}
    )
    log = read_decisions(store, "slot:consent-fresh").set_index("decision_id")
    assert json.loads(log.loc[stranger["items"][0]["decision_id"], "context"]) == {
        "one": 1,
        "x": 4,
    }


def test_the_decision_api_withholds_a_declined_customers_context(
    shop: Shop, api: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    operator = keys["operator"]
    body = {"slot": "consent-api", "items": ["A", "B"], "kind": "linucb", "features": ["x"]}
    assert api.post("/api/v1/policies/slot", json=body, headers=operator).status_code == 201
    agrees, declines = _customers(shop)
    decided = {}
    with (
        consent(shop.store, agrees, personalization=None),
        consent(shop.store, declines, personalization=False),
    ):
        for customer in (agrees, declines):
            request = {"slot": "consent-api", "customer_id": customer, "context": {"x": 2.5}}
            answer = ok(api.post("/api/v1/decide/slot", json=request, headers=operator))
            decided[customer] = answer["items"][0]["decision_id"]
    outcomes = [{"decision_id": d, "click": True} for d in decided.values()]
    posted = api.post("/api/v1/outcomes", json={"outcomes": outcomes}, headers=operator)
    assert posted.status_code == 202, posted.text
    log = ok(api.get("/api/v1/policies/slot:consent-api/log", headers=keys["reader"]))
    rows = {r["decision_id"]: r for r in log["rows"]}
    assert rows[decided[agrees]]["withheld"] is False
    assert rows[decided[agrees]]["context_x"] == 2.5
    assert rows[decided[declines]]["withheld"] is True
    assert rows[decided[declines]]["context_x"] == 0.0  # nothing learned yet: the neutral 0


# -- prices: never personal --------------------------------------------------------------------


def test_a_price_depends_on_neither_the_customer_nor_their_context(shop: Shop) -> None:
    store = shop.store
    with store.engine.connect() as conn:
        product = conn.execute(
            select(PRODUCTS.c.product_id)
            .where(PRODUCTS.c.price.is_not(None), PRODUCTS.c.cost.is_not(None))
            .order_by(PRODUCTS.c.product_id)
            .limit(1)
        ).scalar_one()
    rails = PriceGuardrails(exploration_share=0.5)
    start_price_policy(store, product, guardrails=rails)
    with pytest.raises(ConfigError, match="needs context features"):
        start_price_policy(store, product, kind="linucb", policy_id="price:contextual")
    # Something learned, so that the chances are not the starting ones.
    first = [decide_price(store, product, at=DAY, rng=np.random.default_rng(i)) for i in range(20)]
    record_outcomes(
        store,
        [{"decision_id": d["decision_id"], "purchase": i % 3 == 0} for i, d in enumerate(first)],
    )
    agrees, declines = _customers(shop)
    callers: list[dict[str, Any]] = [
        {"customer_id": agrees, "context": {"spend_band": 9, "device": "ios"}},
        {"customer_id": agrees, "context": {"spend_band": 0}},
        {"customer_id": declines, "context": {"spend_band": 9}},
        {},
    ]
    shown: set[float] = set()
    with (
        consent(store, agrees, personalization=True),
        consent(store, declines, personalization=False),
    ):
        for seed in range(40):
            answers = [
                decide_price(store, product, at=DAY, rng=np.random.default_rng(seed), **caller)
                for caller in callers
            ]
            assert len({(a["price"], a["probability"]) for a in answers}) == 1, answers
            shown.add(answers[0]["price"])
    assert len(shown) > 1  # the draw does vary, by chance alone
    contexts = read_decisions(store, f"price:{product}")["context"].map(json.loads)
    customers = read_decisions(store, f"price:{product}")["customer_id"]
    assert all(c == {WITHHELD: True} for c in contexts[customers == declines])
    assert {"spend_band": 9, "device": "ios"} in list(contexts[customers == agrees])


def test_price_advice_takes_no_customer(api: TestClient) -> None:
    """Pricing advice is per product and location: no pricing route can name a customer."""
    schema = api.get("/openapi.json").json()
    pricing = {p: ops for p, ops in schema["paths"].items() if p.startswith("/api/v1/pricing")}
    assert pricing
    for path, ops in pricing.items():
        assert "customer" not in path
        for op in ops.values():
            names = [p["name"] for p in op.get("parameters", [])]
            assert not any("customer" in n or "context" in n for n in names), (path, names)
            assert "requestBody" not in op, path
