"""A shop whose marketing mix is known: sales made from the model's own form."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopkeeper.mmm import MixData
from shopkeeper.mmm import _transforms as tf

# channel: (mean spend per day, decay, Hill shape, half point / mean spend, beta per day)
PLANTED = {
    "search": (3000.0, 0.3, 1.2, 1.0, 9000.0),
    "social": (2000.0, 0.6, 1.8, 1.2, 6000.0),
    "video": (2500.0, 0.7, 2.0, 0.8, 5000.0),
}


def planted_shop(
    days: int = 420, noise: float = 0.01, seed: int = 7, ad_value: float = 1.0
) -> tuple[MixData, dict]:
    """Daily sales = organic (weekday, season, trend) + each channel's planted effect.

    An organic order is worth 300; one that advertising brought ``ad_value``
    times that, so the channels' orders are their sales over ``300 * ad_value``.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-04", periods=days, freq="D")
    weekday = np.array([0.95, 0.93, 0.96, 0.98, 1.02, 1.1, 1.06])[dates.day_of_week]
    season = 1 + 0.06 * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 350) / 365.25)
    organic = 100_000.0 * weekday * season * (1 + 0.2 * np.arange(days) / days)
    spend = np.zeros((len(PLANTED), days))
    effects = np.zeros((len(PLANTED), days))
    truth = {}
    for i, (name, (mean, decay, shape, kappa, beta)) in enumerate(PLANTED.items()):
        on = np.repeat(rng.random(days // 10 + 1) < 0.6, 10)[:days]
        # Flights with near-silent pauses, as campaigns run: the pauses pin down
        # where each curve starts.
        spend[i] = mean * rng.lognormal(0, 0.4, days) * np.where(on, 1.6, 0.05)
        sat = tf.hill(tf.geometric(spend[i], decay), shape, kappa * spend[i].mean())
        effects[i] = beta * sat
        truth[name] = {
            "roas": float(effects[i].sum() / spend[i].sum()),
            "decay": decay,
            "shape": shape,
            "half": kappa * spend[i].mean(),
            "beta": beta,
        }
    mean_sales = organic + effects.sum(axis=0)
    wobble = 1 + rng.normal(0, noise, days)
    sales = mean_sales * wobble
    orders = (organic + effects.sum(axis=0) / ad_value) / 300 * wobble
    data = MixData(
        dates=dates,
        sales=sales,
        orders=orders,
        channels=tuple(PLANTED),
        spend=spend,
        promotion=np.zeros(days),
        price_index=None,
        frequency="day",
        timezone="UTC",
    )
    return data, truth
