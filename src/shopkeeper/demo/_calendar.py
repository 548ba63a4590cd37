"""The shop's calendar: weekly and yearly rhythm, sales festivals and holidays."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Monday first. Chinese online shoppers buy most at the weekend.
WEEKLY = np.array([0.93, 0.91, 0.94, 0.96, 1.02, 1.18, 1.12])
WEEKLY = WEEKLY / WEEKLY.mean()
YEARLY_AMPLITUDE = 0.08  # winter is a little busier than summer
YEARLY_PEAK_DOY = 350

# Hour-of-day profile of ordering (local time): low at night, a lunch bump
# and an evening peak.
HOURLY = np.array(
    [
        1.2,
        0.6,
        0.35,
        0.2,
        0.15,
        0.2,
        0.4,
        0.8,
        1.3,
        1.9,
        2.3,
        2.4,
        2.5,
        2.2,
        2.0,
        2.0,
        2.1,
        2.2,
        2.4,
        2.8,
        3.4,
        3.7,
        3.4,
        2.2,
    ]
)
# On the big festivals many orders are placed the minute the sale opens.
HOURLY_RUSH = HOURLY.copy()
HOURLY_RUSH[0] += 14.0
HOURLY_RUSH[1] += 3.0
HOURLY_RUSH[20] += 4.0

SPRING_FESTIVAL = {
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


@dataclass
class Calendar:
    """Per-day demand multipliers and what each day is.

    ``multiplier[d]`` scales every customer's order rate on day ``d``;
    ``basket[d]`` is the extra number of items per order (festivals make
    bigger baskets); ``rush[d]`` marks days whose orders pile up at midnight;
    ``festival[d]`` marks the Spring Festival shutdown of carriers and
    warehouses.
    """

    start: dt.date
    days: int
    dow: np.ndarray
    multiplier: np.ndarray
    basket: np.ndarray
    rush: np.ndarray
    festival: np.ndarray
    events: list[dict[str, Any]] = field(default_factory=list)

    def day_of(self, date: dt.date) -> int:
        return (date - self.start).days

    def truth(self) -> dict[str, Any]:
        return {
            "timezone": "+08:00",
            "weekly_factors_mon_to_sun": [round(float(x), 4) for x in WEEKLY],
            "yearly": {
                "amplitude": YEARLY_AMPLITUDE,
                "peak_day_of_year": YEARLY_PEAK_DOY,
                "form": "1 + amplitude * cos(2*pi*(doy - peak)/365.25)",
            },
            "events": self.events,
            "daily_multiplier": [round(float(x), 4) for x in self.multiplier],
        }


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def build_calendar(start: dt.date, days: int) -> Calendar:
    """The calendar of ``days`` days from ``start`` with every festival in it planted."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    dow = np.array([d.weekday() for d in dates])
    doy = np.array([d.timetuple().tm_yday for d in dates])
    yearly = 1 + YEARLY_AMPLITUDE * np.cos(2 * np.pi * (doy - YEARLY_PEAK_DOY) / 365.25)
    mult = WEEKLY[dow] * yearly
    basket = np.zeros(days)
    rush = np.zeros(days, dtype=bool)
    festival = np.zeros(days, dtype=bool)
    events: list[dict[str, Any]] = []
    end = start + dt.timedelta(days=days - 1)

    def plant(
        name: str, day: dt.date, factor: float, extra_items: float = 0.0, midnight: bool = False
    ) -> None:
        i = (day - start).days
        if 0 <= i < days:
            mult[i] *= factor
            basket[i] = max(basket[i], extra_items)
            rush[i] |= midnight
            events.append({"name": name, "date": day.isoformat(), "factor": round(factor, 3)})

    for year in range(start.year, end.year + 1):
        d618 = dt.date(year, 6, 18)
        for k in range(17, 0, -1):  # 1-17 June warm-up, rising towards the day
            plant("618 warm-up", d618 - dt.timedelta(days=k), 1.08 + 0.03 * (17 - k))
        plant("618", d618, 3.2, 0.6, True)
        plant("618 after", d618 + dt.timedelta(days=1), 1.25)
        d1111 = dt.date(year, 11, 11)
        for k in range(11, 0, -1):  # 31 Oct - 10 Nov pre-sale
            plant("Double 11 pre-sale", d1111 - dt.timedelta(days=k), 1.12 + 0.05 * (11 - k))
        plant("Double 11", d1111, 5.0, 0.9, True)
        plant("Double 11 after", d1111 + dt.timedelta(days=1), 1.4)
        # The day after the fourth Thursday (not the fourth Friday: in a November
        # that starts on a Friday those differ).
        bf = _nth_weekday(year, 11, 3, 4) + dt.timedelta(days=1)
        plant("Thanksgiving", bf - dt.timedelta(days=1), 1.15)
        plant("Black Friday", bf, 1.9, 0.4)
        plant("Black Friday weekend", bf + dt.timedelta(days=1), 1.25)
        plant("Cyber Monday", bf + dt.timedelta(days=3), 1.4)
        plant("Double 12", dt.date(year, 12, 12), 1.7, 0.3, True)
        sf_text = SPRING_FESTIVAL.get(year)
        if sf_text is not None:
            sf = dt.date.fromisoformat(sf_text)
            for k in range(25, 9, -1):  # New-Year goods festival before the holiday
                plant("New Year goods festival", sf - dt.timedelta(days=k), 1.15)
            for k in range(-7, 7):
                day = sf + dt.timedelta(days=k)
                i = (day - start).days
                if 0 <= i < days:
                    festival[i] = True
                plant("Spring Festival", day, 0.6)
    events.sort(key=lambda e: (e["date"], e["name"]))
    return Calendar(start, days, dow, mult, basket, rush, festival, events)
