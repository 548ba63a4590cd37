"""The order simulation: who orders on each day and what goes into the basket.

One pass over the days; everything within a day is vectorised over customers
and order lines. Per day:

1. alive customers order with probability ``1 - exp(-rate * multiplier[d])``,
   new accounts place their first order, advertising adds Poisson extra
   orders per channel, guests and walk-in shoppers order too;
2. each order gets ``1 + Poisson`` items; each item's sub-category is drawn
   from the customer's lasting tastes, the product from that day's choice
   weights of the customer's segment (popularity x price-tier fit x style x
   price response x promotion lift x availability);
3. complements join the basket with their planted probability;
4. consumables schedule a re-purchase one cycle later (the same product),
   which lands in that day's order of the customer or opens a new one;
5. every customer who ordered drops out for good with their dropout chance.

An order that advertising brought is an extra purchase that changes nothing
after it: a guest's, or a customer's second order on a day they buy anyway,
which no re-purchase joins or comes from. So the planted return of a
channel, the revenue of its orders over its spend, is its causal effect on
sales, and the customers' buying days are what they would have been.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shopkeeper.demo._ads import Ads
from shopkeeper.demo._calendar import HOURLY, HOURLY_RUSH, Calendar
from shopkeeper.demo._catalog import Catalog, choice_table, draw
from shopkeeper.demo._market import Market
from shopkeeper.demo._people import N_SEGMENTS, People
from shopkeeper.demo._util import DAY, pick

SOURCES = ("organic", "first", "ad", "guest", "replenish", "walk_in")
ORGANIC, FIRST, AD, GUEST, REPLENISH, WALK_IN = range(len(SOURCES))
KIND_BROWSE, KIND_COMPLEMENT, KIND_REBUY = 0, 1, 2
STORE_SHARE = 0.2  # share of a store-city customer's orders placed in the store
BASKET_ONLINE = 1.2  # mean extra items per online order on an ordinary day
BASKET_STORE = 1.0
STORE_HOURS = np.array(
    [0.0] * 10 + [1.0, 1.3, 1.5, 1.3, 1.2, 1.2, 1.3, 1.5, 1.8, 2.0, 1.6, 0.8, 0.0, 0.0]
)

Progress = Callable[[str, int, int], None]


@dataclass
class Orders:
    """Orders sorted by time and their lines sorted by (order, product).

    ``variant``: 0 online, ``k`` > 0 placed in store ``k - 1``; ``channel``:
    the advertising channel that brought an ad-driven order, else -1.
    """

    day: np.ndarray
    sec: np.ndarray  # seconds since the window's first midnight
    cust: np.ndarray  # -1 for guests and walk-ins
    variant: np.ndarray
    source: np.ndarray
    channel: np.ndarray
    line_order: np.ndarray
    line_prod: np.ndarray
    line_qty: np.ndarray
    line_kind: np.ndarray
    unit_price: np.ndarray
    discount: np.ndarray
    churn_day: np.ndarray
    lost_choices: np.ndarray  # expected item picks lost to stock-outs, per product
    lost_rebuys: np.ndarray  # re-purchases that found the product out of stock
    organic_expected: np.ndarray

    @property
    def n(self) -> int:
        return len(self.day)

    def line_start(self) -> np.ndarray:
        """Index of each order's first line (lines are grouped by order)."""
        return np.searchsorted(self.line_order, np.arange(self.n))


