"""Where the provider's card page sends the customer back, the same for the customer's pages
and the API's payments."""

from __future__ import annotations

from flask import url_for

from ..services import payments


def return_urls(order_id: int, key: str | None) -> payments.ReturnUrls:
    """The provider sends a customer who cancels back to the cancel URL as it is, without the
    checkout session's id: the order and the payment's Idempotency-Key name the payment."""
    return payments.ReturnUrls(
        paid=url_for("customer.payment_return", _external=True),
        cancelled=url_for("customer.payment_cancelled", order=order_id, key=key or "",
                          _external=True))
