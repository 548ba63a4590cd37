"""Customers with lasting tastes, and the shop's warehouses and stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.demo._calendar import Calendar
from shopkeeper.demo._catalog import N_TIERS
from shopkeeper.demo._util import DAY, ids, join, pick, rounded, strings, take, timestamps
from shopkeeper.demo._vocab import (
    CITIES,
    CN_MAIL,
    FIRST_NAMES,
    GIVEN,
    INTL_MAIL,
    LAST_NAMES,
    LOCATIONS,
    PHONE_PREFIX,
    STYLES,
    SUBS,
    SURNAMES,
)

# The purchase process is BG/NBD-like: while alive, a customer orders at a
# personal Poisson rate (gamma across customers); after each order they drop
# out for good with a personal probability (beta across customers).
RATE_SHAPE = 0.9
RATE_MEAN = 0.032  # orders per day on an ordinary day, before order_rate
RATE_CAP = 0.12
DROP_A, DROP_B = 1.1, 13.0
PRE_EXISTING = 0.4  # share of accounts opened before the window
DORMANT = 0.3  # share of those already lost before the window starts
FIRST_ORDER = 0.65  # new accounts mostly open at their first checkout


@dataclass
class People:
    """Customers (by index) and their latent behaviour; locations by index."""

    n: int
    customer_id: np.ndarray  # object array
    created_day: np.ndarray  # negative: before the window
    created_sec: np.ndarray  # seconds since window start (may be negative)
    alive0: np.ndarray
    first_order: np.ndarray  # opens the account at checkout on created_day
    rate: np.ndarray
    drop: np.ndarray
    tier: np.ndarray
    style: np.ndarray
    segment: np.ndarray
    price_level: np.ndarray
    prefs: np.ndarray  # (customers, sub-categories)
    pref_flat: np.ndarray  # row i: i + cumulative preference (for vectorised draws)
    guest_prefs: np.ndarray  # cumulative preference of an unknown shopper
    city: np.ndarray  # index into CITIES
    store: np.ndarray  # index of the store in the customer's city, or -1
    lang_en: np.ndarray  # writes in English
    table: pd.DataFrame
    locations: pd.DataFrame
    store_loc: np.ndarray  # location index of each store
    warehouse_of_region: dict[str, int]

    def truth(self, churn_day: np.ndarray, days: int) -> dict[str, Any]:
        top3 = np.argsort(-self.prefs, axis=1, kind="stable")[:, :3]
        w3 = np.take_along_axis(self.prefs, top3, axis=1)
        return {
            "model": "BG/NBD-like: Poisson orders at purchase_rate * daily_multiplier while "
            "alive; after each order, drop out with probability dropout_prob",
            "rate_gamma": {"shape": RATE_SHAPE, "mean": RATE_MEAN},
            "dropout_beta": {"a": DROP_A, "b": DROP_B},
            "segments": {"tiers": ["budget", "mid", "premium"], "styles": list(STYLES)},
            "categories": [f"{s.top} > {s.name}" for s in SUBS],
            "customer_id": [str(x) for x in self.customer_id],
            "purchase_rate": rounded(self.rate, 5),
            "dropout_prob": rounded(self.drop, 4),
            "price_level": rounded(self.price_level, 3),
            "tier": [int(x) for x in self.tier],
            "style": [int(x) for x in self.style],
            "top_categories": top3.tolist(),
            "top_weights": np.round(w3, 3).tolist(),
            "churn_day": [int(x) if x >= 0 else None for x in churn_day],
            "alive_at_end": [bool(x) for x in (churn_day < 0) & self.alive0],
            "days": days,
        }


def _locations() -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    frame = pd.DataFrame(
        {
            "location_id": [x[0] for x in LOCATIONS],
            "name": [x[1] for x in LOCATIONS],
            "kind": [x[2] for x in LOCATIONS],
            "city": [x[3] for x in LOCATIONS],
        }
    )
    store_loc = np.array([i for i, x in enumerate(LOCATIONS) if x[2] == "store"])
    wh = {x[4]: i for i, x in enumerate(LOCATIONS) if x[2] == "warehouse"}
    return frame, store_loc, wh


def build_people(rng: np.random.Generator, n: int, cal: Calendar, order_rate: float) -> People:
    """``n`` customers: who they are, when they joined and how they shop."""
    locations, store_loc, wh = _locations()
    pre = rng.random(n) < PRE_EXISTING
    created_day = np.where(pre, -rng.integers(1, 3 * 365, n), 0)
    # New accounts arrive with the traffic: more on busy days.
    created_day[~pre] = pick(rng, cal.multiplier, int((~pre).sum()))
    hour_w = np.array([0.3] * 7 + [1.0] * 17)
    created_sec = created_day * DAY + (pick(rng, hour_w, n) + rng.random(n)) * 3600.0
    alive0 = ~(pre & (rng.random(n) < DORMANT))
    first = ~pre & (rng.random(n) < FIRST_ORDER)
    # Capped: even the keenest customer orders at most every few days.
    rate = np.minimum(
        rng.gamma(RATE_SHAPE, RATE_MEAN * order_rate / RATE_SHAPE, n), RATE_CAP * order_rate
    )
    drop = rng.beta(DROP_A, DROP_B, n)
    price_level = rng.normal(0.0, 1.0, n)
    tier = np.digitize(price_level, [-0.6, 0.6])
    style = pick(rng, [0.3, 0.25, 0.2, 0.25], n)
    segment = tier * len(STYLES) + style

    city = pick(rng, [c[2] for c in CITIES], n)
    country = np.array([c[1] for c in CITIES])[city]
    abroad = country != "CN"
    birth = np.clip(np.round(rng.normal(1991, 9, n)), 1950, 2008).astype(int)
    gender_u = rng.random(n)
    gender = np.where(gender_u < 0.57, 0, np.where(gender_u < 0.97, 1, -1))

    # Tastes: a sparse Dirichlet over sub-categories, shaped by life facts
    # (only pet owners buy pet food, mostly young parents buy baby goods).
    sub_w = np.array([s.weight for s in SUBS])
    prefs = rng.gamma(0.35 * sub_w / sub_w.mean(), 1.0, (n, len(SUBS)))
    tops = [s.top for s in SUBS]
    pet = np.array([t == "Pet" for t in tops])
    baby = np.array([t == "Baby" for t in tops])
    beauty = np.array([t == "Beauty" for t in tops])
    age = cal.start.year - birth
    parent = (age >= 24) & (age <= 42) & (rng.random(n) < 0.4)
    pet_owner = rng.random(n) < 0.3
    prefs[np.ix_(~pet_owner, pet)] = 0.0
    prefs[np.ix_(~parent, baby)] = 0.0
    prefs[np.ix_(gender == 1, beauty)] *= 0.25
    prefs += 1e-4  # no customer is certain never to buy anything anywhere
    prefs /= prefs.sum(axis=1, keepdims=True)
    cum = np.cumsum(prefs, axis=1)
    cum[:, -1] = 1.0
    pref_flat = (cum + np.arange(n)[:, None]).ravel()
    guest = np.cumsum(prefs.mean(axis=0))
    guest[-1] = 1.0

    store_cities = {LOCATIONS[i][3]: k for k, i in enumerate(store_loc)}
    store = np.array([store_cities.get(c[0], -1) for c in CITIES])[city]
    lang_en = np.where(abroad, rng.random(n) < 0.9, rng.random(n) < 0.06)

    # Personal data: Chinese names for customers in China, English abroad.
    sur = pick(rng, [s[2] for s in SURNAMES], n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.65
    g2m = np.where(two, g2, -1)
    zh_name = join(
        take([s[0] for s in SURNAMES], sur),
        take([g[0] for g in GIVEN], g1),
        _or_empty(take([g[0] for g in GIVEN], g2m)),
    )
    py_given = join(take([g[1] for g in GIVEN], g1), _or_empty(take([g[1] for g in GIVEN], g2m)))
    py_sur = take([s[1] for s in SURNAMES], sur)
    first_i = rng.integers(0, len(FIRST_NAMES), n)
    last_i = rng.integers(0, len(LAST_NAMES), n)
    en_first = take(FIRST_NAMES, first_i)
    en_last = take(LAST_NAMES, last_i)
    en_name = join(en_first, " ", en_last)
    digits = rng.integers(1, 999, n).astype(np.int64)
    cn_mail = take(CN_MAIL, rng.integers(0, len(CN_MAIL), n))
    intl_mail = take(INTL_MAIL, rng.integers(0, len(INTL_MAIL), n))
    cn_email = join(py_given, ".", py_sur, digits, "@", cn_mail)
    en_email = pc.utf8_lower(join(en_first, ".", en_last, digits, "@", intl_mail))
    name = pc.if_else(pa_bool(abroad), en_name, zh_name)
    email = pc.if_else(pa_bool(abroad), en_email, cn_email)
    mobile = rng.integers(0, 10**8, n)
    prefix2 = rng.choice(np.array([3, 5, 7, 8, 9]), n) * 10 + rng.integers(0, 10, n)
    cn_phone = join(
        "+86 1",
        prefix2.astype(np.int64),
        " ",
        _pad(mobile // 10_000, 4),
        " ",
        _pad(mobile % 10_000, 4),
    )
    cc = take([PHONE_PREFIX[c[1]] for c in CITIES], city)
    intl_phone = join(
        cc, " ", _pad(rng.integers(0, 10**4, n), 4), " ", _pad(rng.integers(0, 10**4, n), 4)
    )
    phone = pc.if_else(pa_bool(abroad), intl_phone, cn_phone)
    email = pc.if_else(pa_bool(rng.random(n) < 0.08), pa_null(n), email)
    phone = pc.if_else(pa_bool(rng.random(n) < 0.05), pa_null(n), phone)

    customer_id = np.asarray(
        ids("C-", np.arange(1, n + 1), len(str(n)) + 1).to_numpy(zero_copy_only=False),
        dtype=object,
    )
    birth_col = pd.array(np.where(rng.random(n) < 0.07, -1, birth), dtype="Int64")
    birth_col[birth_col < 0] = pd.NA
    gender_col = take(["f", "m"], gender)
    table = pd.DataFrame(
        {
            "customer_id": customer_id,
            "created_at": timestamps(cal.start, created_sec),
            "country": strings(take([c[1] for c in CITIES], city)),
            "city": strings(take([c[0] for c in CITIES], city)),
            "birth_year": birth_col,
            "gender": strings(gender_col),
            "name": strings(name),
            "email": strings(email),
            "phone": strings(phone),
            "consent_personalization": rng.random(n) < 0.85,
            "consent_marketing": rng.random(n) < 0.6,
        }
    )
    return People(
        n=n,
        customer_id=customer_id,
        created_day=created_day,
        created_sec=created_sec,
        alive0=alive0,
        first_order=first,
        rate=rate,
        drop=drop,
        tier=tier,
        style=style,
        segment=segment,
        price_level=price_level,
        prefs=prefs,
        pref_flat=pref_flat,
        guest_prefs=guest,
        city=city,
        store=store,
        lang_en=lang_en,
        table=table,
        locations=locations,
        store_loc=store_loc,
        warehouse_of_region=wh,
    )


def _or_empty(arr: pa.Array) -> pa.Array:
    return pc.fill_null(arr, "")


def _pad(x: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(
        pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string()), width, padding="0"
    )


def pa_bool(mask: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(mask, dtype=bool))


def pa_null(n: int) -> pa.Array:
    return pa.nulls(n, type=pa.string())


N_SEGMENTS = N_TIERS * len(STYLES)


def expected_organic(ppl: People, cal: Calendar) -> float:
    """Rough mean organic orders per day, before simulating (to size advertising).

    Treats dropout as a constant hazard ``rate * drop`` per day after joining,
    the continuous-time reading of BG/NBD.
    """
    mean_mult = float(cal.multiplier.mean())
    hazard = ppl.rate * ppl.drop * mean_mult
    joined = np.maximum(ppl.created_day, 0)
    total = 0.0
    for d in range(cal.days):
        live = ppl.alive0 & (ppl.created_day < d)
        total += float(np.sum(ppl.rate[live] * np.exp(-hazard[live] * (d - joined[live]))))
    return total / cal.days * mean_mult
