"""The carrier scorecard: how each carrier keeps the shop's promises, and whether it slips.

Per carrier, over the orders it carried whose outcome is settled (delivered,
lost, or past their deadline; see ``orders/_data.py``):

- ``orders``: every order it carried; ``settled``, ``delivered``, ``late``
  (not delivered by the deadline, lost ones included), ``lost``, ``open``;
- ``on_time_rate``: delivered by the deadline over settled;
  ``late_rate_delivered``: late over delivered (lost left out);
- ``mean_delay_days`` and ``p90_delay_days``: days after the deadline per
  delivered parcel (0 for one on time), mean and 90th percentile;
  ``mean_days_late``: the same over the late ones only;
- ``mean_transit_days`` and ``p90_transit_days``: shipped to delivered;
- the trend: ``recent_on_time_rate`` over the orders whose deadline fell in
  the last ``recent_weeks`` weeks before ``as_of``, ``baseline_on_time_rate``
  over the ``baseline_weeks`` before those, ``change`` (recent minus
  baseline, in rate points) and ``worsening``: the rate fell by at least
  ``min_drop`` and by at least two standard errors of the difference (a
  two-proportion z of 2), so a few unlucky parcels do not raise the flag.

:func:`weekly_on_time` gives the weekly series behind the trend.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from shopkeeper.orders._data import DAY, OrderBook

MIN_DROP = 0.02
Z_WORSE = 2.0


def _settled(book: OrderBook) -> pd.DataFrame:
    o = book.orders
    has = o["carrier"].notna() & o["deadline"].notna()
    passed = o["deadline"] <= book.as_of
    return o[has & o["known"] & (passed | (o["outcome"] == "on_time"))]


def carrier_scorecard(
    book: OrderBook,
    *,
    recent_weeks: int = 4,
    baseline_weeks: int = 12,
    min_drop: float = MIN_DROP,
) -> pd.DataFrame:
    """One row per carrier (see the module doc), the most orders first."""
    o = book.orders[book.orders["carrier"].notna()]
    settled = _settled(book)
    rows = []
    recent_from = book.as_of - pd.Timedelta(weeks=recent_weeks)
    baseline_from = recent_from - pd.Timedelta(weeks=baseline_weeks)
    for carrier, mine in o.groupby("carrier", sort=True):
        done = settled[settled["carrier"] == carrier]
        delivered = done[done["delivered_at"].notna()]
        delay = delivered["delay_days"].clip(lower=0.0)
        late_delivered = delivered[delivered["late"]]
        on_time = int((~done["late"]).sum())
        recent = done[done["deadline"] > recent_from]
        base = done[(done["deadline"] > baseline_from) & (done["deadline"] <= recent_from)]
        r_rate = _rate(recent)
        b_rate = _rate(base)
        change = r_rate - b_rate if not (math.isnan(r_rate) or math.isnan(b_rate)) else math.nan
        rows.append(
            {
                "carrier": str(carrier),
                "orders": len(mine),
                "settled": len(done),
                "delivered": len(delivered),
                "on_time": on_time,
                "late": int(done["late"].sum()),
                "lost": int((done["outcome"] == "lost").sum()),
                "open": int((mine["outcome"] == "open").sum()),
                "on_time_rate": on_time / len(done) if len(done) else math.nan,
                "late_rate_delivered": float(delivered["late"].mean())
                if len(delivered)
                else math.nan,
                "mean_delay_days": float(delay.mean()) if len(delay) else math.nan,
                "p90_delay_days": float(delay.quantile(0.9)) if len(delay) else math.nan,
                "mean_days_late": float(late_delivered["delay_days"].mean())
                if len(late_delivered)
                else math.nan,
                "mean_transit_days": float(delivered["transit_days"].mean())
                if len(delivered)
                else math.nan,
                "p90_transit_days": float(delivered["transit_days"].quantile(0.9))
                if len(delivered)
                else math.nan,
                "recent_settled": len(recent),
                "recent_on_time_rate": r_rate,
                "baseline_settled": len(base),
                "baseline_on_time_rate": b_rate,
                "change": change,
                "worsening": _worse(recent, base, min_drop),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table = table.sort_values(["orders", "carrier"], ascending=[False, True], kind="stable")
    table["trend"] = [_trend_words(r, recent_weeks, baseline_weeks) for r in table.itertuples()]
    return table.reset_index(drop=True)


def weekly_on_time(book: OrderBook, weeks: int = 26) -> pd.DataFrame:
    """On-time rate per carrier per week of the deadline (the last ``weeks`` weeks).

    Columns: carrier, week (the Monday the week starts), settled, on_time_rate.
    """
    settled = _settled(book)
    first = (book.as_of - pd.Timedelta(weeks=weeks)).normalize()
    recent = settled[settled["deadline"] > first]
    if recent.empty:
        return pd.DataFrame(columns=["carrier", "week", "settled", "on_time_rate"])
    week = recent["deadline"].dt.normalize() - recent["deadline"].dt.weekday * DAY
    table = (
        recent.assign(week=week, on_time=~recent["late"])
        .groupby(["carrier", "week"])
        .agg(settled=("order_id", "size"), on_time_rate=("on_time", "mean"))
        .reset_index()
    )
    return table


def _rate(part: pd.DataFrame) -> float:
    return float((~part["late"]).mean()) if len(part) else math.nan


def _worse(recent: pd.DataFrame, base: pd.DataFrame, min_drop: float) -> bool:
    """A drop of at least ``min_drop`` and two standard errors (two-proportion z)."""
    n1, n2 = len(recent), len(base)
    if n1 < 20 or n2 < 20:
        return False
    p1, p2 = _rate(recent), _rate(base)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n2))
    return bool(p2 - p1 >= min_drop and (p2 - p1) / se >= Z_WORSE)


def _trend_words(row: Any, recent_weeks: int, baseline_weeks: int) -> str:
    r, b = row.recent_on_time_rate, row.baseline_on_time_rate
    if math.isnan(r) or math.isnan(b):
        return "too few settled orders for a trend"
    if row.worsening:
        verb = "worse"
    elif abs(r - b) < 0.02:
        verb = "steady"
    else:
        verb = "better" if r > b else "a little worse (within noise)"
    return (
        f"{verb}: {r:.1%} on time in the last {recent_weeks} weeks vs {b:.1%} "
        f"in the {baseline_weeks} before"
    )