class _Buckets:
    """Re-purchases waiting for their day: per day a list of (customer, product) arrays."""

    def __init__(self, days: int) -> None:
        self.days = days
        self.items: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(days)]

    def add(self, due: np.ndarray, cust: np.ndarray, prod: np.ndarray) -> None:
        keep = due < self.days
        due, cust, prod = due[keep], cust[keep], prod[keep]
        if len(due) == 0:
            return
        order = np.argsort(due, kind="stable")
        due, cust, prod = due[order], cust[order], prod[order]
        days, first = np.unique(due, return_index=True)
        bounds = [*first[1:], len(due)]
        for d, a, b in zip(days, first, bounds, strict=True):
            self.items[d].append((cust[a:b], prod[a:b]))

    def pop(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        got = self.items[d]
        self.items[d] = []
        if not got:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return (np.concatenate([g[0] for g in got]), np.concatenate([g[1] for g in got]))


def simulate(
    rng: np.random.Generator,
    cal: Calendar,
    cat: Catalog,
    ppl: People,
    mkt: Market,
    ads: Ads,
    guest_share: float,
    progress: Progress | None = None,
) -> Orders:
    """Run the shop day by day and return every order and order line."""
    days, n_prod, n_cust = cal.days, cat.n, ppl.n
    n_sub = cat.n_subs
    sub_of = cat.sub
    seg_pop = np.bincount(ppl.segment, minlength=N_SEGMENTS).astype(float)
    max_display = float(mkt.display.max()) if mkt.display.size else 1.0
    first_by_day = _group_by_day(ppl.created_day, ppl.first_order, days)
    alive = ppl.alive0.copy()
    churn = np.full(n_cust, -1)
    buckets = _Buckets(days)
    guest_ratio = guest_share / (1 - guest_share)
    n_stores = mkt.display.shape[0]
    store_rate = np.array([ppl.rate[(ppl.store == s) & ppl.alive0].sum() for s in range(n_stores)])
    lost_choices = np.zeros(n_prod)
    lost_rebuys = np.zeros(n_prod)
    organic_expected = np.zeros(days)

    out_o: list[tuple[np.ndarray, ...]] = []
    out_l: list[tuple[np.ndarray, ...]] = []
    n_orders = 0
    for d in range(days):
        mult = cal.multiplier[d]
        elig = alive & (ppl.created_day < d)
        rate = np.where(elig, ppl.rate * mult, 0.0)
        organic_expected[d] = rate.sum()
        buy = np.flatnonzero(rng.random(n_cust) < -np.expm1(-rate))
        first = first_by_day[d]
        first = first[alive[first]]
        # Advertising: extra orders per channel, some from guests, the others a
        # second order, minutes after the first, from a customer buying today
        # anyway (brought back by the ad): the days a customer buys on, which
        # their dropout and every lifetime model run on, stay as they were.
        n_ad = rng.poisson(ads.expected_orders[:, d])
        ad_channel = np.repeat(np.arange(len(n_ad)), n_ad)
        ad_guest = rng.random(len(ad_channel)) < guest_share
        n_ad_cust = int((~ad_guest).sum())
        if len(buy) and n_ad_cust:
            ad_parent = rng.integers(0, len(buy), n_ad_cust)
            ad_cust = buy[ad_parent]
        else:
            ad_parent = ad_cust = np.zeros(0, dtype=np.int64)
            ad_channel, ad_guest = ad_channel[ad_guest], ad_guest[ad_guest]
        # Guests in proportion to the organic orders: the ads' own guests are drawn
        # above, so the planted advertising effect is exactly the channel orders.
        n_guest = rng.poisson(guest_ratio * organic_expected[d])
        walk = rng.poisson(0.5 * STORE_SHARE * store_rate * mult)

        cust = np.concatenate([buy, first, ad_cust])
        source = np.concatenate(
            [np.full(len(buy), ORGANIC), np.full(len(first), FIRST), np.full(len(ad_cust), AD)]
        )
        channel = np.concatenate([np.full(len(buy) + len(first), -1), ad_channel[~ad_guest]])
        store = ppl.store[cust]
        in_store = (store >= 0) & (rng.random(len(cust)) < STORE_SHARE) & (source != AD)
        variant = np.where(in_store, store + 1, 0)
        n_walk = int(walk.sum())
        cust = np.concatenate([cust, np.full(n_guest + int(ad_guest.sum()) + n_walk, -1)])
        source = np.concatenate(
            [
                source,
                np.full(n_guest, GUEST),
                np.full(int(ad_guest.sum()), AD),
                np.full(n_walk, WALK_IN),
            ]
        )
        channel = np.concatenate(
            [channel, np.full(n_guest, -1), ad_channel[ad_guest], np.full(n_walk, -1)]
        )
        variant = np.concatenate(
            [
                variant,
                np.zeros(n_guest + int(ad_guest.sum()), dtype=int),
                np.repeat(np.arange(n_stores) + 1, walk),
            ]
        )
        segment = np.where(
            cust >= 0, ppl.segment[np.maximum(cust, 0)], pick(rng, seg_pop, len(cust))
        )

        # Re-purchases due today: join the customer's online order of the day
        # or open their own order.
        due_c, due_p = buckets.pop(d)
        ok = alive[due_c]
        due_c, due_p = due_c[ok], due_p[ok]
        gone = ~mkt.available[d, due_p]
        np.add.at(lost_rebuys, due_p[gone], 1.0)
        due_c, due_p = due_c[~gone], due_p[~gone]
        # An ad order leaves the customer's future as it was: no re-purchase joins it
        # or comes from it (and its customer buys today anyway), so the revenue of
        # the ad orders is exactly what the channel adds: the planted return is causal.
        online_reg = np.flatnonzero((cust >= 0) & (variant == 0) & (source != AD))
        uniq, at = np.unique(cust[online_reg], return_index=True)
        if len(uniq):
            pos = np.minimum(np.searchsorted(uniq, due_c), len(uniq) - 1)
            hit = uniq[pos] == due_c
        else:
            pos = np.zeros(len(due_c), dtype=np.int64)
            hit = np.zeros(len(due_c), dtype=bool)
        rebuy_order = np.empty(len(due_c), dtype=np.int64)
        rebuy_order[hit] = online_reg[at[pos[hit]]]
        new_c, inv = np.unique(due_c[~hit], return_inverse=True)
        rebuy_order[~hit] = len(cust) + inv
        n_browse_orders = len(cust)
        cust = np.concatenate([cust, new_c])
        source = np.concatenate([source, np.full(len(new_c), REPLENISH)])
        channel = np.concatenate([channel, np.full(len(new_c), -1)])
        variant = np.concatenate([variant, np.zeros(len(new_c), dtype=int)])
        segment = np.concatenate([segment, ppl.segment[new_c]])

        # Today's choice weights, turned into one cumulative array so that a
        # single searchsorted draws a product for every line at once.
        factor = (mkt.price_factor(d, cat.elasticity) * mkt.feature[d]) * mkt.available[d]
        weights = cat.base_weight * factor
        q = choice_table(cat, weights)

        # Browse lines.
        extra = BASKET_ONLINE + cal.basket[d]
        k = 1 + rng.poisson(np.where(variant[:n_browse_orders] > 0, BASKET_STORE, extra))
        l_order = np.repeat(np.arange(n_browse_orders), k)
        l_cust = cust[l_order]
        l_seg = segment[l_order]
        reg = l_cust >= 0
        u = rng.random(len(l_order))
        l_sub = np.empty(len(l_order), dtype=np.int64)
        rc = l_cust[reg]
        l_sub[reg] = np.searchsorted(ppl.pref_flat, rc + u[reg], "right") - rc * n_sub
        l_sub[~reg] = np.searchsorted(ppl.guest_prefs, u[~reg], "right")
        l_sub = np.clip(l_sub, 0, n_sub - 1)
        l_prod = draw(rng, q, l_seg, l_sub, cat)
        # In a store, displays lift demand: rejection sampling against the
        # online choice keeps one cumulative array for all variants.
        l_var = variant[l_order]
        todo = np.flatnonzero(l_var > 0)
        for _ in range(30):
            if len(todo) == 0:
                break
            lift = mkt.display[l_var[todo] - 1, d, l_prod[todo]]
            rejected = rng.random(len(todo)) * max_display >= lift
            todo = todo[rejected]
            l_prod[todo] = draw(rng, q, l_seg[todo], l_sub[todo], cat)
        n_line_picks = np.bincount(l_seg * n_sub + l_sub, minlength=N_SEGMENTS * n_sub)
        # Complements: the planted "bought together" pairs.
        comp = cat.complement[l_prod]
        with_comp = (comp >= 0) & (rng.random(len(l_prod)) < cat.complement_prob[l_prod])
        with_comp[with_comp] &= mkt.available[d, comp[with_comp]]
        c_order = l_order[with_comp]
        c_prod = comp[with_comp]

        all_order = np.concatenate([l_order, c_order, rebuy_order])
        all_prod = np.concatenate([l_prod, c_prod, due_p])
        all_kind = np.concatenate(
            [
                np.full(len(l_order), KIND_BROWSE),
                np.full(len(c_order), KIND_COMPLEMENT),
                np.full(len(due_p), KIND_REBUY),
            ]
        )
        consumable = cat.cycle_days[all_prod] > 0
        qty = 1 + np.where(
            consumable,
            rng.poisson(0.45 + 0.4 * cal.basket[d], len(all_prod)),
            rng.random(len(all_prod)) < 0.05,
        )
        qty = np.minimum(qty, 8)

        # Consumables come back one cycle later (longer for bigger quantities).
        all_cust = cust[all_order]
        again = (
            (all_cust >= 0)
            & (source[all_order] != AD)
            & (rng.random(len(all_prod)) < cat.rebuy_prob[all_prod])
        )
        cyc = cat.cycle_days[all_prod[again]] * qty[again] ** 0.6
        due = d + np.maximum(3, np.round(cyc * rng.lognormal(0.0, 0.18, len(cyc)))).astype(int)
        buckets.add(due, all_cust[again], all_prod[again])

        # Lost sales: what the stocked-out products would have sold today.
        out = np.flatnonzero(mkt.on_sale[d] & ~mkt.available[d])
        if len(out):
            full = cat.base_weight[:, out] * (
                mkt.price_factor(d, cat.elasticity)[out] * mkt.feature[d, out]
            )
            total_full = _sub_totals(weights, cat)
            np.add.at(total_full.T, sub_of[out], full.T)
            picks = n_line_picks.reshape(N_SEGMENTS, n_sub)[:, sub_of[out]]
            lost_choices[out] += (picks * full / total_full[:, sub_of[out]]).sum(axis=0)

        # Dropout after ordering (BG/NBD): once gone, never back.
        who = np.unique(cust[cust >= 0])
        gone_now = who[rng.random(len(who)) < ppl.drop[who]]
        alive[gone_now] = False
        churn[gone_now] = d

        # Each ad order of a customer points at their organic order of the day.
        parent = np.full(len(cust), -1, dtype=np.int64)
        at_ads = len(buy) + len(first)
        parent[at_ads : at_ads + len(ad_cust)] = n_orders + ad_parent
        out_o.append((np.full(len(cust), d), cust, variant, source, channel, parent))
        out_l.append((all_order + n_orders, all_prod, qty, all_kind))
        n_orders += len(cust)
        if progress is not None and (d % 30 == 0 or d == days - 1):
            progress("orders", d + 1, days)

    o = [np.concatenate([x[i] for x in out_o]) for i in range(6)]
    ln = [np.concatenate([x[i] for x in out_l]) for i in range(4)]
    return _finish(rng, cal, mkt, o, ln, churn, lost_choices, lost_rebuys, organic_expected, ppl)


def _sub_totals(weights: np.ndarray, cat: Catalog) -> np.ndarray:
    """Total choice weight per (segment, sub-category)."""
    cs = np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights, axis=1)], axis=1)
    return cs[:, cat.sub_end] - cs[:, cat.sub_start]


