"""The two recommendation benchmark splits, exactly as in shared/benchmarks/recommendations.md.

Both read the real data in ``../shared/data`` through shopkeeper's own
adapters and :class:`~shopkeeper.recommend.Interactions`, so the benchmark's
anchors and shopkeeper's models see the same matrices.

- Instacart next basket: a user's last order (highest order_number) is the test
  basket, the earlier orders train; validation holds out the second-to-last.
  Repeats are allowed.
- MovieLens 100K: per user, ratings sorted by (timestamp, item_id); the first
  ``(4 n) // 5`` train, the rest test; validation applies the same rule to the
  training part. Items seen in training are excluded from the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shopkeeper.adapters import convert_instacart
from shopkeeper.recommend import Interactions

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass
class Fold:
    """One train / ground-truth pair over the full user and item universes."""

    train: Interactions
    truth: list[set[int]]
    exclude_seen: bool

    @property
    def candidates(self) -> np.ndarray:
        """Items with at least one training interaction: what a model ranks."""
        return self.train.item_popularity() > 0


@dataclass
class Split:
    dataset: str
    val: Fold
    test: Fold


def _truth(data: Interactions, mask: np.ndarray) -> list[set[int]]:
    truth: list[set[int]] = [set() for _ in range(data.n_users)]
    held = data.log[mask]
    for u, i in zip(held["user"].to_numpy(), held["item"].to_numpy(), strict=True):
        truth[u].add(int(i))
    return truth


def instacart(data_dir: Path = DATA) -> Split:
    tables = convert_instacart(data_dir / "instacart_sample")
    orders = tables["orders"][["order_id", "customer_id", "ordered_at", "order_number"]]
    lines = tables["order_lines"].merge(orders, on="order_id")
    data = Interactions.from_frame(lines, at="ordered_at", occasion="order_id")
    number = lines["order_number"].to_numpy()
    last = lines.groupby("customer_id")["order_number"].transform("max").to_numpy()

    def fold(offset: int) -> Fold:
        return Fold(
            data.select(number < last - offset), _truth(data, number == last - offset), False
        )

    return Split("instacart", val=fold(1), test=fold(0))


def movielens(data_dir: Path = DATA) -> Split:
    raw = pd.read_csv(data_dir / "movielens_100k" / "ml-100k.inter", sep="\t")
    raw.columns = ["user", "item", "rating", "timestamp"]
    raw = raw.sort_values(["user", "timestamp", "item"], kind="stable").reset_index(drop=True)
    # Occasion ids in (user, time, item) order: equal timestamps keep item order,
    # as the protocol's stable sort does.
    raw["occasion"] = np.arange(len(raw))
    raw["at"] = pd.to_datetime(raw["timestamp"], unit="s")
    data = Interactions.from_frame(raw, user="user", item="item", occasion="occasion")
    position = raw.groupby("user").cumcount().to_numpy()
    n = raw.groupby("user")["user"].transform("size").to_numpy()
    train = position < (4 * n) // 5
    n_train = np.bincount(data.log["user"].to_numpy()[train], minlength=data.n_users)
    cut_val = (4 * n_train[data.log["user"].to_numpy()]) // 5
    val_train = train & (position < cut_val)
    val = Fold(data.select(val_train), _truth(data, train & ~val_train), True)
    test = Fold(data.select(train), _truth(data, ~train), True)
    return Split("movielens", val=val, test=test)
