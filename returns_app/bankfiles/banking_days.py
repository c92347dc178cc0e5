"""Swedish banking days: Monday to Friday, not a public holiday and not Midsummer, Christmas or
New Year's Eve, when the banks are closed (the `holidays` package's "de_facto" category for
Sweden). Its half days ("from 2pm") are banking days."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _closed(year: int) -> frozenset[date]:
    # The package lists every Sunday as a Swedish holiday unless told not to.
    days = holidays.country_holidays("SE", years=year, include_sundays=False,
                                     categories=("public", "de_facto"))
    return frozenset(days)


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _closed(day.year)


def banking_days_between(start: date, end: date) -> int:
    """Whole banking days strictly after `start` and strictly before `end`."""
    count, day = 0, start + timedelta(days=1)
    while day < end:
        count += is_banking_day(day)
        day += timedelta(days=1)
    return count


def cutoff(today: date, days: int) -> date:
    """The first date D for which `banking_days_between(D, today) < days`: anything booked
    before it has waited `days` whole banking days or more."""
    seen, day = 0, today - timedelta(days=1)
    while True:
        if is_banking_day(day):
            seen += 1
            if seen == days:
                return day
        day -= timedelta(days=1)
