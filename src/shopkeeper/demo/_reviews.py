"""Product reviews in Chinese and English whose stars follow quality and delivery.

The planted rating model::

    latent = 4.25 + 0.85 * quality - 0.55 * min(days_late, 5) - 1.3 * returned
             + 0.25 * fast + Normal(0, 0.8)
    rating = clip(round(latent), 1, 5)

and the text is assembled from phrases that match the stars, the product's
kind and what happened to the parcel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.demo._catalog import Catalog
from shopkeeper.demo._fulfil import Fulfilment
from shopkeeper.demo._orders import Orders
from shopkeeper.demo._people import People
from shopkeeper.demo._util import DAY, join, take
from shopkeeper.demo._vocab import (
    CITIES,
    REVIEW_CLOSE,
    REVIEW_FAST,
    REVIEW_LATE,
    REVIEW_ONTIME,
    REVIEW_OPEN,
    REVIEW_RETURNED,
    TOPS,
)

COEF = {
    "intercept": 4.25,
    "quality": 0.85,
    "days_late": -0.55,
    "days_late_cap": 5,
    "returned": -1.3,
    "fast": 0.25,
    "noise_sd": 0.8,
}


def build_reviews(
    rng: np.random.Generator,
    cat: Catalog,
    ppl: People,
    o: Orders,
    f: Fulfilment,
    review_rate: float,
    now: float,
) -> dict[str, Any]:
    """Review columns (by index), sorted by time."""
    online = o.variant == 0
    delivered = ~np.isnan(f.delivered)
    base = np.where(online, f.delivered, o.sec)
    can = (delivered | ~online) & ~f.cancelled
    late_days = np.where(delivered, np.maximum(f.late_days, 0.0), 0.0)
    returned = ~np.isnan(f.returned)
    unhappy = (late_days > 0) | returned
    # Unhappy customers write more often; guests seldom.
    p = review_rate * np.where(unhappy, 1.8, 1.0) * np.where(o.cust >= 0, 1.0, 0.3)
    pick_o = np.flatnonzero(can & (rng.random(o.n) < p))
    created = base[pick_o] + rng.uniform(0.3, 10.0, len(pick_o)) * DAY
    ok = created <= now
    pick_o, created = pick_o[ok], np.floor(created[ok])
    starts = o.line_start()
    counts = np.diff(np.append(starts, len(o.line_order)))
    line = starts[pick_o] + np.floor(rng.random(len(pick_o)) * counts[pick_o]).astype(int)
    prod = o.line_prod[line]
    n = len(pick_o)

    late = np.minimum(late_days[pick_o], COEF["days_late_cap"])
    ret = returned[pick_o]
    fast = online[pick_o] & delivered[pick_o] & (f.delivered[pick_o] - o.sec[pick_o] < 1.5 * DAY)
    latent = (
        COEF["intercept"]
        + COEF["quality"] * cat.quality[prod]
        + COEF["days_late"] * late
        + COEF["returned"] * ret
        + COEF["fast"] * fast
        + rng.normal(0.0, COEF["noise_sd"], n)
    )
    rating = np.clip(np.round(latent), 1, 5).astype(int)

    cust = o.cust[pick_o]
    city = np.where(cust >= 0, ppl.city[np.maximum(cust, 0)], f.ship_city[pick_o])
    abroad = np.array([c[1] != "CN" for c in CITIES])[np.maximum(city, 0)] & (city >= 0)
    lang_en = np.where(
        cust >= 0, ppl.lang_en[np.maximum(cust, 0)], np.where(abroad, True, rng.random(n) < 0.1)
    )

    zh, en = _texts(rng, cat, prod, rating, late_days[pick_o], fast, ret, online[pick_o])
    text = pc.if_else(pa.array(lang_en), en, zh)
    order = np.lexsort((np.arange(n), created))
    truth = {
        "model": "latent = intercept + quality*q - days_late*min(late, cap) - returned "
        "+ fast + noise; rating = clip(round(latent), 1, 5)",
        "coefficients": COEF,
        "count": n,
        "mean_rating_late": _mean(rating[late > 0]),
        "mean_rating_on_time": _mean(rating[(late == 0) & online[pick_o]]),
    }
    return {
        "order": pick_o[order],
        "prod": prod[order],
        "cust": cust[order],
        "created": created[order],
        "rating": rating[order],
        "lang": np.where(lang_en, "en", "zh")[order],
        "text": text.take(pa.array(order)),
        "truth": truth,
    }


def _mean(x: np.ndarray) -> float | None:
    return round(float(x.mean()), 3) if len(x) else None


def _texts(
    rng: np.random.Generator,
    cat: Catalog,
    prod: np.ndarray,
    rating: np.ndarray,
    late_days: np.ndarray,
    fast: np.ndarray,
    returned: np.ndarray,
    online: np.ndarray,
) -> tuple[pa.Array, pa.Array]:
    """The same review written in Chinese and in English; the caller keeps one."""
    n = len(prod)

    def phrase(table: dict[int, tuple[tuple[str, str], ...]]) -> tuple[pa.Array, pa.Array]:
        flat = [(r, x) for r in sorted(table) for x in table[r]]
        sizes = np.array([len(table[r]) for r in sorted(table)])
        offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rk = rating - min(table)
        i = offs[rk] + np.floor(rng.random(n) * sizes[rk]).astype(int)
        return take([x[1][0] for x in flat], i), take([x[1][1] for x in flat], i)

    open_zh, open_en = phrase(REVIEW_OPEN)
    close_zh, close_en = phrase(REVIEW_CLOSE)
    top = cat.top[prod]
    good = [t.good for t in TOPS]
    bad = [t.bad for t in TOPS]
    n_good = np.array([len(g) for g in good])
    n_bad = np.array([len(b) for b in bad])
    gi = np.cumsum(np.r_[0, n_good[:-1]])[top] + np.floor(rng.random(n) * n_good[top]).astype(int)
    bi = np.cumsum(np.r_[0, n_bad[:-1]])[top] + np.floor(rng.random(n) * n_bad[top]).astype(int)
    good_zh = take([g[0] for gs in good for g in gs], gi)
    good_en = take([g[1] for gs in good for g in gs], gi)
    bad_zh = take([b[0] for bs in bad for b in bs], bi)
    bad_en = take([b[1] for bs in bad for b in bs], bi)
    item_zh = cat.item_zh.take(pa.array(prod))
    item_en = pc.utf8_lower(cat.item_en.take(pa.array(prod)))
    hi, lo = pa.array(rating >= 4), pa.array(rating <= 2)
    prod_zh = pc.if_else(
        hi,
        join(item_zh, good_zh, "，"),
        pc.if_else(lo, join(item_zh, bad_zh, "，"), join(item_zh, good_zh, "，但是", bad_zh, "，")),
    )
    prod_en = pc.if_else(
        hi,
        join(" Bought the ", item_en, " and it ", good_en, "."),
        pc.if_else(
            lo,
            join(" Bought the ", item_en, " but it ", bad_en, "."),
            join(" Bought the ", item_en, ": it ", good_en, ", but it also ", bad_en, "."),
        ),
    )

    days = np.maximum(1, np.ceil(late_days)).astype(np.int64)
    li = rng.integers(0, len(REVIEW_LATE), n)
    late_zh = join(
        take([x[0] for x in REVIEW_LATE], li), days, take([x[1] for x in REVIEW_LATE], li)
    )
    late_en = join(
        " ", take([x[2] for x in REVIEW_LATE], li), days, take([x[3] for x in REVIEW_LATE], li)
    )
    fi = rng.integers(0, len(REVIEW_FAST), n)
    ti = np.where(rng.random(n) < 0.5, rng.integers(0, len(REVIEW_ONTIME), n), -1)
    fast_zh, fast_en = take([x[0] for x in REVIEW_FAST], fi), take([x[1] for x in REVIEW_FAST], fi)
    on_zh = pc.fill_null(take([x[0] for x in REVIEW_ONTIME], ti), "")
    on_en = pc.fill_null(join(" ", take([x[1] for x in REVIEW_ONTIME], ti)), "")
    is_late = pa.array(late_days > 0)
    is_fast = pa.array(fast)
    ship_zh = pc.if_else(is_late, late_zh, pc.if_else(is_fast, fast_zh, on_zh))
    ship_en = pc.if_else(is_late, late_en, pc.if_else(is_fast, join(" ", fast_en), on_en))
    none = pa.array(~online)
    ship_zh = pc.if_else(none, "", ship_zh)
    ship_en = pc.if_else(none, "", ship_en)
    ri = np.where(returned, rng.integers(0, len(REVIEW_RETURNED), n), -1)
    ret_zh = pc.fill_null(take([x[0] for x in REVIEW_RETURNED], ri), "")
    ret_en = pc.fill_null(join(" ", take([x[1] for x in REVIEW_RETURNED], ri)), "")
    zh = join(open_zh, prod_zh, ship_zh, ret_zh, close_zh)
    en = join(open_en, prod_en, ship_en, ret_en, " ", close_en)
    return zh, en
