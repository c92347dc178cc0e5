"""Swedish banking days: Monday to Friday, except the public holidays and the days banks close
on by custom (Midsummer Eve, Christmas Eve, New Year's Eve). The dates come from the maintained
`holidays` package ("public" and "de_facto" categories of its Sweden calendar), not a list of
our own: Easter and Midsummer move every year. The one calendar for every rule that counts
banking days: a declined debit's next try, an unmatched bank payment's wait."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _closed(year: int) -> frozenset[date]:
    calendar = holidays.Sweden(years=year, include_sundays=False,
                               categories=("public", "de_facto"))
    return frozenset(calendar)


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _closed(day.year)


def next_banking_day(day: date) -> date:
    """The first banking day after `day`."""
    day += timedelta(days=1)
    while not is_banking_day(day):
        day += timedelta(days=1)
    return day


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
