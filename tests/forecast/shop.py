"""A small daily shop whose demand answers to weekday and price: fast to forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd


def daily_shop(days: int = 100, products: int = 8, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Contract frames: ``products`` products sold online for ``days`` days from 2024-03-01.

    Units per day are Poisson around a level per product, 1.6x on Saturdays
    and Sundays, and 2x on days of a 20% price cut (one day in eight).
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01")
    orders, lines = [], []
    for p in range(products):
        level = rng.uniform(3, 12)
        for d in range(days):
            day = start + pd.Timedelta(days=d)
            cut = (d + p) % 8 == 0
            mean = level * (1.6 if day.day_of_week >= 5 else 1.0) * (2.0 if cut else 1.0)
            units = int(rng.poisson(mean))
            if units == 0:
                continue
            order_id = f"o{p}-{d}"
            orders.append((order_id, f"{day.date()}T10:00:00+00:00"))
            lines.append((order_id, f"p{p}", units, 8.0 if cut else 10.0))
    order_frame = pd.DataFrame(orders, columns=["order_id", "ordered_at"])
    order_frame["status"] = "completed"
    line_frame = pd.DataFrame(lines, columns=["order_id", "product_id", "quantity", "unit_price"])
    products_frame = pd.DataFrame(
        {
            "product_id": [f"p{p}" for p in range(products)],
            "title": [f"Product {p}" for p in range(products)],
            "price": [10.0] * products,
        }
    )
    return {"products": products_frame, "orders": order_frame, "order_lines": line_frame}
