"""Synthetic demand panels with planted elasticities, promotion lifts and store effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopkeeper.pricing import DemandPanel, from_frame

OWN = {"a": -2.5, "b": -1.5, "c": -3.0}
CROSS = 0.3  # every product's units rise 0.3% per 1% rise of each other product's price
DEAL = 0.25  # log lift of a discount promotion
BASE_PRICE = {"a": 4.0, "b": 3.0, "c": 5.0}


def panel(
    stores: int = 30,
    weeks: int = 40,
    seed: int = 0,
    slope: float = 0.0,
    noise: float = 0.15,
    own: dict[str, float] | None = None,
) -> DemandPanel:
    """Three products in ``stores`` stores over ``weeks`` weeks, log-log demand as planted.

    ``slope``: the change of every product's own elasticity per unit of the
    stores' ``income`` attribute (centred, standard normal across stores).
    """
    rng = np.random.default_rng(seed)
    planted = own or OWN
    ids = list(planted)
    income = rng.normal(0.0, 1.0, stores)
    store_fx = rng.normal(0.0, 0.5, stores)
    week_fx = rng.normal(0.0, 0.3, weeks)
    periods = pd.date_range("2024-01-04", periods=weeks, freq="7D")
    log_p = {
        i: np.log(BASE_PRICE.get(i, 4.0)) + rng.normal(0.0, 0.12, (stores, weeks)) for i in ids
    }
    deal = {i: (rng.random((stores, weeks)) < 0.2).astype(float) for i in ids}
    rows = []
    for i in ids:
        e = planted[i] + slope * income[:, None]
        mu = (
            3.0
            + store_fx[:, None]
            + week_fx[None, :]
            + e * log_p[i]
            + sum(CROSS * log_p[j] for j in ids if j != i)
            + DEAL * deal[i]
        )
        units = np.exp(mu + rng.normal(0.0, noise, (stores, weeks)))
        for s in range(stores):
            for t in range(weeks):
                rows.append(
                    (i, f"s{s}", periods[t], units[s, t], np.exp(log_p[i][s, t]), deal[i][s, t])
                )
    frame = pd.DataFrame(
        rows, columns=["product_id", "location_id", "period", "units", "price", "discount"]
    )
    locations = pd.DataFrame({"location_id": [f"s{s}" for s in range(stores)], "income": income})
    products = pd.DataFrame(
        {
            "product_id": ids,
            "title": [f"Product {i}" for i in ids],
            "category": "Juice",
            "price": [BASE_PRICE.get(i, 4.0) for i in ids],
            "cost": [BASE_PRICE.get(i, 4.0) * 0.5 for i in ids],
        }
    )
    return from_frame(frame, locations=locations, products=products)
