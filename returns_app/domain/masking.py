"""Bank account, IBAN, card and phone numbers shown as their last 4 characters only: in the audit
trail, in the logs and in the support console. Pure functions; no Flask, no database."""

from __future__ import annotations

import logging
import re
from typing import Any

from .link_paths import hide_link_tokens

MASK = "••••"

# Values under these keys are account or card numbers whatever they look like.
SECRET_KEYS = frozenset({
    "account_number", "iban", "swish_number", "card_number", "pan", "phone", "phone_number",
    "mobile", "bank_account", "bank_account_json", "destination_json", "personal_number",
})
# Values under these keys are identifiers people need to read whole (a parcel's tracking
# number may be 20 digits long), never account numbers.
PLAIN_KEYS = frozenset({
    "tracking_number", "order_number", "merchant_reference", "payout_id", "provider_payout_id",
    "checkout", "provider_payment_id", "idempotency_key", "at", "since", "scheduled_for",
    "due_date", "on_hold_until", "created_at", "status_changed_at", "succeeded_at",
})

# What people and programs put between the groups of a number: spaces of every width (a
# non-breaking one from a copied web page), tabs, dots, dashes, underscores, slashes, commas,
# one or a few in a row ("8327-9,  123 456 789-7", "se45_5000/0000").
_SEP = r"[\s.,_/\-\u2010-\u2015]{0,3}"
# An IBAN: country, check digits, then 11 to 30 letters or digits, in groups or not, in any
# case. Judged in _mask_iban: words that happen to follow "ab12" are not an IBAN.
_IBAN = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{2}}\d{{2}}(?:{_SEP}[A-Za-z0-9]){{11,30}}(?![A-Za-z0-9])")
# A run of 10 or more digits, possibly grouped, optionally after a "+" (card numbers, Swedish
# clearing + account numbers, phone numbers, personal numbers). Dates (8 digits) and order
# numbers (9 digits) stay below the threshold.
_DIGIT_RUN = re.compile(rf"(?<![A-Za-z0-9])\+?\d(?:{_SEP}\d){{9,}}(?![A-Za-z0-9])")
# Every IBAN's account part is mostly digits (Sweden's and Germany's all, Britain's and the
# Netherlands' after a 4-letter bank code); prose after two letters and two digits is not.
_IBAN_MIN_DIGITS = 8
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def mask_number(text: str) -> str:
    """'8327-9, 123 456 789-7' -> '••••7897': the last 4 letters or digits, nothing else."""
    characters = re.sub(r"[^0-9A-Za-z]", "", str(text))
    return MASK if len(characters) <= 4 else MASK + characters[-4:]


def mask_text(text: str) -> str:
    """Free text (a note, a log line) with every number that looks like an account, IBAN,
    card or phone number masked; everything else left as it was."""
    text = _IBAN.sub(_mask_iban, text)
    return _DIGIT_RUN.sub(_mask_run, text)


def _mask_iban(match: re.Match) -> str:
    found = match[0]
    if sum(ch.isdigit() for ch in found[4:]) < _IBAN_MIN_DIGITS:
        return found
    # Words after the number ("... 7466 is mine") are no part of it: the IBAN ends with the
    # group that holds its last digit.
    last_digit = max(i for i, ch in enumerate(found) if ch.isdigit())
    end = re.match(r"[A-Za-z0-9]*", found[last_digit:]).end() + last_digit
    return mask_number(found[:end]) + found[end:]


def _mask_run(match: re.Match) -> str:
    # A date next to a number ("BG 123-4567 2025-03-03") is not part of it: judge the rest alone.
    parts = _DATE.split(match[0])
    if len(parts) == 1:
        return mask_number(match[0])
    return "".join(part if _DATE.fullmatch(part) else _DIGIT_RUN.sub(
        lambda m: mask_number(m[0]), part) for part in parts)


def mask(value: Any, key: str | None = None) -> Any:
    """A copy of `value` (dicts, lists, strings, numbers) safe to store or show."""
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v, key) for v in value]
    if isinstance(value, str):
        if key in SECRET_KEYS:
            return mask_number(value) if value else value
        if key in PLAIN_KEYS:
            return value
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and key in SECRET_KEYS:
        return mask_number(str(value))
    return value


def install_log_masking() -> None:
    """Every log record of the process, ours and the libraries', is masked as it is made, so no
    handler or formatter can write a full number."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_numbers", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a broken format string: let logging report it as it would
        record.msg, record.args = hide_link_tokens(mask_text(message)), None
        return record

    factory.masks_numbers = True
    logging.setLogRecordFactory(factory)


def mask_email(address: str) -> str:
    """'kim.kund@example.se' -> 'k•••@example.se': enough for its owner to know it, too little
    for anyone else to write to it."""
    local, at, domain = str(address).partition("@")
    return f"{local[:1]}•••{at}{domain}" if at else MASK
