"""Rate limits: a key's requests per second, and wrong keys per client address."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopkeeper.access import create_key
from shopkeeper.service import ServiceSettings, create_app
from shopkeeper.service.limits import RateLimiter, retry_after
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.conftest import auth, error_body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_spends_its_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    limits = RateLimiter(rate=2.0, burst=3, failures=5, clock=clock)
    assert [limits.take("k1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limits.take("k1") == 0.5  # one token comes back every half second
    assert limits.take("k2") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert limits.take("k1") == 0.0 and limits.take("k1") > 0
    clock.now += 100
    assert [limits.take("k1") for _ in range(3)] == [0.0] * 3  # refilled up to the burst only
    assert limits.take("k1") > 0
    assert RateLimiter(rate=0).take("k1") == 0.0  # rate 0: no limit


def test_failed_key_checks_block_an_address_for_a_minute() -> None:
    clock = Clock()
    limits = RateLimiter(failures=3, clock=clock)
    for _ in range(2):
        limits.failed("10.0.0.1")
    assert limits.blocked("10.0.0.1") == 0.0
    limits.failed("10.0.0.1")
    assert limits.blocked("10.0.0.1") == 60.0 and limits.blocked("10.0.0.2") == 0.0
    clock.now += 59.5
    assert limits.blocked("10.0.0.1") == 0.5
    clock.now += 1
    assert limits.blocked("10.0.0.1") == 0.0
    assert "10.0.0.1" not in limits._failed  # a quiet address is forgotten
    assert retry_after(0.2) == {"Retry-After": "1"} and retry_after(2.1)["Retry-After"] == "3"


def _app(tmp_path: Path, store: Store, **settings: float) -> TestClient:
    workspace = Workspace.resolve(tmp_path / "ws")
    app = create_app(workspace, ServiceSettings(**settings), store=store)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


def test_the_api_answers_429_past_a_keys_rate(tmp_path: Path, shop_store: Store) -> None:
    token = create_key(shop_store, "busy", "reader")[1]
    with _app(tmp_path, shop_store, rate_per_key=0.01, burst_per_key=3) as api:
        for _ in range(3):
            assert api.get("/api/v1/products", headers=auth(token)).status_code == 200
        refused = api.get("/api/v1/products", headers=auth(token))
        error = error_body(refused, 429, "too_many_requests")
        assert "more than 0.01 requests a second" in error["message"]
        assert int(refused.headers["retry-after"]) >= 1
        # Health stays open: it needs no key.
        assert api.get("/api/v1/health").status_code == 200


def test_wrong_keys_from_one_address_are_refused_even_with_a_right_one_after(
    tmp_path: Path, shop_store: Store
) -> None:
    token = create_key(shop_store, "right", "reader")[1]
    with _app(tmp_path, shop_store, failed_logins_per_minute=4) as api:
        for _ in range(4):
            wrong = api.get("/api/v1/products", headers=auth("sk_000000000000_" + "x" * 43))
            assert wrong.status_code == 401
        blocked = api.get("/api/v1/products", headers=auth(token))
        error_body(blocked, 429, "too_many_requests")
        # The dashboard's login counts the same failures: the form says why, in a 429.
        page = api.post("/login", data={"api_key": token}, follow_redirects=False)
        assert page.status_code == 429 and "Wait a minute" in page.text


def test_worker_processes_take_the_limit_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopkeeper.service.app import app_from_environment

    monkeypatch.setenv("SHOPKEEPER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPKEEPER_RATE_PER_KEY", "25.0")
    limits = app_from_environment().state.limiter
    assert (limits.rate, limits.burst) == (25.0, 50)
    monkeypatch.delenv("SHOPKEEPER_RATE_PER_KEY")
    assert app_from_environment().state.limiter.rate == ServiceSettings().rate_per_key