def _group_by_day(day: np.ndarray, mask: np.ndarray, days: int) -> list[np.ndarray]:
    idx = np.flatnonzero(mask & (day >= 0) & (day < days))
    idx = idx[np.argsort(day[idx], kind="stable")]
    bounds = np.searchsorted(day[idx], np.arange(days + 1))
    return [idx[bounds[d] : bounds[d + 1]] for d in range(days)]


def _finish(
    rng: np.random.Generator,
    cal: Calendar,
    mkt: Market,
    o: list[np.ndarray],
    ln: list[np.ndarray],
    churn: np.ndarray,
    lost_choices: np.ndarray,
    lost_rebuys: np.ndarray,
    organic_expected: np.ndarray,
    ppl: People,
) -> Orders:
    day, cust, variant, source, channel, parent = o
    n = len(day)
    # Time of day: the usual curve, a midnight rush on festival days, shop
    # hours in stores, and first orders minutes after the account opened.
    hour = np.where(cal.rush[day], pick(rng, HOURLY_RUSH, n), pick(rng, HOURLY, n))
    hour = np.where(variant > 0, pick(rng, STORE_HOURS, n), hour)
    sec = day * DAY + hour * 3600.0 + np.floor(rng.random(n) * 3600.0)
    first = source == FIRST
    sec[first] = np.minimum(
        np.floor(ppl.created_sec[cust[first]] + rng.uniform(120, 1200, int(first.sum()))),
        (day[first] + 1) * DAY - 1,
    )
    child = np.flatnonzero(parent >= 0)
    sec[child] = np.minimum(
        sec[parent[child]] + np.floor(rng.uniform(60, 1800, len(child))),
        (day[child] + 1) * DAY - 1,
    )
    order = np.lexsort((np.arange(n), sec))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    day, cust, variant, source, channel, sec = (
        x[order] for x in (day, cust, variant, source, channel, sec)
    )

    l_order, l_prod, l_qty, l_kind = ln
    l_order = rank[l_order]
    # One line per (order, product): merge repeats, keeping the first kind.
    n_prod = len(mkt.list_start)
    key = l_order * n_prod + l_prod
    uniq, inv = np.unique(key, return_inverse=True)
    qty = np.bincount(inv, l_qty, len(uniq)).astype(np.int64)
    kind = np.full(len(uniq), KIND_REBUY)
    np.minimum.at(kind, inv, l_kind)
    line_order = uniq // n_prod
    line_prod = uniq % n_prod
    line_day = day[line_order]
    unit_price = np.where(
        line_day >= mkt.change_day[line_prod], mkt.list_new[line_prod], mkt.list_start[line_prod]
    )
    share = mkt.discount[line_day, line_prod].astype(float)
    gross = qty * unit_price
    discount = np.minimum(np.round(gross * share, 2), gross)
    return Orders(
        day=day,
        sec=sec,
        cust=cust,
        variant=variant,
        source=source,
        channel=channel,
        line_order=line_order,
        line_prod=line_prod,
        line_qty=qty,
        line_kind=kind,
        unit_price=unit_price,
        discount=discount,
        churn_day=churn,
        lost_choices=lost_choices,
        lost_rebuys=lost_rebuys,
        organic_expected=organic_expected,
    )
