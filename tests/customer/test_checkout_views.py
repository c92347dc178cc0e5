"""The order page while a card payment is started but not finished: it offers "Continue
paying" and "Cancel this payment", and still lets the customer pay another amount (which
cancels the started one at the provider first)."""

from __future__ import annotations

import re

import requests

from returns_app.store.db import insert
from tests.api_helpers import count
from tests.builders import make_order
from tests.customer.test_customer_views import text
from tests.customer.test_money_views import (  # noqa: F401 (fixtures)
    OTHER_EMAIL,
    input_value,
    pay,
    returning,
    shop,
    with_provider,
    words,
)


def session_status(sandbox, checkout_url: str) -> str:
    session_id = checkout_url.rsplit("/", 1)[1]
    return requests.get(f"{sandbox.url}/v1/checkout-sessions/{session_id}", timeout=5).json()[
        "status"]


def cancel_form_action(page: str) -> str | None:
    match = re.search(r'<form method="post" action="(/payments/\d+/cancel-checkout)"', page)
    return match[1] if match else None


def test_a_started_card_payment_can_be_continued_or_cancelled_from_the_order_page(
        client, db, returning, with_provider):  # noqa: F811
    checkout_url = pay(client, returning).headers["Location"]
    page = client.get(f"/orders/{returning['id']}")
    html = text(page)
    assert f'<a class="button" href="{checkout_url}">Continue paying</a>' in html
    action = cancel_form_action(html)
    assert action is not None
    assert "You started paying 698,00 kr by card but have not finished." in words(page)
    assert input_value(page, "amount") == "698,00"  # and another payment can still be made

    cancelled = client.post(action, data={})
    assert cancelled.status_code == 303
    assert cancelled.headers["Location"] == f"/orders/{returning['id']}#pay-heading"
    after = client.get(f"/orders/{returning['id']}")
    assert "The card payment was cancelled. Nothing was charged." in words(after)
    assert "Continue paying" not in text(after)
    assert "698,00 kr · Cancelled by you" in words(after)
    assert session_status(with_provider, checkout_url) == "cancelled"


def test_a_new_payment_replaces_the_started_one(client, db, returning, with_provider):  # noqa: F811
    first = pay(client, returning).headers["Location"]
    second = pay(client, returning, amount="0,01", key="key-2")
    assert second.status_code == 303
    assert second.headers["Location"] != first
    assert session_status(with_provider, first) == "cancelled"
    assert db.execute("SELECT amount_minor, status FROM payment ORDER BY id").fetchall() == [
        (69800, "cancelled"), (1, "pending")]


def test_someone_elses_started_payment_cannot_be_cancelled(
        client, db, shop, returning, with_provider):  # noqa: F811
    other = make_order(db, shop["id"], customer={"email": OTHER_EMAIL, "name": "Alex"})
    payment_id = insert(db, "payment", {
        "order_id": other["id"], "amount_minor": 100, "method": "card", "status": "pending",
        "idempotency_key": "k", "provider_ref": "cs_x", "checkout_url": "http://x/cs_x",
        "created_at": "2026-01-01T00:00:00+00:00"})
    assert client.post(f"/payments/{payment_id}/cancel-checkout", data={}).status_code == 404
    assert client.post("/payments/999999/cancel-checkout", data={}).status_code == 404
    assert count(db, "payment") == 1
