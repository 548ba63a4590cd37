"""Rate limits: requests per key, and failed logins per client address.

Two guards, both per process (with several workers, each has its own):

- **per key**, a token bucket: a key may send ``rate`` requests a second
  on average and ``burst`` at once. A leaked key cannot flood the shop's
  store, while the shop's own backend (one key, many requests) has room.
- **per client address**, failed authentications (a missing, wrong or
  revoked key, on the API or the dashboard's login): after ``failures``
  within a minute the address is refused until the minute has passed, so
  keys cannot be guessed at speed. A correct key does not lift the block.

Behind a reverse proxy every client has the proxy's address, so one
client's wrong keys hold back the others' key checks for that minute:
there, leave the per-address guard to the proxy
(``ServiceSettings(failed_logins_per_minute=0)`` turns it off here).

Both answer 429 with a ``Retry-After`` header. The state lives in memory,
behind one lock (the dashboard's login runs in the thread pool).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

_WINDOW = 60.0  # seconds over which failed authentications are counted


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """The two guards of the module doc; ``rate`` 0 turns the per-key limit off."""

    rate: float = 500.0
    burst: int = 1000
    failures: int = 20
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _failed: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key_id: str) -> float:
        """Spend one request of ``key_id``: 0.0 if allowed, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            return self._take(key_id)

    def _take(self, key_id: str) -> float:
        now = self.clock()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def blocked(self, client: str) -> float:
        """Seconds until ``client`` may try a key again (0.0: it may now)."""
        if self.failures <= 0:
            return 0.0
        with self._lock:
            recent = self._recent(client)
            if len(recent) < self.failures:
                return 0.0
            return max(recent[0] + _WINDOW - self.clock(), 0.0)

    def failed(self, client: str) -> None:
        """Record one failed authentication from ``client``."""
        if self.failures > 0:
            with self._lock:
                self._recent(client)
                self._failed.setdefault(client, deque()).append(self.clock())

    def _recent(self, client: str) -> deque[float]:
        """``client``'s failures within the window (older ones dropped)."""
        recent = self._failed.get(client)
        if recent is None:
            return deque()
        cutoff = self.clock() - _WINDOW
        while recent and recent[0] <= cutoff:
            recent.popleft()
        if not recent:
            # Forget quiet addresses, so a scan from many addresses cannot grow the table.
            del self._failed[client]
        return recent


def retry_after(seconds: float) -> dict[str, str]:
    """The ``Retry-After`` header for a wait of ``seconds`` (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
