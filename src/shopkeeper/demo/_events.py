"""The click-stream: views, carts, purchases and searches consistent with the orders.

Every online order line has a purchase event at the moment of the order;
most also have a view and an add-to-cart shortly before. Browsing sessions
without an order, extra views in buying sessions, searches in Chinese or
English, and views of products while they were out of stock make up the
rest, up to about ``events_per_line`` events per order line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.demo._calendar import HOURLY, Calendar
from shopkeeper.demo._catalog import Catalog, choice_table, draw
from shopkeeper.demo._market import Market
from shopkeeper.demo._orders import Orders
from shopkeeper.demo._people import N_SEGMENTS, People
from shopkeeper.demo._util import DAY, join, pick, take
from shopkeeper.demo._vocab import SEARCH_EXTRA

EVENTS = ("view", "cart", "purchase", "search")
VIEW, CART, PURCHASE, SEARCH = range(4)
MINUTE = 60.0


class _Acc:
    """Collects event columns from the parts before they are stacked."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        sec: np.ndarray,
        kind: int,
        cust: np.ndarray,
        session: np.ndarray,
        prod: np.ndarray,
        search_lang_en: np.ndarray | None = None,
    ) -> None:
        n = len(sec)
        lang = np.zeros(n, dtype=bool) if search_lang_en is None else search_lang_en
        self.parts.append((sec, np.full(n, kind), cust, session, prod, lang))

    def stack(self) -> list[np.ndarray]:
        return [np.concatenate([p[i] for p in self.parts]) for i in range(6)]


