"""SIGKILL in the middle of a load and of a burst of event writes; concurrent writers.

Real processes throughout (``shopkeeper ingest``, ``shopkeeper serve``, client
processes), killed at random moments from a fixed seed; see ``harness.py``
for what is checked. ``bench/reliability_bench.py`` runs the same checks
hundreds of times; these run a few, to keep the file near 50 s on two cores.
"""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest

from shopkeeper.access import create_key
from shopkeeper.store import Store
from tests.reliability.harness import (
    IngestRig,
    Ledger,
    Place,
    Server,
    audit,
    concurrent_writers,
    copy_sqlite_place,
    event_batch,
    kill_server_once,
    load_in_process,
    operator_token,
    pg_schema_url,
    post,
    seed_events,
    sqlite_place,
    write_demo_files,
)

pytestmark = pytest.mark.slow

INGEST_KILLS = 3
SERVER_KILLS = 2


def test_a_killed_ingest_leaves_the_store_as_before_or_complete(tmp_path: Path) -> None:
    # A store holding a small shop takes a bigger one on top (new rows and
    # rows replaced by key); the CLI load is SIGKILLed at random moments.
    base = write_demo_files(tmp_path / "base", customers=150, products=120, days=60, seed=11)
    load = write_demo_files(tmp_path / "load", customers=600, products=150, days=120, seed=3)
    template = sqlite_place(tmp_path / "template")
    load_in_process(template, base)
    rig = IngestRig(load, lambda name: copy_sqlite_place(template, tmp_path / name))
    rig.prepare()
    assert rig.write_window is not None  # the load's transaction was seen
    rng = random.Random(20261204)
    # Aimed at the load's one transaction, where a half-written store could arise.
    kills = [rig.kill_once(rng, in_transaction=True) for _ in range(INGEST_KILLS)]
    assert [k.state for k in kills if k.state not in ("before", "complete")] == [], kills
    assert all(k.integrity == "ok" for k in kills), kills
    # The kills landed inside the transaction (not before it, or after the exit) ...
    assert sum(bool(k.writing) for k in kills) >= INGEST_KILLS - 1, kills
    # ... and what one left takes the same load again, to the complete state.
    last = kills[-1].place
    assert last is not None and rig.finish(last)


def test_a_killed_server_loses_no_acknowledged_event(tmp_path: Path) -> None:
    place = sqlite_place(tmp_path / "ws")
    token = operator_token(place)
    log = tmp_path / "server.log"
    rng = random.Random(1111)
    rounds = [
        kill_server_once(place, token, log, rng, f"r{i}", low=0.4, high=1.2)
        for i in range(SERVER_KILLS)
    ]
    for found in rounds:
        assert found.audit.sound, found  # nothing acknowledged lost, no half batch
        assert found.audit.integrity == "ok"
        # Every request was acknowledged or cut off by the kill: never a 5xx.
        assert set(found.statuses) <= {202, 0}, found
    assert sum(r.audit.acked_events for r in rounds) > 0, rounds
    # Restarted after the kills, the server takes events again, and keeps them.
    server = Server(place, log)
    server.start()
    try:
        ledger = Ledger()
        ledger.record("afterb0", 5, post(server.base, token, event_batch("afterb0", 5, rng)))
    finally:
        assert server.stop() in (0, -signal.SIGTERM)  # uvicorn ends by its signal
    assert ledger.acked == {"afterb0"}
    after = audit(place, ledger, "afterb%")
    assert after.sound and after.acked_events == 5


def _place_of(store: Store, root: Path) -> Place:
    """A workspace whose processes use ``store`` (its PostgreSQL schema, if any)."""
    root.mkdir()
    if store.schema is not None:
        return Place(root, pg_schema_url(store.url, store.schema))
    return Place(root, store.url)


def test_concurrent_writers_lose_nothing(store: Store, tmp_path: Path) -> None:
    # Three client processes post at once to two `shopkeeper serve` processes:
    # two writers on one SQLite file (WAL) or one PostgreSQL schema. (Two
    # servers rather than --workers 2: the same writers, one start-up fewer.)
    token = create_key(store, "concurrent writers", "operator")[1]
    place = _place_of(store, tmp_path / "ws")
    seed_events(place, tmp_path / "seed")
    found = concurrent_writers(
        place, token, tmp_path / "server.log", "w", servers=2, clients=3, batches=15
    )
    assert found.statuses == {202: 45}, found  # none refused, none failed
    assert found.audit.sound, found
    assert found.audit.acked_events == 45 * 50 and found.audit.lost_events == 0
