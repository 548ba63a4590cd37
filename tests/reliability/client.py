"""The event-posting client of the reliability checks: the standard library only.

Imported by the harness (threads that post until the server dies) and run as a
script by the concurrent-writer check, one process per client, so that it
starts in milliseconds::

    python tests/reliability/client.py BASE_URL TOKEN PREFIX BATCHES SIZE

posts BATCHES batches of SIZE events one after another and prints its
:class:`Ledger` as JSON. Batch ``<PREFIX>b<n>`` holds events
``<PREFIX>b<n>-<i>``, all with the batch id as their session id, so the store
can be asked what it holds of each batch.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def event_batch(prefix: str, size: int, rng: random.Random) -> list[dict[str, Any]]:
    """``size`` events with ids ``<prefix>-<i>`` (unique, so nothing dedupes)."""
    kinds = ("view", "view", "cart", "purchase")
    return [
        {
            "event_id": f"{prefix}-{i}",
            "at": f"2024-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
            "event": rng.choice(kinds),
            "session_id": prefix,
        }
        for i in range(size)
    ]


def post(base: str, token: str, events: list[dict[str, Any]], timeout: float = 30.0) -> int:
    """POST one batch to ``/events``: the status, or 0 when no answer came."""
    request = urllib.request.Request(
        f"{base}/events",
        data=json.dumps({"events": events}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, urllib.error.URLError):
        return 0


@dataclass
class Ledger:
    """What a client sent: each batch's id and size, which were acknowledged, statuses seen."""

    sent: dict[str, int] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, batch: str, size: int, status: int) -> None:
        with self.lock:
            self.sent[batch] = size
            self.statuses[status] += 1
            if 200 <= status < 300:
                self.acked.add(batch)

    def merge(self, other: dict[str, Any]) -> None:
        """Add a client process's ledger (as :meth:`to_dict` wrote it)."""
        with self.lock:
            self.sent.update(other["sent"])
            self.acked.update(other["acked"])
            self.statuses.update({int(k): v for k, v in other["statuses"].items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "acked": sorted(self.acked),
            "statuses": {str(k): v for k, v in self.statuses.items()},
        }


def main(argv: list[str]) -> None:
    base, token, prefix, batches, size = argv
    rng = random.Random(prefix)
    ledger = Ledger()
    for n in range(int(batches)):
        batch = f"{prefix}b{n}"
        ledger.record(batch, int(size), post(base, token, event_batch(batch, int(size), rng)))
    print(json.dumps(ledger.to_dict()))


if __name__ == "__main__":
    main(sys.argv[1:])
