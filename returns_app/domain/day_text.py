"""A calendar day as people read it, in a language's formatting locale (Babel, no Flask): the
pages' `day` filter and the emails' subjects write days through `day_text`."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date

from . import clock

# The formatting locale of each language: English dates as in Britain and Sweden
# (23 November 2026), not the US default of "en".
FORMAT_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def day_text(value: str | date | datetime | None, style: str, locale: str) -> str:
    """A stored day or moment as its Stockholm calendar day: 23 november 2026 / 23 November 2026."""
    if not value:
        return ""
    if isinstance(value, str):
        value = clock.parse(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = clock.local_date(value)
    return _day(value, style, locale)


@lru_cache(maxsize=4096)
def _day(value: date, style: str, locale: str) -> str:
    # Lists show a few days over and over (every row's reported and due day): Babel took
    # ~50 µs for each.
    return format_date(value, format=style, locale=locale)
