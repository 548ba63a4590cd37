"""Generate a whole demo shop: every contract table plus the truth behind it.

The shop is simulated, not sampled table by table: customers with lasting
tastes order day by day through a calendar of weekends, seasons and sales
festivals; prices, promotions, stock-outs and advertising move demand;
carriers deliver (or lose) the parcels; customers review and ask questions.
Because each table is a view of the same simulated history, the tables agree
with each other, and ``truth`` records every effect that was planted so that
tests can check a model recovers it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shopkeeper.contract import TABLES
from shopkeeper.demo._ads import build_ads
from shopkeeper.demo._calendar import build_calendar
from shopkeeper.demo._catalog import build_catalog
from shopkeeper.demo._config import DemoConfig
from shopkeeper.demo._events import EVENTS, build_events
from shopkeeper.demo._fulfil import STATUS, fulfil
from shopkeeper.demo._images import DemoImages, build_images
from shopkeeper.demo._market import build_market
from shopkeeper.demo._orders import KIND_REBUY, SOURCES, simulate
from shopkeeper.demo._people import build_people, expected_organic
from shopkeeper.demo._reviews import build_reviews
from shopkeeper.demo._stock import build_inventory
from shopkeeper.demo._support import build_questions, faq_frame
from shopkeeper.demo._util import DAY, ids, iso_days, rng_for, strings, take, timestamps, width_for
from shopkeeper.demo._vocab import AD_CHANNELS, CARRIERS, CITIES, LOCATIONS

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1
Progress = Callable[[str, int, int], None]


@dataclass
class DemoShop:
    """A generated shop.

    ``tables`` maps every contract table name but ``product_images`` to a
    data frame with exactly the contract's columns, in contract order
    (datetimes are timezone-aware, +08:00; ``ad_spend.date`` is a naive
    midnight datetime); ``extras`` holds files outside the contract
    (``support_questions``); ``images`` the fashion products' photos, whose
    ``product_images`` rows name files that exist only once ``write_shop``
    has written them (None without the Fashion-MNIST data set); ``truth`` is
    the JSON-serialisable ground truth of every planted effect.
    """

    config: DemoConfig
    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    images: DemoImages | None = None

    def rows(self) -> dict[str, int]:
        """Row count per contract table, in contract order (product images included)."""
        counts = {name: len(frame) for name, frame in self.tables.items()}
        counts["product_images"] = 0 if self.images is None else len(self.images.product_id)
        return {t.name: counts[t.name] for t in TABLES}


def generate(config: DemoConfig | None = None, progress: Progress | None = None) -> DemoShop:
    """Simulate the shop described by ``config`` (default size when omitted).

    ``progress(step, done, total)`` is called as the work advances. The same
    configuration always gives the same shop.
    """
    cfg = config or DemoConfig()
    began = time.perf_counter()
    seed = cfg.seed

    def step(name: str, done: int = 1, total: int = 1) -> None:
        if progress is not None:
            progress(name, done, total)

    cal = build_calendar(cfg.start_date, cfg.days)
    cat = build_catalog(rng_for(seed, "catalog"), cfg.products, cfg.days)
    images, images_truth = build_images(rng_for(seed, "images"), cat)
    step("catalog")
    ppl = build_people(rng_for(seed, "people"), cfg.customers, cal, cfg.order_rate)
    step("customers")
    mkt = build_market(rng_for(seed, "market"), cal, cat, ppl.store_loc)
    organic_guess = expected_organic(ppl, cal)
    ads = build_ads(rng_for(seed, "ads"), cal, cfg.customers, organic_guess)
    step("market")
    o = simulate(rng_for(seed, "orders"), cal, cat, ppl, mkt, ads, cfg.guest_share, progress)
    now = cfg.days * DAY - 1
    f = fulfil(rng_for(seed, "fulfil"), cal, cat, ppl, o, now)
    step("fulfilment")
    ev = build_events(rng_for(seed, "events"), cal, cat, ppl, mkt, o, cfg.events_per_line, now)
    step("events")
    rv = build_reviews(rng_for(seed, "reviews"), cat, ppl, o, f, cfg.review_rate, now)
    step("reviews")
    inventory = build_inventory(rng_for(seed, "inventory"), cat, mkt, o, f, cfg.days)
    order_ids = np.asarray(
        ids("SO-", np.arange(1, o.n + 1), width_for(o.n, 7)).to_numpy(zero_copy_only=False),
        dtype=object,
    )
    n_questions = cfg.support_questions if cfg.support_questions is not None else cfg.customers // 7
    questions, q_truth = build_questions(
        rng_for(seed, "support"), cal, cat, ppl, o, f, order_ids, n_questions, now
    )
    step("support")

    start = cfg.start_date
    cust_ids = pa.array(ppl.customer_id, type=pa.string())
    prod_ids = pa.array(cat.product_id, type=pa.string())
    loc_ids = [x[0] for x in LOCATIONS]

    def ref(values: pa.Array, idx: np.ndarray) -> pd.Series:
        idx = np.asarray(idx, dtype=np.int64)
        return strings(values.take(pa.array(idx, mask=idx < 0)))

    products = cat.table.copy()
    products["price"] = mkt.list_new
    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": ref(cust_ids, o.cust),
            "ordered_at": timestamps(start, o.sec),
            "location_id": strings(take(loc_ids, f.location)),
            "status": strings(take(STATUS, f.status)),
            "promised_at": timestamps(start, f.promised),
            "shipped_at": timestamps(start, f.shipped),
            "delivered_at": timestamps(start, f.delivered),
            "carrier": strings(take(list(CARRIERS), f.carrier)),
            "ship_city": strings(take([c[0] for c in CITIES], f.ship_city)),
        }
    )
    order_lines = pd.DataFrame(
        {
            "order_id": order_ids[o.line_order],
            "product_id": cat.product_id[o.line_prod],
            "quantity": o.line_qty,
            "unit_price": o.unit_price,
            "discount": o.discount,
        }
    )
    n_ev = len(ev["sec"])
    events = pd.DataFrame(
        {
            "event_id": strings(ids("E-", np.arange(1, n_ev + 1), width_for(n_ev, 8))),
            "at": timestamps(start, ev["sec"]),
            "event": strings(take(EVENTS, ev["kind"])),
            "customer_id": ref(cust_ids, ev["cust"]),
            "session_id": strings(
                ids("S-", ev["session"] + 1, width_for(int(ev["session"].max(initial=0)) + 1, 7))
            ),
            "product_id": ref(prod_ids, ev["prod"]),
            "query": strings(ev["query"]),
        }
    )
    scans = f.scans
    shipment_events = pd.DataFrame(
        {
            "order_id": order_ids[scans["order_idx"].to_numpy()],
            "at": timestamps(start, scans["at"].to_numpy()),
            "status": scans["status"],
            "location": scans["location"],
            "carrier": scans["carrier"],
        }
    )
    n_rv = len(rv["prod"])
    reviews = pd.DataFrame(
        {
            "review_id": strings(ids("R-", np.arange(1, n_rv + 1), width_for(n_rv, 6))),
            "product_id": cat.product_id[rv["prod"]],
            "text": strings(rv["text"]),
            "created_at": timestamps(start, rv["created"]),
            "rating": rv["rating"].astype(np.int64),
            "customer_id": ref(cust_ids, rv["cust"]),
            "lang": rv["lang"],
        }
    )
    dates = np.datetime64(start.isoformat(), "D") + np.arange(cfg.days)
    ad_spend = pd.DataFrame(
        {
            "date": np.repeat(dates.astype("datetime64[s]"), len(AD_CHANNELS)),
            "channel": np.tile(np.array(AD_CHANNELS, dtype=object), cfg.days),
            "spend": ads.spend.T.ravel(),
        }
    )
    faq = faq_frame()
    n_q = len(questions)
    support = pd.DataFrame(
        {
            "question_id": strings(ids("Q-", np.arange(1, n_q + 1), width_for(n_q, 5))),
            "asked_at": timestamps(start, questions["asked_at"].to_numpy()),
            "customer_id": ref(cust_ids, questions["customer"].to_numpy()),
            "order_id": strings(
                pa.array(order_ids, type=pa.string()).take(
                    pa.array(questions["order"].to_numpy(), mask=questions["order"].to_numpy() < 0)
                )
            ),
            "product_id": ref(prod_ids, questions["product"].to_numpy()),
            "lang": questions["lang"],
            "intent": questions["intent"],
            "text": questions["text"],
            "sentiment": questions["sentiment"],
            "escalate": questions["escalate"],
            "faq_id": questions["faq_id"],
        }
    )

    tables = {
        "products": products,
        "customers": ppl.table,
        "locations": ppl.locations,
        "orders": orders,
        "order_lines": order_lines,
        "events": events,
        "inventory": inventory,
        "shipment_events": shipment_events,
        "promotions": mkt.promotions,
        "reviews": reviews,
        "ad_spend": ad_spend,
        "faq": faq,
    }
    tables = {
        t.name: tables[t.name][list(t.column_names)].reset_index(drop=True)
        for t in TABLES
        if t.name in tables
    }

    truth = _truth(cfg, cal, cat, ppl, mkt, ads, o, f, rv, q_truth, order_ids)
    truth["images"] = images_truth
    seconds = time.perf_counter() - began
    log.info(
        "generated demo shop: %s in %.1fs",
        ", ".join(f"{k}={len(v):,}" for k, v in tables.items()),
        seconds,
    )
    step("done")
    return DemoShop(cfg, tables, truth, {"support_questions": support}, images)


def _truth(
    cfg: DemoConfig,
    cal: Any,
    cat: Any,
    ppl: Any,
    mkt: Any,
    ads: Any,
    o: Any,
    f: Any,
    rv: dict[str, Any],
    q_truth: dict[str, Any],
    order_ids: np.ndarray,
) -> dict[str, Any]:
    start = cfg.start_date
    live = ~f.cancelled
    realized = np.bincount(o.channel[(o.channel >= 0) & live], minlength=len(AD_CHANNELS))
    revenue = np.bincount(
        o.channel[(o.channel >= 0) & live],
        f.value[(o.channel >= 0) & live],
        minlength=len(AD_CHANNELS),
    )
    mean_qty = np.bincount(o.line_prod, o.line_qty, cat.n) / np.maximum(
        np.bincount(o.line_prod, minlength=cat.n), 1
    )
    stockouts = []
    per_prod_days: dict[int, int] = {}
    for p, s, e in mkt.stockouts:
        per_prod_days[p] = per_prod_days.get(p, 0) + e - s + 1
    for p, s, e in mkt.stockouts:
        share = (e - s + 1) / per_prod_days[p]
        stockouts.append(
            {
                "product_id": str(cat.product_id[p]),
                "location_id": None,  # the product was out everywhere
                "first_day": iso_days(start, np.array([s]))[0],
                "last_day": iso_days(start, np.array([e]))[0],
                "still_out": bool(e == cfg.days - 1),
                "expected_lost_units": round(
                    float(o.lost_choices[p] * share * max(mean_qty[p], 1.0)), 1
                ),
                "lost_repurchases": round(o.lost_rebuys[p] * share),
            }
        )
    pairs = cat.truth()["co_purchase_pairs"]
    by_prod = np.argsort(o.line_prod, kind="stable")
    bounds = np.searchsorted(o.line_prod[by_prod], np.arange(cat.n + 1))
    pid_index = {str(x): i for i, x in enumerate(cat.product_id)}
    n_orders = o.n
    for pair in pairs:
        a, b = pid_index[pair["antecedent"]], pid_index[pair["consequent"]]
        oa = o.line_order[by_prod[bounds[a] : bounds[a + 1]]]
        ob = o.line_order[by_prod[bounds[b] : bounds[b + 1]]]
        both = len(np.intersect1d(oa, ob))
        pair["orders_with_antecedent"] = len(oa)
        pair["orders_with_both"] = both
        pair["confidence"] = round(both / len(oa), 4) if len(oa) else None
        pair["lift"] = (
            round(both * n_orders / (len(oa) * len(ob)), 3) if len(oa) and len(ob) else None
        )
    catalog_truth = cat.truth()
    catalog_truth["co_purchase_pairs"] = pairs
    source_counts = {name: int((o.source == i).sum()) for i, name in enumerate(SOURCES)}
    return {
        "generator": {"name": "shopkeeper.demo", "version": GENERATOR_VERSION},
        "seed": cfg.seed,
        "config": cfg.to_dict(),
        "window": {
            "start": start.isoformat(),
            "end": iso_days(start, np.array([cfg.days - 1]))[0],
            "now": iso_days(start, np.array([cfg.days - 1]))[0] + "T23:59:59+08:00",
            "timezone": "+08:00",
        },
        "seasonality": cal.truth(),
        **catalog_truth,
        "consumables": {
            "rule": "after buying a consumable, a registered customer re-buys the same product "
            "after cycle_days * quantity**0.6 * lognormal(0, 0.18) days with probability "
            "rebuy_prob, if still active and the product is in stock",
            "rebuy_prob_by_top_category": {t: float(v) for t, v in _rebuy_by_top(cat).items()},
            "repurchase_lines": int((o.line_kind == KIND_REBUY).sum()),
        },
        "customers": ppl.truth(o.churn_day, cfg.days),
        "orders": {
            "count": int(o.n),
            "lines": len(o.line_order),
            "by_source": source_counts,
            "guest_share": round(float((o.cust < 0).mean()), 4),
            "store_share": round(float((o.variant > 0).mean()), 4),
            "organic_expected_per_day": [round(float(x), 2) for x in o.organic_expected],
        },
        "promotions": mkt.truth(cat, start),
        "stockouts": stockouts,
        "advertising": ads.truth(realized, revenue),
        "delivery": f.truth,
        "reviews": rv["truth"],
        "support": q_truth,
    }


def _rebuy_by_top(cat: Any) -> dict[str, float]:
    from shopkeeper.demo._vocab import TOPS

    return {t.name: t.rebuy for t in TOPS if t.rebuy > 0}
