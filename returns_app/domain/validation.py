"""Checking the shape of JSON input, collecting one message per bad field."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from . import clock
from .errors import Invalid

# C0 and C1 control characters and DEL: never typed on purpose, and NUL or an escape sequence in a
# stored name or comment reaches emails, CSV exports and support's screens. Text that may span
# lines keeps tab and its line breaks.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BETWEEN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_MESSAGE = "Must not contain control characters (such as NUL)."
# str.isdigit() and int() take any script's digits ("٨٨" is 88) and int() also " 8", "+8", "8_8".
_ASCII_DIGITS = re.compile("[0-9]+")


# RFC 3339's date-time, which the OpenAPI document states as a pattern (its "format" is only a
# note): a calendar day alone, or a time with no offset, could be any of several moments.
MOMENT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                  r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")
_MOMENT = re.compile(MOMENT_PATTERN)


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return (_CONTROL_BETWEEN_LINES if multiline else _CONTROL).search(value) is not None


def ascii_whole_number(raw: str | None) -> int | None:
    """`raw` as an int if it is ASCII digits and nothing else, else None."""
    if raw is None or not _ASCII_DIGITS.fullmatch(raw):
        return None
    return int(raw)


# What a whole number counts, so a bad one is told in its own terms: a quantity is no amount.
COUNT, AMOUNT, ID = "count", "amount", "id"
NOT_WHOLE = {
    COUNT: "Must be a whole number of items, such as 1.",
    AMOUNT: "Must be a whole number of minor units (öre), such as 24950 for 249,50 kr.",
    ID: "Must be an id: a whole number such as 42.",
}
OUT_OF_RANGE = {
    COUNT: "Must be from {minimum} to {maximum} items.",
    AMOUNT: "Must be from {minimum} to {maximum} minor units (öre).",
    ID: "Must be an id from {minimum} to {maximum}.",
}
REQUIRED = "This is required."
NOT_TEXT = "Must be text (a JSON string)."
TOO_LONG = "Must be at most {max} characters; this has {count}."


class FieldErrors:
    """Collects problems so a client learns about every bad field in one answer."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self, message: str = "Some values are not valid.") -> None:
        if self.fields:
            raise Invalid(message, fields=self.fields)

    def text(self, data: dict, key: str, field: str, *, max_length: int = 200,
             required: bool = True, multiline: bool = False) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(field, REQUIRED)
            return None
        if not isinstance(value, str):
            self.add(field, NOT_TEXT)
            return None
        value = value.strip()
        if len(value) > max_length:
            self.add(field, TOO_LONG.format(max=max_length, count=len(value)))
            return None
        if has_control_characters(value, multiline=multiline):
            self.add(field, CONTROL_CHARACTERS_MESSAGE)
            return None
        return value

    def integer(self, data: dict, key: str, field: str, *, counts: str, minimum: int = 0,
                maximum: int = 10**12, default: int | None = None) -> int | None:
        """`counts` is COUNT, AMOUNT or ID: what the number is, for the messages."""
        value = data.get(key)
        # bool is an int in Python, but `true` is never a quantity or an amount.
        if value is None:
            if default is not None:
                return default
            self.add(field, REQUIRED)
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(field, NOT_WHOLE[counts])
            return None
        if not minimum <= value <= maximum:
            self.add(field, OUT_OF_RANGE[counts].format(minimum=minimum, maximum=maximum))
            return None
        return value

    def choice(self, data: dict, key: str, field: str, choices: tuple[str, ...],
               message: str = "Must be one of") -> str | None:
        value = data.get(key)
        if value not in choices:
            self.add(field, f"{message}: " + ", ".join(choices) + ".")
            return None
        return value

    def email(self, data: dict, key: str, field: str) -> str | None:
        value = self.text(data, key, field, max_length=254)
        if value is None:
            return None
        try:
            return normalize_email(value)
        except Invalid:
            self.add(field, "Must be a valid email address.")
            return None

    def moment(self, data: dict, key: str, field: str) -> datetime | None:
        value = data.get(key)
        if value is None:
            return None
        try:
            if not isinstance(value, str) or not _MOMENT.match(value):
                raise ValueError(value)
            return clock.parse(value)
        # OverflowError: a moment that exists only in its own offset (0001-01-01T00:00+00:01).
        except (TypeError, ValueError, OverflowError):
            self.add(field, "Must be an ISO-8601 date and time, e.g. 2026-11-20T10:00:00Z.")
            return None

    def mapping(self, data: Any, field: str) -> dict:
        if not isinstance(data, dict):
            self.add(field, "Must be an object.")
            return {}
        return data


def normalize_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(fields={"email": "Enter a valid email address."}) from None
    return result.normalized.lower()


def email_for_lookup(value: str | None) -> str:
    """An address to compare with stored ones: normalized when valid, else as typed (lowercased),
    so a mistyped address simply matches nothing instead of failing differently."""
    try:
        return normalize_email(value or "")
    except Invalid:
        return (value or "").strip().lower()
