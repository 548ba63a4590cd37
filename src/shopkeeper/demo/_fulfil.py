"""Fulfilment: where each order ships from, which carrier, when it arrives, and the scans.

Planted effects: carriers differ in transit time, spread, long delays and
lost parcels; distance and the load of festival peaks slow everything; the
Spring Festival shuts warehouses and carriers down for a week. Returns are
likelier for poor products and late parcels; cancellations for guests,
big baskets and brand-new accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.contract import ORDER_STATUSES, SHIPMENT_STATUSES
from shopkeeper.demo._calendar import Calendar
from shopkeeper.demo._catalog import Catalog
from shopkeeper.demo._orders import Orders
from shopkeeper.demo._people import People
from shopkeeper.demo._util import DAY, pick, strings, take
from shopkeeper.demo._vocab import CARRIERS, CITIES, HUBS, LOCATIONS

# carrier: (share of domestic parcels, median transit days nearby, log-sd,
# chance of a long delay, mean extra days of such a delay, chance of loss)
CARRIER_PARAMS: dict[str, tuple[float, float, float, float, float, float]] = {
    "SF Express": (0.27, 0.95, 0.25, 0.01, 2.0, 0.001),
    "JD Logistics": (0.23, 1.05, 0.30, 0.02, 2.5, 0.002),
    "ZTO Express": (0.30, 1.40, 0.35, 0.05, 3.0, 0.005),
    "YTO Express": (0.20, 1.50, 0.40, 0.07, 3.5, 0.008),
}
DISTANCE_FACTOR = np.array([1.0, 1.5, 2.2, 5.0])  # near, regional, remote, abroad
PROMISE_DAYS = np.array([3, 4, 6, 12])  # the shop promises by distance, whoever carries
HANDLING_HOURS = 14.0
# Statuses and scans are the contract's, in its order (the simulation indexes them).
STATUS = ORDER_STATUSES
SCAN = SHIPMENT_STATUSES
RETURN_QUALITY = 0.45  # return odds fall with product quality
RETURN_LATE = 1.0  # a late parcel doubles the return chance
CANCEL = {"base": 0.015, "guest": 0.05, "value_over_1000": 0.03, "new_account": 0.03}


@dataclass
class Fulfilment:
    """Per order (in order index): delivery facts the later parts read."""

    ship_city: np.ndarray  # index into CITIES, -1 for store orders
    location: np.ndarray  # index into LOCATIONS
    carrier: np.ndarray  # index into CARRIERS, -1 for store orders
    promised: np.ndarray  # seconds; NaN for store orders
    shipped: np.ndarray  # seconds; NaN when not shipped (yet)
    delivered: np.ndarray  # seconds; NaN when not delivered (yet)
    expected_delivery: np.ndarray  # when it arrives or would have arrived
    exception: np.ndarray  # seconds of an exception scan, NaN if none
    returned: np.ndarray  # seconds of the return scan, NaN if none
    status: np.ndarray  # index into STATUS
    cancelled: np.ndarray
    lost: np.ndarray
    late_days: np.ndarray  # delivered minus promised in days (NaN if not delivered)
    value: np.ndarray  # net order value
    scans: pd.DataFrame
    truth: dict[str, Any]


def fulfil(
    rng: np.random.Generator, cal: Calendar, cat: Catalog, ppl: People, o: Orders, now: float
) -> Fulfilment:
    """Ship every online order and write its parcel scans, as of ``now`` (seconds)."""
    n = o.n
    online = o.variant == 0
    reg = o.cust >= 0
    city_w = np.array([c[2] for c in CITIES])
    # Most customers ship home; some send gifts elsewhere.
    home = np.where(reg, ppl.city[np.maximum(o.cust, 0)], -1)
    elsewhere = pick(rng, city_w, n)
    ship_city = np.where(reg & (rng.random(n) < 0.92), home, elsewhere)
    ship_city = np.where(online, ship_city, -1)
    region = np.array([c[3] for c in CITIES])
    dist_of_city = np.array([c[4] for c in CITIES])
    wh_of_region = ppl.warehouse_of_region
    wh_of_city = np.array([wh_of_region[r] for r in region])
    store_loc = ppl.store_loc
    location = np.where(
        online, wh_of_city[np.maximum(ship_city, 0)], store_loc[np.maximum(o.variant - 1, 0)]
    )
    dist = np.where(online, dist_of_city[np.maximum(ship_city, 0)], 0)

    names = list(CARRIERS)
    params = np.array([CARRIER_PARAMS[c] for c in names])
    carrier = pick(rng, params[:, 0], n)
    carrier[dist == 3] = names.index("SF Express")  # the only one shipping abroad
    carrier = np.where(online, carrier, -1)
    c = np.maximum(carrier, 0)

    # Festival peaks overload warehouses and carriers.
    per_day = np.bincount(o.day[online], minlength=cal.days).astype(float)
    ratio = per_day / max(np.median(per_day), 1.0)
    load_day = 1.0 + 0.5 * np.maximum(0.0, ratio - 1.3)
    load = load_day[o.day]
    fest = cal.festival[o.day]

    ordered = o.sec
    promise = PROMISE_DAYS[dist] + np.floor(load - 1.0) + np.where(fest, 4, 0)
    promised = (o.day + promise + 1) * DAY - 1  # the last second of the promised day

    handling = HANDLING_HOURS * 3600.0 * rng.lognormal(0.0, 0.5, n) * load
    handling += np.where(fest, 72 * 3600.0, 0.0)
    shipped = _working_hours(ordered + handling, 8, 22, rng)
    tail = rng.random(n) < params[c, 3] * load
    transit = (
        params[c, 1]
        * DISTANCE_FACTOR[dist]
        * rng.lognormal(0.0, params[c, 2], n)
        * (1.0 + 0.3 * (load - 1.0))
    )
    transit += np.where(tail, rng.exponential(1.0, n) * params[c, 4] + 0.5, 0.0)
    transit += np.where(fest, 2.0, 0.0)
    arrive = _working_hours(shipped + transit * DAY, 9, 21, rng)

    # Net value per order, for the cancellation rule and the ground truth.
    net = o.line_qty * o.unit_price - o.discount
    value = np.bincount(o.line_order, net, n)
    new_account = reg & (o.day - ppl.created_day[np.maximum(o.cust, 0)] <= 1)
    p_cancel = (
        CANCEL["base"]
        + CANCEL["guest"] * ~reg
        + CANCEL["value_over_1000"] * (value > 1000)
        + CANCEL["new_account"] * new_account
    )
    cancelled = online & (rng.random(n) < p_cancel)
    lost = online & ~cancelled & (rng.random(n) < params[c, 5] * (1 + dist))
    late = arrive > promised

    # Returns: per line, likelier for poor quality and late parcels.
    lq = cat.quality[o.line_prod]
    p_line = cat.return_rate[o.line_prod] * np.exp(-RETURN_QUALITY * lq)
    p_line *= 1.0 + RETURN_LATE * late[o.line_order]
    p_line = np.clip(p_line, 0.0, 0.7)
    keep = np.bincount(o.line_order, np.log1p(-p_line), n)
    wants_return = online & ~cancelled & ~lost & (rng.random(n) < -np.expm1(keep))
    return_at = arrive + rng.uniform(2.0, 9.0, n) * DAY

    is_shipped = online & ~cancelled & (shipped <= now)
    is_delivered = is_shipped & ~lost & (arrive <= now)
    is_returned = is_delivered & wants_return & (return_at <= now)
    exception = np.where(
        online & ~cancelled & (tail | lost),
        shipped + transit * DAY * rng.uniform(0.3, 0.6, n),
        np.nan,
    )

    status = np.full(n, STATUS.index("completed"))  # stores: paid and taken home
    status[online] = STATUS.index("paid")
    status[online & (ordered > now - 1800)] = STATUS.index("placed")
    status[is_shipped] = STATUS.index("shipped")
    status[is_delivered] = STATUS.index("delivered")
    status[is_delivered & (arrive < now - 7 * DAY)] = STATUS.index("completed")
    status[is_returned] = STATUS.index("returned")
    status[cancelled] = STATUS.index("cancelled")
    status[is_shipped & lost & (shipped + 10 * DAY <= now)] = STATUS.index("refunded")

    nan = np.full(n, np.nan)
    shipped_col = np.where(is_shipped, shipped, nan)
    delivered_col = np.where(is_delivered, arrive, nan)
    late_days = np.where(is_delivered, (arrive - promised) / DAY, nan)
    truth = {
        "carriers": {
            name: {
                "share_domestic": float(params[i, 0]),
                "median_transit_days_nearby": float(params[i, 1]),
                "transit_log_sd": float(params[i, 2]),
                "long_delay_prob": float(params[i, 3]),
                "long_delay_mean_days": float(params[i, 4]),
                "lost_prob": float(params[i, 5]),
                "late_rate_realized": round(float(late[is_delivered & (carrier == i)].mean()), 4)
                if (is_delivered & (carrier == i)).any()
                else None,
                "orders": int((carrier == i).sum()),
            }
            for i, name in enumerate(names)
        },
        "distance_factor": DISTANCE_FACTOR.tolist(),
        "promise_days_by_distance": PROMISE_DAYS.tolist(),
        "handling_hours_median": HANDLING_HOURS,
        "peak_load": "handling and transit stretch with the day's online orders over 1.3x the "
        "median day; promise gains floor(load - 1) days",
        "spring_festival": "handling +72h, transit +2 days, promise +4 days",
        "late_rate_realized": round(float(late[is_delivered].mean()), 4)
        if is_delivered.any()
        else None,
        "returns": {
            "base_by_top_category": "Top.returns",
            "quality_coef": -RETURN_QUALITY,
            "late_multiplier": 1 + RETURN_LATE,
            "cap": 0.7,
        },
        "cancellation": CANCEL,
        "lost_orders": int((lost & is_shipped).sum()),
        "returned_orders": int(is_returned.sum()),
        "cancelled_orders": int(cancelled.sum()),
    }
    scans = _scans(
        rng,
        o,
        ordered,
        shipped,
        arrive,
        transit,
        is_shipped,
        is_delivered,
        is_returned,
        lost,
        exception,
        return_at,
        carrier,
        location,
        ship_city,
        dist,
        now,
    )
    return Fulfilment(
        ship_city=ship_city,
        location=location,
        carrier=carrier,
        promised=np.where(online, promised, nan),
        shipped=shipped_col,
        delivered=delivered_col,
        expected_delivery=np.where(online & ~cancelled, arrive, nan),
        exception=np.where(exception <= now, exception, nan),
        returned=np.where(is_returned, return_at, nan),
        status=status,
        cancelled=cancelled,
        lost=lost & is_shipped,
        late_days=late_days,
        value=value,
        scans=scans,
        truth=truth,
    )


def _working_hours(
    t: np.ndarray, open_h: int, close_h: int, rng: np.random.Generator
) -> np.ndarray:
    """Move times outside ``open_h``-``close_h`` to the next opening, plus a little."""
    day = np.floor(t / DAY)
    hour = (t - day * DAY) / 3600.0
    later = rng.uniform(0.1, 2.5, len(t)) * 3600.0
    early = hour < open_h
    late = hour >= close_h
    t = np.where(early, day * DAY + open_h * 3600.0 + later, t)
    return np.where(late, (day + 1) * DAY + open_h * 3600.0 + later, t)


def _scans(
    rng: np.random.Generator,
    o: Orders,
    ordered: np.ndarray,
    shipped: np.ndarray,
    arrive: np.ndarray,
    transit: np.ndarray,
    is_shipped: np.ndarray,
    is_delivered: np.ndarray,
    is_returned: np.ndarray,
    lost: np.ndarray,
    exception: np.ndarray,
    return_at: np.ndarray,
    carrier: np.ndarray,
    location: np.ndarray,
    ship_city: np.ndarray,
    dist: np.ndarray,
    now: float,
) -> pd.DataFrame:
    """Parcel scans for every shipped order, each slot vectorised over orders."""
    n = o.n
    places: list[str] = []

    def named(names: list[str]) -> np.ndarray:
        """Register place names; returns their indices into ``places``."""
        places.extend(names)
        return np.arange(len(places) - len(names), len(places))

    loc_city = [x[3] for x in LOCATIONS]
    city = [c[0] for c in CITIES]
    abroad_city = np.array([c[4] == 3 for c in CITIES])
    depot = named([c + "仓" for c in loc_city])[location]
    sorting = named([c + "分拨中心" for c in loc_city])[location]
    origin_hub = named([c + "转运中心" for c in loc_city])[location]
    intl_hub = named(["上海国际快件中心"])[0]
    hub = named([h + "转运中心" for h in HUBS])[rng.integers(0, len(HUBS), n)]
    dest = np.maximum(ship_city, 0)
    customs = named(["Customs " + c for c in city])[dest]
    gateway = named([c + " Gateway" for c in city])[dest]
    dest_hub = named([c + "转运中心" for c in city])[dest]
    station = named(
        [
            c + (" delivery station" if a else "派送站")
            for c, a in zip(city, abroad_city, strict=True)
        ]
    )[dest]
    abroad = dist == 3
    k = np.minimum(1 + dist, 3)  # transfer scans: more for longer trips
    span = np.where(lost, transit * DAY, arrive - shipped)
    slots: list[tuple[np.ndarray, np.ndarray, int, np.ndarray]] = []

    def slot(mask: np.ndarray, at: np.ndarray, status: str, where: np.ndarray) -> None:
        slots.append((mask & (at <= now), at, SCAN.index(status), where))

    picked = ordered + (shipped - ordered) * rng.uniform(0.4, 0.9, n)
    slot(is_shipped, picked, "picked", depot)
    slot(is_shipped, shipped, "shipped", sorting)
    # Transfer scans: origin hub (k=3 or 2), a middle hub (k=3), the destination hub;
    # a lost parcel is scanned no more after its exception.
    origin = np.where(abroad, intl_hub, origin_hub)
    middle = np.where(abroad, customs, hub)
    target = np.where(abroad, gateway, dest_hub)
    has_exc = ~np.isnan(exception)
    last_transfer = shipped.copy()
    for j, (where, active) in enumerate(((origin, k >= 2), (middle, k >= 3), (target, k >= 1))):
        rank = np.where(k == 3, j, np.where(k == 2, np.minimum(j, 1), 0))
        at = shipped + span * (rank + rng.uniform(0.2, 0.8, n)) / (k + 0.5)
        active = active & ~(lost & has_exc & (at > np.where(has_exc, exception, 0.0)))
        slot(is_shipped & active, at, "in_transit", where)
        last_transfer = np.where(is_shipped & active, np.maximum(last_transfer, at), last_transfer)
    slot(is_shipped & has_exc, np.where(has_exc, exception, 0.0), "exception", middle)
    ofd = np.clip(arrive - rng.uniform(1.0, 5.0, n) * 3600.0, last_transfer + 60.0, arrive - 60.0)
    slot(is_shipped & ~lost, ofd, "out_for_delivery", station)
    slot(is_delivered, arrive, "delivered", station)
    slot(is_returned, return_at, "returned", depot)

    idx = np.concatenate([np.flatnonzero(m) for m, _, _, _ in slots])
    at = np.concatenate([t[m] for m, t, _, _ in slots])
    status = np.concatenate([np.full(int(m.sum()), s) for m, _, s, _ in slots])
    where = np.concatenate([w[m] for m, _, _, w in slots])
    order = np.lexsort((status, np.floor(at), idx))
    idx, at, status, where = idx[order], np.floor(at[order]), status[order], where[order]
    return pd.DataFrame(
        {
            "order_idx": idx,
            "at": at,  # seconds; the generator turns them into datetimes
            "status": strings(take(SCAN, status)),
            "location": strings(take(places, where)),
            "carrier": strings(take(list(CARRIERS), carrier[idx])),
        }
    )
