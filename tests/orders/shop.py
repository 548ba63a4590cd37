"""The small demo shop with planted anomalies, built and trained once per test process.

``delivery_shop`` generates the small demo shop, plants known quantity
anomalies and bursts of orders into its last two weeks
(``plant_anomalies``), writes the files, loads them into a SQLite store and
runs the ``orders`` job (about 10 s in all). The orders, CLI and API tests
share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from shopkeeper.demo import DemoConfig, generate, write_shop
from shopkeeper.ingest import load_folder
from shopkeeper.jobs import run_job
from shopkeeper.orders import plant_anomalies
from shopkeeper.store import TIMEZONE_META, Store
from shopkeeper.workspace import Workspace


@dataclass(frozen=True)
class DeliveryShop:
    folder: Path  # the contract files, anomalies included
    workspace: Workspace  # store loaded, the orders job done
    truth: dict[str, Any]  # the demo's ground truth
    planted: pd.DataFrame  # order_id, kind of the planted anomalies


_BUILT: list[DeliveryShop] = []


def delivery_shop(factory: pytest.TempPathFactory) -> DeliveryShop:
    """The shared shop (built on first use in this process)."""
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("delivery_shop")
    demo = generate(DemoConfig.preset("small"))
    folder = root / "shop"
    write_shop(demo, folder)
    tables = {
        name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("orders", "order_lines")
    }
    for frame in tables.values():
        frame.replace("", None, inplace=True)
    planted_tables, planted = plant_anomalies(tables, quantity=25, bursts=6, seed=3)
    for name, frame in planted_tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    workspace = Workspace(root=root / "ws", database_url=f"sqlite:///{root / 'ws' / 'shop.db'}")
    for path in (workspace.models_dir, workspace.reports_dir):
        path.mkdir(parents=True, exist_ok=True)
    store = Store(workspace.database_url)
    store.create()
    load_folder(folder, store)
    with store.transaction() as conn:
        store.set_meta(conn, {TIMEZONE_META: "+08:00"})
    job = run_job(store, workspace, "orders", {})
    assert job.state == "done", job.error
    store.close()
    truth = json.loads((folder / "ground_truth.json").read_text())
    _BUILT.append(DeliveryShop(folder, workspace, truth, planted))
    return _BUILT[0]
