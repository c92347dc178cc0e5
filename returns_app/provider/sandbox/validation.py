"""Checks on request bodies. Each failure names the field, as a provider's API would."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

CURRENCIES = ("SEK", "EUR", "NOK", "DKK")
MAX_AMOUNT = 10_000_000_00
_CLEARING = re.compile(r"\d{4,5}")
_ACCOUNT = re.compile(r"\d{1,15}")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", re.IGNORECASE)
_SWISH = re.compile(r"\+?\d{8,15}")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?")  # no userinfo, nothing a CSP header must escape


class Invalid(Exception):  # noqa: N818 (the name the message reads with)
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _text(body: dict, name: str, prefix: str = "", max_len: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(prefix + name, "is required and must be a non-empty string")
    if len(value) > max_len:
        raise Invalid(prefix + name, f"must be at most {max_len} characters")
    return value


def _matching(body: dict, name: str, pattern: re.Pattern, prefix: str, what: str) -> str:
    value = _text(body, name, prefix, 64).replace(" ", "").replace("-", "")
    if not pattern.fullmatch(value):
        raise Invalid(prefix + name, f"must be {what}")
    return value


def iban_ok(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def money(body: dict) -> None:
    amount = body.get("amount")
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise Invalid("amount", f"must be an integer number of minor units, 1 to {MAX_AMOUNT}")
    if body.get("currency") not in CURRENCIES:
        raise Invalid("currency", f"must be one of {', '.join(CURRENCIES)}")
    _text(body, "reference")


def bank_account(value: object, prefix: str) -> None:
    if not isinstance(value, dict):
        raise Invalid(prefix.rstrip("."), "must be an object")
    _matching(value, "clearing_number", _CLEARING, prefix, "4 or 5 digits")
    _matching(value, "account_number", _ACCOUNT, prefix, "1 to 15 digits")


def destination(value: object) -> None:
    prefix = "destination."
    if not isinstance(value, dict):
        raise Invalid("destination", "must be an object")
    kind = value.get("type")
    if kind == "card":
        _text(value, "payment_id", prefix, 64)
    elif kind == "bank_account":
        bank_account(value, prefix)
    elif kind == "iban":
        iban = _matching(value, "iban", _IBAN, prefix, "an IBAN").upper()
        if not iban_ok(iban):
            raise Invalid(prefix + "iban", "has a wrong check digit")
    elif kind == "swish":
        _matching(value, "swish_number", _SWISH, prefix, "a phone number of 8 to 15 digits")
    else:
        raise Invalid(prefix + "type", "must be one of card, bank_account, iban, swish")


def payout(body: dict) -> None:
    money(body)
    destination(body.get("destination"))


def debit(body: dict) -> None:
    money(body)
    bank_account(body.get("bank_account"), "bank_account.")


def _url(body: dict, name: str) -> None:
    value = _text(body, name, max_len=2000)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        raise Invalid(name, "must be an absolute http or https URL")


def checkout(body: dict) -> None:
    money(body)
    _url(body, "return_url")
    _url(body, "cancel_url")
