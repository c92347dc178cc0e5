"""Money: integer minor units in, integer minor units out.

The only place text becomes money (through Decimal, never float), and the pure rules of
docs/design.md's money section, and the one formatter the `money` template filter uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency

from .errors import Invalid

MINOR_PER_MAJOR = 100
MONEY_LOCALE = "sv_SE"  # 1 234,50 kr
_MONEY_LOCALE = Locale.parse(MONEY_LOCALE)


def format_decimal(minor: int) -> str:
    """For an input field people edit: 698,00 (the Swedish decimal comma, no currency)."""
    return f"{Decimal(minor) / MINOR_PER_MAJOR:.2f}".replace(".", ",")


@lru_cache(maxsize=16384)
def format_minor(minor: int, currency: str = "SEK") -> str:
    """The one formatter for people: the `money` template filter and domain messages use it.

    Cached: Babel takes tens of microseconds per amount, a page shows dozens, and prices and
    totals repeat across orders."""
    return format_currency(Decimal(minor) / MINOR_PER_MAJOR, currency, locale=_MONEY_LOCALE)


def parse_amount(text: str, field: str = "amount") -> int:
    """'1 234,50' or '1234.50' -> 123450. Refuses more than two decimals and negatives."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.removesuffix("kr").removesuffix("SEK")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise Invalid(fields={field: "Enter an amount such as 249,50."}) from None
    if not value.is_finite() or value < 0:
        raise Invalid(fields={field: "Enter an amount of zero or more."})
    minor = value * MINOR_PER_MAJOR
    if minor != minor.to_integral_value():
        raise Invalid(fields={field: "Use at most two decimals (öre)."})
    return int(minor)


@dataclass(frozen=True)
class LineValue:
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class ItemValue:
    """One return item as money sees it: how many, at what unit price, and what was decided."""

    quantity: int
    unit_price: int
    accepted: int
    rejected: int
    open: bool  # the return is still under way (reported, sent or received)


@dataclass(frozen=True)
class Amounts:
    total: int
    payable_now: int
    paused: int
    paid: int
    refunded: int
    refund_owed: int
    accepted: int

    def as_api(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("accepted")
        return data


def compute_amounts(
    lines: Iterable[LineValue],
    items: Iterable[ItemValue],
    payments: int,
    refunds: int,
) -> Amounts:
    """The money rules of docs/design.md for one order.

    T = order total; A = value of accepted items; P = value of undecided items in open returns.
    """
    total = sum(line.quantity * line.unit_price for line in lines)
    accepted = 0
    pending = 0
    for item in items:
        accepted += item.accepted * item.unit_price
        if item.open:
            pending += (item.quantity - item.accepted - item.rejected) * item.unit_price
    net_paid = payments - refunds
    owed = total - accepted - net_paid
    return Amounts(
        total=total,
        payable_now=max(0, owed - pending),
        paused=max(0, min(pending, owed)),
        paid=payments,
        refunded=refunds,
        refund_owed=max(0, net_paid - (total - accepted)),
        accepted=accepted,
    )


def paused_in_return(items: Iterable[ItemValue], order_paused: int) -> int:
    """The part of the order's paused amount one return holds: its undecided items' value, never
    more than the order has paused (an order paid in full has nothing paused to show)."""
    undecided = sum((item.quantity - item.accepted - item.rejected) * item.unit_price
                    for item in items if item.open)
    return max(0, min(undecided, order_paused))
