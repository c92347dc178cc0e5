"""Template filters: money (through money.format_minor) and dates, formatted for people."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_datetime
from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from ..domain import clock
from ..domain.day_text import day_text
from ..domain.money import format_minor as money
from .domain_messages import translate


def day(value: str | date | datetime | None, style: str = "long") -> str:
    """A calendar day in the page's language: 23 november 2026 / 23 November 2026."""
    return day_text(value, style, str(get_locale()))


def clock_time(value: str | None) -> str:
    """The Stockholm wall-clock time of a stored UTC moment: 14:05."""
    if not value:
        return ""
    return clock.parse(value).astimezone(clock.LOCAL_ZONE).strftime("%H:%M")


# How a stored UTC moment is shown, in Stockholm time and the page's language, by who reads it.
MOMENT_STYLES = {
    # a customer's page or email: 4 december 2026 11:40
    "long": "d MMMM yyyy HH:mm",
    # the portal's and the console's pages: 4 dec. 2026, 11:40
    "short": "d MMM yyyy, HH:mm",
    # a webhook's deliveries: a developer lines them up with their own logs (11:40:09)
    "seconds": "d MMM yyyy, HH:mm:ss",
    # the development inbox: enough to tell today's emails apart (2026-12-04 11:40)
    "sortable": "yyyy-MM-dd HH:mm",
}


def moment(value: str | None, style: str = "long") -> str:
    """A stored UTC moment in Stockholm time, as MOMENT_STYLES[style] writes it."""
    if not value:
        return ""
    return _moment(value, style, str(get_locale()))


@lru_cache(maxsize=4096)
def _moment(value: str, style: str, locale: str) -> str:
    # Support's queue shows the same items' moments on every view of it: Babel took ~50 µs each.
    return format_datetime(clock.parse(value), MOMENT_STYLES[style], tzinfo=clock.LOCAL_ZONE,
                           locale=locale)


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
