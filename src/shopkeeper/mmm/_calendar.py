"""The controls of the marketing mix: trend, season, weekday, shop festivals, promotions, prices.

Every control acts on the *organic* sales multiplicatively (the log of the
base is linear in them): a festival or a weekend scales the shop's own
sales, whatever they are that season. Advertising adds on top.

Festivals are the ones online shops in China and the West plan for; each
has its day, and the longer ones a warm-up window whose pull grows towards
the day (a ramp from 0 to 1) plus a flat step for the window as a whole:

- 618 (18 June; warm-up from 1 June), Double 11 (11 November; pre-sale
  from 31 October), Double 12 (12 December);
- Black Friday (with Thanksgiving, the weekend and Cyber Monday);
- Spring Festival (the holiday week and the New-Year goods festival before
  it), Christmas Eve and Day, New Year's Day.

A shop's own dates can be added as ``holidays`` (name → list of days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

SPRING_FESTIVAL = {
    2020: "2020-01-25",
    2021: "2021-02-12",
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
    2031: "2031-01-23",
    2032: "2032-02-11",
    2033: "2033-01-31",
    2034: "2034-02-19",
}
FOURIER_ORDER = 2  # yearly sine/cosine pairs
TREND_KNOT_DAYS = 91  # a kink in the trend every quarter (customer base growth)


def _black_friday(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + dt.timedelta(days=1)


def festival_days(years: Sequence[int]) -> dict[str, list[tuple[dt.date, dt.date | None]]]:
    """Each festival feature's spans: (day, None) for a single day, (first, last) for a window."""
    out: dict[str, list[tuple[dt.date, dt.date | None]]] = {}

    def add(name: str, first: dt.date, last: dt.date | None = None) -> None:
        out.setdefault(name, []).append((first, last))

    for y in years:
        add("618", dt.date(y, 6, 18))
        add("618 after", dt.date(y, 6, 19))
        add("618 warm-up", dt.date(y, 6, 1), dt.date(y, 6, 17))
        add("Double 11", dt.date(y, 11, 11))
        add("Double 11 after", dt.date(y, 11, 12))
        add("Double 11 pre-sale", dt.date(y, 10, 31), dt.date(y, 11, 10))
        add("Double 12", dt.date(y, 12, 12))
        bf = _black_friday(y)
        add("Thanksgiving", bf - dt.timedelta(days=1))
        add("Black Friday", bf)
        add("Black Friday weekend", bf + dt.timedelta(days=1), bf + dt.timedelta(days=2))
        add("Cyber Monday", bf + dt.timedelta(days=3))
        add("Christmas", dt.date(y, 12, 24), dt.date(y, 12, 25))
        add("New Year", dt.date(y, 1, 1))
        if y in SPRING_FESTIVAL:
            sf = dt.date.fromisoformat(SPRING_FESTIVAL[y])
            add("Spring Festival", sf - dt.timedelta(days=7), sf + dt.timedelta(days=6))
            add("New Year goods festival", sf - dt.timedelta(days=25), sf - dt.timedelta(days=10))
    return out


def control_matrix(
    days: pd.DatetimeIndex,
    *,
    promotion: np.ndarray | None = None,
    price_index: np.ndarray | None = None,
    holidays: Mapping[str, Sequence[str | dt.date]] | None = None,
    fit_days: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """The daily controls (columns) and their names; the first column is the intercept.

    ``fit_days``: the length of the fitting window when ``days`` runs past it
    (a forecast), so that the trend and its kinks are the fitted ones. Columns
    that are constant over ``days`` (a festival outside the window) are left
    out; a forecast looks its columns up by name.
    """
    n = len(days)
    span = fit_days or n
    t = np.arange(n, dtype=float)
    cols: list[np.ndarray] = [np.ones(n), t / max(span, 1)]
    names = ["intercept", "trend"]
    for knot in range(TREND_KNOT_DAYS, span - TREND_KNOT_DAYS // 2, TREND_KNOT_DAYS):
        cols.append(np.maximum(0.0, t - knot) / max(span, 1))
        names.append(f"trend after day {knot}")
    doy = days.day_of_year.to_numpy()
    for k in range(1, FOURIER_ORDER + 1):
        angle = 2 * np.pi * k * doy / 365.25
        cols += [np.sin(angle), np.cos(angle)]
        names += [f"year sin {k}", f"year cos {k}"]
    dow = days.day_of_week.to_numpy()
    for d, label in enumerate(("Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), start=1):
        cols.append((dow == d).astype(float))
        names.append(label)
    index = {day.date(): i for i, day in enumerate(days)}
    years = sorted({d.year for d in index})
    spans = festival_days(years)
    for name, dates in (holidays or {}).items():
        for given in dates:
            day = given if isinstance(given, dt.date) else dt.date.fromisoformat(str(given))
            spans.setdefault(name, []).append((day, None))
    for name, items in spans.items():
        step = np.zeros(n)
        ramp = np.zeros(n)
        for first, last in items:
            if last is None:
                if first in index:
                    step[index[first]] = 1.0
                continue
            length = (last - first).days + 1
            for k in range(length):
                i = index.get(first + dt.timedelta(days=k))
                if i is not None:
                    step[i] = 1.0
                    ramp[i] = (k + 1) / length
        for column, label in ((step, name), (ramp, f"{name} ramp")):
            if column.any() and np.ptp(column) > 0 and not _same(column, cols):
                cols.append(column)
                names.append(label)
    if promotion is not None and np.ptp(promotion) > 1e-9:
        cols.append(np.asarray(promotion, dtype=float))
        names.append("promotion share")
    if price_index is not None and np.ptp(price_index) > 1e-6:
        cols.append(np.log(np.clip(price_index, 1e-3, None)))
        names.append("log price index")
    return np.column_stack(cols), names


def _same(column: np.ndarray, cols: list[np.ndarray]) -> bool:
    # A one-day festival's ramp equals its step; keep one of them.
    return any(np.array_equal(column, c) for c in cols[-1:])
