"""Non-personal lists: popularity with time decay, and trending items."""

from __future__ import annotations

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import Recommender
from shopkeeper.recommend._data import Interactions


def _age_days(data: Interactions) -> np.ndarray:
    at = data.log["at"].to_numpy("datetime64[s]").astype(np.int64)
    return (at.max() - at) / 86400.0 if len(at) else np.zeros(0)


class Popularity(Recommender):
    """Items by weighted occasions, each decayed ``0.5 ** (age_days / half_life_days)``.

    Without a half-life every occasion counts the same (global popularity).
    Age is measured from the latest occasion in the fitted data.
    """

    name = "popularity"
    personal = False

    def __init__(self, half_life_days: float | None = None) -> None:
        if half_life_days is not None and half_life_days <= 0:
            raise ConfigError(f"popularity: half_life_days must be positive, not {half_life_days}")
        self.half_life_days = half_life_days

    def _fit(self, data: Interactions) -> None:
        w = data.log["weight"].to_numpy(np.float64)
        if self.half_life_days is not None:
            w = w * np.power(0.5, _age_days(data) / self.half_life_days)
        pop = np.bincount(data.log["item"].to_numpy(), weights=w, minlength=data.n_items)
        self._scores = (pop / pop.max() if pop.max() > 0 else pop).astype(np.float32)

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._scores, (len(users), len(self._scores)))

    def explain(self, data: Interactions, user: int, item: int) -> str:
        if self.half_life_days is None:
            return "one of the shop's best sellers"
        return f"popular lately (half-life {self.half_life_days:g} days)"


class Trending(Recommender):
    """Items whose recent rate beats their longer-run rate.

    score = (recent + 1) / (baseline rate scaled to the recent window + 1),
    times ``log1p(recent)`` so that an item going from 0 to 1 sale does not top
    the list. ``window_days`` is the recent window, ``baseline_days`` the span
    before it that sets the usual rate.
    """

    name = "trending"
    personal = False

    def __init__(self, window_days: float = 7.0, baseline_days: float = 28.0) -> None:
        if window_days <= 0 or baseline_days <= 0:
            raise ConfigError("trending: window_days and baseline_days must be positive")
        self.window_days = window_days
        self.baseline_days = baseline_days

    def _fit(self, data: Interactions) -> None:
        age = _age_days(data)
        w = data.log["weight"].to_numpy(np.float64)
        item = data.log["item"].to_numpy()
        recent_mask = age < self.window_days
        base_mask = (age >= self.window_days) & (age < self.window_days + self.baseline_days)
        recent = np.bincount(item[recent_mask], weights=w[recent_mask], minlength=data.n_items)
        base = np.bincount(item[base_mask], weights=w[base_mask], minlength=data.n_items)
        expected = base * (self.window_days / self.baseline_days)
        score = (recent + 1.0) / (expected + 1.0) * np.log1p(recent)
        self._scores = (score / score.max() if score.max() > 0 else score).astype(np.float32)
        self._recent, self._expected = recent, expected

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._scores, (len(users), len(self._scores)))

    def explain(self, data: Interactions, user: int, item: int) -> str:
        return (
            f"trending: {self._recent[item]:.0f} in the last {self.window_days:g} days, "
            f"{self._expected[item]:.1f} usual"
        )
