"""Template filters: money (through money.format_minor) and dates, formatted for people."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date
from flask import Flask

from . import clock
from .money import format_minor as money


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
