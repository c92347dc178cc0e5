"""Template filters: the only place money and dates are formatted for people."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency
from flask import Flask

from . import clock
from .money import MINOR_PER_MAJOR

MONEY_LOCALE = "sv_SE"  # 1 234,50 kr


def money(minor: int, currency: str = "SEK") -> str:
    return format_currency(Decimal(minor) / MINOR_PER_MAJOR, currency, locale=MONEY_LOCALE)


def day(value: str | date | datetime | None, style: str = "long") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = clock.parse(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = clock.local_date(value)
    return format_date(value, format=style, locale="en_GB")


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.context_processor(lambda: {"today": clock.today})
