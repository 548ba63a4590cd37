"""Fuzz every operation of the service's OpenAPI schema: no input may bring a 500.

schemathesis generates requests from ``/openapi.json`` (paths, query
strings and bodies, valid and not) and sends them to the real app over a
store holding the tiny test shop, as an admin (the role that reaches every
route). Whatever it sends, the answer must be the service's own: a success,
or a 4xx with the one error body, never an unhandled failure. The store
must still read afterwards.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from shopkeeper.access import create_key
from shopkeeper.ingest import load_folder
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.ingest.shop_files import write_shop

EXAMPLES = 8  # per operation: 436 requests over the 70 operations (2026-12-04)


@pytest.mark.slow
def test_no_generated_request_gets_a_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store.create()
    load_folder(write_shop(tmp_path / "shop"), store)
    token = create_key(store, "fuzz", "admin")[1]
    app = create_app(Workspace.resolve(tmp_path / "ws"), store=store)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    sent: Counter[str] = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the whole API, not a corner of it
    for operation in operations:
        _fuzz(operation, token, sent, failures)
    assert not failures, "\n".join(failures[:10])
    assert sum(sent.values()) >= 3 * len(operations)
    # The store still answers after everything the fuzzer posted.
    assert store.counts()["products"] >= 3


def _fuzz(
    operation: schemathesis.APIOperation, token: str, sent: Counter[str], failures: list[str]
) -> None:
    """Send ``EXAMPLES`` generated requests to one operation; note any 5xx."""
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def send(case: schemathesis.Case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        sent[label] += 1
        if response.status_code >= 500:
            failures.append(f"{label} -> {response.status_code}: {response.text[:200]}")

    send()
