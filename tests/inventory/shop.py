"""A hand-built shop whose stock and demand are known exactly, as contract frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

START = pd.Timestamp("2024-03-01")
DAYS = 60


def shop_frames(days: int = DAYS) -> dict[str, pd.DataFrame]:
    """Three products at one warehouse, one order per product and day (UTC noon).

    ``steady`` sells 2 a day and has 10 on hand (runs out on the 5th day of the
    plan); ``slow`` sells 1 every fourth day with plenty on hand; ``flush`` sells
    5 a day with 400 on hand and 100 on order.
    """
    rows = []
    for day in range(days):
        at = (START + pd.Timedelta(days=day, hours=12)).isoformat()
        rows.append((f"s{day}", at, "steady", 2))
        rows.append((f"f{day}", at, "flush", 5))
        if day % 4 == 0:
            rows.append((f"w{day}", at, "slow", 1))
    orders = pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "ordered_at": [r[1] for r in rows],
            "location_id": "WH",
            "status": "completed",
        }
    )
    lines = pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "product_id": [r[2] for r in rows],
            "quantity": [str(r[3]) for r in rows],
            "unit_price": "20.0",
        }
    )
    products = pd.DataFrame(
        {
            "product_id": ["steady", "slow", "flush"],
            "title": ["Steady seller", "Slow mover", "Well stocked"],
            "price": ["20", "20", "20"],
            "cost": ["10", "10", "10"],
        }
    )
    inventory = pd.DataFrame(
        {
            "product_id": ["steady", "slow", "flush"],
            "location_id": ["WH", "WH", "WH"],
            "on_hand": ["10", "30", "400"],
            "lead_time_days": ["5", "5", "5"],
            "on_order": ["0", "0", "100"],
            "unit_cost": ["10", "10", "10"],
            "order_cost": ["50", "50", "50"],
            "holding_cost_rate": ["0.25", "0.25", "0.25"],
            "service_level": ["0.95", "0.95", "0.95"],
        }
    )
    locations = pd.DataFrame({"location_id": ["WH"], "name": ["Warehouse"], "kind": ["warehouse"]})
    return {
        "locations": locations,
        "products": products,
        "orders": orders,
        "order_lines": lines,
        "inventory": inventory,
    }


def write_frames(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
