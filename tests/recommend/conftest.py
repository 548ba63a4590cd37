"""A small planted shop for the recommender tests.

Two tastes: customers 0-19 buy breakfast items (b0-b4), customers 20-39 buy
electronics (e0-e4); everyone who bought b0 also bought b1 later, so b1 is
what "b0 buyers" need next. Each customer has several orders over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.recommend import Interactions

BREAKFAST = [f"b{i}" for i in range(5)]
ELECTRONICS = [f"e{i}" for i in range(5)]
CATALOG = pd.DataFrame(
    {
        "product_id": [*BREAKFAST, *ELECTRONICS, "new-oats"],
        "title": [
            "有机燕麦片 Organic oats",
            "燕麦牛奶 Oat milk",
            "蜂蜜 Honey",
            "果酱 Jam",
            "麦片 Muesli",
            "蓝牙耳机 Bluetooth earphones",
            "充电宝 Power bank",
            "数据线 USB cable",
            "蓝牙音箱 Bluetooth speaker",
            "手机壳 Phone case",
            "有机燕麦片 Organic oats family pack",
        ],
        "description": [None] * 11,
        "category": ["Grocery > Breakfast"] * 5
        + ["Electronics > Audio"] * 5
        + ["Grocery > Breakfast"],
        "brand": ["GoodGrain"] * 5 + ["SoundCo"] * 5 + ["GoodGrain"],
        "price": [10.0] * 11,
        "cost": [5.0] * 11,
        "active": [True] * 11,
    }
)


def planted_log(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for c in range(40):
        pool = BREAKFAST if c < 20 else ELECTRONICS
        for n in range(6):
            at = start + pd.Timedelta(days=7 * n + int(rng.integers(0, 3)))
            basket = set(rng.choice(pool, size=2, replace=False).tolist())
            if n == 0:
                basket.add(pool[0])
            if n == 1:
                basket.add(pool[1])
            for p in sorted(basket):
                rows.append(
                    {"customer_id": f"c{c:02d}", "product_id": p, "at": at, "order": f"o{c}-{n}"}
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def planted() -> Interactions:
    return Interactions.from_frame(
        planted_log(), occasion="order", items=CATALOG["product_id"].to_numpy()
    )
