"""The API and an unfinished card checkout: GET's payable_now is exactly what POST .../payments
accepts, a new payment replaces the open checkout, POST /payments/{id}/cancel closes it, and a
replayed payment answer shows the payment as it is now."""

from __future__ import annotations

import pytest

from tests.api.test_api_customer import token_for
from tests.api.test_api_money import FULL_PRICE, contract, post_payment, with_provider  # noqa: F401
from tests.api_helpers import assert_error, bearer
from tests.builders import link_bank_account, make_merchant, make_order


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"], merchant_reference="A-1")


@pytest.fixture
def token(client, order):
    return token_for(client, order)


def payable_now(client, token, order) -> int:
    answer = client.get(f"/api/v1/orders/{order['id']}", headers=bearer(token))
    return answer.get_json()["amounts"]["payable_now"]


def cancel(client, token, payment_id: int):
    return client.post(f"/api/v1/payments/{payment_id}/cancel", headers=bearer(token))


def test_an_open_checkout_leaves_the_full_amount_payable_and_post_agrees(
        client, db, order, token, with_provider, contract):  # noqa: F811
    first = post_payment(client, token, order, {"amount": FULL_PRICE, "method": "card"})
    assert first.status_code == 201
    assert payable_now(client, token, order) == FULL_PRICE
    second = post_payment(client, token, order, {"amount": 100, "method": "card"}, key="pay-2")
    assert second.status_code == 201, second.get_data(as_text=True)
    assert contract(second, "/orders/{order_id}/payments", "post")["status"] == "pending"
    replayed = post_payment(client, token, order, {"amount": FULL_PRICE, "method": "card"})
    body = contract(replayed, "/orders/{order_id}/payments", "post")
    assert (body["id"], body["status"], body["checkout_url"]) == (
        first.get_json()["id"], "cancelled", None)


def test_get_payable_now_is_what_post_accepts_with_a_debit_scheduled(client, db, order, token,
                                                                     with_provider):  # noqa: F811
    link_bank_account(db, order["customer_id"])
    assert post_payment(client, token, order, {"amount": 50000}).status_code == 201
    allowed = payable_now(client, token, order)
    assert allowed == FULL_PRICE - 50000
    too_much = post_payment(client, token, order, {"amount": allowed + 1, "method": "card"},
                            key="pay-2")
    assert assert_error(too_much, 422, "invalid")["allowed"] == allowed
    assert post_payment(client, token, order, {"amount": allowed, "method": "card"},
                        key="pay-3").status_code == 201


def test_the_customer_cancels_the_open_checkout_through_the_api(client, db, order, token,
                                                                with_provider, contract):  # noqa: F811
    started = post_payment(client, token, order, {"amount": FULL_PRICE, "method": "card"})
    payment_id = started.get_json()["id"]
    answer = cancel(client, token, payment_id)
    body = contract(answer, "/payments/{payment_id}/cancel", "post")
    assert (body["status"], body["checkout_url"]) == ("cancelled", None)
    assert cancel(client, token, payment_id).get_json() == body  # again: as it is
    assert db.execute("SELECT failure_reason FROM payment WHERE id = ?",
                      [payment_id]).fetchone()[0] == "Cancelled by you"


def test_another_customers_checkout_cannot_be_cancelled(client, db, order, token,
                                                        with_provider):  # noqa: F811
    started = post_payment(client, token, order, {"amount": FULL_PRICE, "method": "card"})
    other = make_order(db, order["merchant_id"], merchant_reference="B-1",
                       customer={"email": "annan@example.se", "name": "Alex"})
    answer = cancel(client, token_for(client, other, "annan@example.se"),
                    started.get_json()["id"])
    assert_error(answer, 404, "not_found")
    assert db.execute("SELECT status FROM payment").fetchone()[0] == "pending"
