"""Template filters: money (through money.format_minor) and dates, formatted for people."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date

from . import clock
from .domain_messages import translate
from .money import format_minor as money


def day(value: str | date | datetime | None, style: str = "long") -> str:
    """A calendar day in the page's language: 23 november 2026 / 23 November 2026."""
    if not value:
        return ""
    if isinstance(value, str):
        value = clock.parse(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = clock.local_date(value)
    return format_date(value, format=style)


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    # Words the domain stored or raised in English (a refund's destination): in the page's language.
    app.add_template_filter(translate, "domain_text")
    app.context_processor(lambda: {"today": clock.today})
