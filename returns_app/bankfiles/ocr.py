"""Swedish OCR payment references (bankgiro): digits only, 2 to 25 of them, the last a
modulus-10 (Luhn) check digit, the one before it the length digit (total length mod 10).

An order's reference is made from its id: "1", the id zero-padded to six digits, then the
length and check digits, so order 123 pays with 100012392 (docs/bank-files.md, worked example).
"""

from __future__ import annotations

import re

MIN_LENGTH, MAX_LENGTH = 2, 25
_PREFIX = "1"  # no reference starts with 0: people drop leading zeros when typing


def luhn_digit(digits: str) -> str:
    """The check digit for `digits`: weights 2, 1, 2, … from the right, products' digit sums."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def with_length_and_check(payload: str) -> str:
    if not payload.isdigit() or len(payload) + 2 > MAX_LENGTH:
        raise ValueError(f"An OCR payload is 1 to {MAX_LENGTH - 2} digits: {payload!r}")
    body = payload + str((len(payload) + 2) % 10)
    return body + luhn_digit(body)


def is_valid(reference: str) -> bool:
    """Passes Luhn and the length digit (the hard control level Bankgirot offers)."""
    if not re.fullmatch(rf"[0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}", reference or ""):
        return False
    return (luhn_digit(reference[:-1]) == reference[-1]
            and int(reference[-2]) == len(reference) % 10)


def for_order(order_id: int) -> str:
    return with_length_and_check(f"{_PREFIX}{order_id:06d}")


def order_id_of(reference: str) -> int | None:
    """The order a valid reference names, or None (wrong check digit, not one of ours)."""
    reference = (reference or "").strip()
    if not is_valid(reference) or len(reference) < 9 or not reference.startswith(_PREFIX):
        return None
    order_id = int(reference[1:-2])
    return order_id if order_id > 0 and for_order(order_id) == reference else None