def build_events(
    rng: np.random.Generator,
    cal: Calendar,
    cat: Catalog,
    ppl: People,
    mkt: Market,
    o: Orders,
    events_per_line: float,
    now: float,
) -> dict[str, Any]:
    """Event columns (by index) sorted by time; the generator turns them into a table."""
    acc = _Acc()
    online = np.flatnonzero(o.variant == 0)
    session_of_order = np.full(o.n, -1)
    session_of_order[online] = np.arange(len(online))
    n_sessions = len(online)
    l_on = o.variant[o.line_order] == 0
    lo = o.line_order[l_on]
    lp = o.line_prod[l_on]
    lc = o.cust[lo]
    ls = session_of_order[lo]
    t = o.sec[lo]
    acc.add(t, PURCHASE, lc, ls, lp)
    m = rng.random(len(lo)) < 0.55
    acc.add(t[m] - rng.uniform(2, 25, int(m.sum())) * MINUTE, CART, lc[m], ls[m], lp[m])
    m = rng.random(len(lo)) < 0.45
    acc.add(t[m] - rng.uniform(5, 40, int(m.sum())) * MINUTE, VIEW, lc[m], ls[m], lp[m])
    # A search before some orders, for the first item's kind of product.
    starts = o.line_start()[online]
    m = rng.random(len(online)) < 0.3
    so = online[m]
    first_prod = o.line_prod[starts[m]]
    acc.add(
        o.sec[so] - rng.uniform(40, 55, len(so)) * MINUTE,
        SEARCH,
        o.cust[so],
        session_of_order[so],
        first_prod,
        _writes_en(rng, ppl, o.cust[so]),
    )

    base = len(lo) * (1 + 0.55 + 0.45) + 0.3 * len(online)
    extra = max(0.0, events_per_line * len(o.line_order) - base)
    q = choice_table(cat, cat.base_weight)
    # Extra views in buying sessions: other products of the same kind.
    n_more = int(0.25 * extra)
    if len(online) and n_more:
        which = online[rng.integers(0, len(online), n_more)]
        starts_all = o.line_start()
        counts = np.diff(np.append(starts_all, len(o.line_order)))
        line = starts_all[which] + np.floor(rng.random(n_more) * counts[which]).astype(int)
        seg = np.where(
            o.cust[which] >= 0,
            ppl.segment[np.maximum(o.cust[which], 0)],
            rng.integers(0, N_SEGMENTS, n_more),
        )
        prod = draw(rng, q, seg, cat.sub[o.line_prod[line]], cat)
        ok = mkt.on_sale[o.day[which], prod]
        acc.add(
            o.sec[which][ok] - rng.uniform(3, 40, int(ok.sum())) * MINUTE,
            VIEW,
            o.cust[which][ok],
            session_of_order[which][ok],
            prod[ok],
        )

    # Browsing sessions that end without an order: most of the click-stream, as
    # in a real shop, where most sessions are a view or two and leave. Each
    # holds about 1.8 views, 0.3 searches and 0.1 carts.
    n_browse = int(0.75 * extra / 2.2)
    if n_browse:
        day = pick(rng, cal.multiplier, n_browse)
        sec = day * DAY + (pick(rng, HOURLY, n_browse) + rng.random(n_browse)) * 3600.0
        cust = pick(rng, ppl.rate, n_browse)
        anonymous = (ppl.created_day[cust] >= day) | (rng.random(n_browse) < 0.25)
        cust = np.where(anonymous, -1, cust)
        session = n_sessions + np.arange(n_browse)
        n_sessions += n_browse
        views = 1 + rng.poisson(0.8, n_browse)
        v_sess = np.repeat(np.arange(n_browse), views)
        v_cust = cust[v_sess]
        u = rng.random(len(v_sess))
        reg = v_cust >= 0
        sub = np.empty(len(v_sess), dtype=np.int64)
        sub[reg] = (
            np.searchsorted(ppl.pref_flat, v_cust[reg] + u[reg], "right") - v_cust[reg] * cat.n_subs
        )
        sub[~reg] = np.searchsorted(ppl.guest_prefs, u[~reg], "right")
        sub = np.clip(sub, 0, cat.n_subs - 1)
        seg = np.where(
            reg, ppl.segment[np.maximum(v_cust, 0)], rng.integers(0, N_SEGMENTS, len(v_sess))
        )
        prod = draw(rng, q, seg, sub, cat)
        v_sec = sec[v_sess] + rng.uniform(0, 30, len(v_sess)) * MINUTE
        ok = mkt.on_sale[day[v_sess], prod]
        acc.add(v_sec[ok], VIEW, v_cust[ok], session[v_sess][ok], prod[ok])
        first_view = np.searchsorted(v_sess, np.arange(n_browse))
        m = rng.random(n_browse) < 0.3
        acc.add(
            sec[m] - rng.uniform(0.5, 3, int(m.sum())) * MINUTE,
            SEARCH,
            cust[m],
            session[m],
            prod[first_view[m]],
            _writes_en(rng, ppl, cust[m]),
        )
        m = (rng.random(n_browse) < 0.1) & ok[first_view]
        acc.add(
            v_sec[first_view[m]] + rng.uniform(1, 5, int(m.sum())) * MINUTE,
            CART,
            cust[m],
            session[m],
            prod[first_view[m]],
        )

    # While a product is out of stock people still look at it (and leave).
    for p, s0, e0 in mkt.stockouts:
        span = e0 - s0 + 1
        total_days = sum(e - s + 1 for pp, s, e in mkt.stockouts if pp == p)
        k = rng.poisson(1.5 * o.lost_choices[p] * span / max(total_days, 1))
        if k == 0:
            continue
        day = s0 + rng.integers(0, span, k)
        sec = day * DAY + (pick(rng, HOURLY, k) + rng.random(k)) * 3600.0
        cust = pick(rng, ppl.rate, k)
        cust = np.where(ppl.created_day[cust] >= day, -1, cust)
        acc.add(sec, VIEW, cust, n_sessions + np.arange(k), np.full(k, p))
        n_sessions += k

    sec, kind, cust, session, prod, lang_en = acc.stack()
    # Browsing before the window's first day is outside the export: drop it.
    keep = (sec >= 0) & (sec <= now)
    cols: list[np.ndarray] = [x[keep] for x in (sec, kind, cust, session, prod, lang_en)]
    sec, kind, cust, session, prod, lang_en = cols
    sec = np.floor(sec)
    # Before opening an account a shopper browses anonymously.
    known = cust >= 0
    early = known & (sec < ppl.created_sec[np.maximum(cust, 0)])
    cust = np.where(early, -1, cust)
    order = np.lexsort((np.arange(len(sec)), sec))
    cols = [x[order] for x in (sec, kind, cust, session, prod, lang_en)]
    sec, kind, cust, session, prod, lang_en = cols
    query = _queries(rng, cat, kind == SEARCH, prod, lang_en)
    prod = np.where(kind == SEARCH, -1, prod)  # a search names words, not a product
    return {
        "sec": sec,
        "kind": kind,
        "cust": cust,
        "session": session,
        "prod": prod,
        "query": query,
    }


def _writes_en(rng: np.random.Generator, ppl: People, cust: np.ndarray) -> np.ndarray:
    known = cust >= 0
    return np.where(known, ppl.lang_en[np.maximum(cust, 0)], rng.random(len(cust)) < 0.15)


def _queries(
    rng: np.random.Generator,
    cat: Catalog,
    is_search: np.ndarray,
    prod: np.ndarray,
    lang_en: np.ndarray,
) -> pa.Array:
    """Search words: the product noun in the shopper's language, sometimes with a qualifier."""
    idx = np.flatnonzero(is_search)
    p = prod[idx]
    extra = rng.integers(0, len(SEARCH_EXTRA), len(idx))
    zh = join(cat.item_zh.take(pa.array(p)), take([e[0] for e in SEARCH_EXTRA], extra))
    en = pc.utf8_trim_whitespace(
        join(
            take([e[1] for e in SEARCH_EXTRA], extra),
            " ",
            pc.utf8_lower(cat.item_en.take(pa.array(p))),
        )
    )
    words = pc.if_else(pa.array(lang_en[idx]), en, zh)
    pos = np.full(len(prod), -1)
    pos[idx] = np.arange(len(idx))
    return words.take(pa.array(pos, mask=pos < 0))
