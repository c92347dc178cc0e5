"""Template filters: money (through money.format_minor) and dates, formatted for people."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_datetime
from flask import Flask
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _

from ..domain import clock
from ..domain.money import format_minor as money
from .domain_messages import translate


def day(value: str | date | datetime | None, style: str = "long") -> str:
    """A calendar day in the page's language: 23 november 2026 / 23 November 2026."""
    if not value:
        return ""
    if isinstance(value, str):
        value = clock.parse(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = clock.local_date(value)
    return _day(value, style, str(get_locale()))


@lru_cache(maxsize=4096)
def _day(value: date, style: str, _locale: str) -> str:
    # Lists show a few days over and over (every row's reported and due day): Babel took
    # ~50 µs for each. The locale is in the key because format_date reads it.
    return format_date(value, format=style)


def clock_time(value: str | None) -> str:
    """The Stockholm wall-clock time of a stored UTC moment: 14:05."""
    if not value:
        return ""
    return clock.parse(value).astimezone(clock.LOCAL_ZONE).strftime("%H:%M")


def moment(value: str | None) -> str:
    """A moment in Stockholm time, to the minute: 4 december 2026 11:40."""
    if not value:
        return ""
    return format_datetime(clock.parse(value), "d MMMM yyyy HH:mm", tzinfo=clock.LOCAL_ZONE,
                           locale=get_locale())


def number(value: float | int | None, decimals: int = 0) -> str:
    """A number in the page's language, with `decimals` places: 6,5 / 6.5; 1 234 / 1,234."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""))


def payout_arrival(kind: str | None) -> str:
    """How soon a refund sent to `kind` (refund.destination_kind) reaches the customer: a
    Swish payout at once, a bank transfer in banking days."""
    if kind == "swish":
        return _("Swish payouts arrive at once.")
    if kind == "iban":
        return _("It usually shows in your account within 1–3 banking days.")
    return _("It usually shows in your account within 1–2 banking days.")


def label_table(macro: Callable[[str], str], codes: Iterable[str]) -> dict[str, str]:
    """{code: macro(code)}: a list page renders each label macro once per code, not per row."""
    return {code: macro(code) for code in codes}


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(clock_time, "clock_time")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(number, "number")
    app.add_template_global(label_table, "label_table")
    app.add_template_global(payout_arrival, "payout_arrival")
    # Words the domain stored or raised in English (a refund's destination): in the page's language.
    app.add_template_filter(translate, "domain_text")
    app.context_processor(lambda: {"today": clock.today})
