"""The money side of the JSON API: payments with an Idempotency-Key, the order's refunds, payout
details for a refund, and the merchant's registration of a return that starts a refund.

Every answer is checked against the schema the OpenAPI document gives for its path, method and
status (jsonschema, $refs resolved through the document's components)."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from returns_app.services import payments
from tests.api.test_api_customer import token_for
from tests.api_helpers import assert_error, bearer, count, is_int
from tests.builders import link_bank_account, make_merchant, make_order, make_return
from tests.customer.test_money_views import link_customer_bank_account
from tests.domain.test_payout_details import SEB, SEB_ACCOUNT
from tests.rows import by_id, rows_where

EMAIL = "kund@example.se"
OTHER_EMAIL = "annan@example.se"
FULL_PRICE = 149700  # 2 x 299 + 799 + a 100 kr gift card
JEANS = 1


# --- the OpenAPI document as the judge ---------------------------------------------------------

@pytest.fixture
def contract(client):
    """`contract(response, path, method)`: the response's JSON body, after checking that its
    status is documented for the operation and that the body matches the documented schema."""
    document = client.get("/api/v1/openapi.json").get_json()

    def check(response, path: str, method: str):
        operation = document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method.upper()} {path} answered {status}, which the document doesn't list: "
            f"{response.get_data(as_text=True)}")
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        body = response.get_json()
        # The schema's "#/components/..." refs resolve against the root it is placed in.
        validator = Draft202012Validator({**schema, "components": document["components"]})
        problems = [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
                    for e in validator.iter_errors(body)]
        assert problems == [], f"{method.upper()} {path} {status}: {problems}\n{body}"
        return body

    return check


def test_the_contract_check_can_fail(client, contract):
    """A body that doesn't match its schema is caught (so the checks below mean something)."""
    from flask import Response

    fake = Response('{"id": "1", "amount": 1.5, "status": "lost"}', 201,
                    mimetype="application/json")
    with pytest.raises(AssertionError, match="amount"):
        contract(fake, "/orders/{order_id}/payments", "post")
    with pytest.raises(AssertionError, match="doesn't list"):
        contract(Response("{}", 418, mimetype="application/json"),
                 "/orders/{order_id}/payments", "post")


# --- fixtures and helpers ----------------------------------------------------------------------

@pytest.fixture
def shop(db):
    merchant, key = make_merchant(db)
    return {**merchant, "key": key}


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"], merchant_reference="A-1")


@pytest.fixture
def other_order(db, shop):
    return make_order(db, shop["id"], merchant_reference="B-1",
                      customer={"email": OTHER_EMAIL, "name": "Alex Annan"})


@pytest.fixture
def with_provider(app, sandbox):
    app.config["PROVIDER_URL"] = sandbox.url
    app.extensions.pop("provider_client", None)
    yield sandbox
    app.extensions.pop("provider_client", None)


def post_payment(client, token, order, body, key: str | None = "pay-1"):
    headers = bearer(token) if token else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/orders/{order['id']}/payments", json=body, headers=headers)


def list_refunds(client, token, order):
    return client.get(f"/api/v1/orders/{order['id']}/refunds",
                      headers=bearer(token) if token else {})


def post_details(client, token, refund_id, body, key: str | None = None):
    headers = bearer(token) | ({"Idempotency-Key": key} if key is not None else {})
    return client.post(f"/api/v1/refunds/{refund_id}/payout-details", json=body,
                       headers=headers)


def register(client, merchant_key, return_id, items, key: str | None = "reg-1"):
    headers = bearer(merchant_key)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/returns/{return_id}/registration", json={"items": items},
                       headers=headers)


def paid_by_hand(db, order) -> None:
    payments.record_transfer(db, order["id"], FULL_PRICE, f"OCR {order['order_number']}",
                             actor="test")


def accepted_jeans(client, db, shop, order) -> dict:
    """The jeans returned and accepted through the merchant API; returns the return."""
    ret = make_return(db, order, {JEANS: 1})
    response = register(client, shop["key"], ret["id"],
                        [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}],
                        key=f"accept-{ret['id']}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def refund(client, db, shop, order):
    """799 kr owed back on `order` (paid in full by hand), waiting for payout details."""
    paid_by_hand(db, order)
    accepted_jeans(client, db, shop, order)
    (row,) = rows_where(db, "refund", "order_id = ?", [order["id"]])
    assert row["status"] == "needs_details"
    return row


# --- POST /orders/{id}/payments ----------------------------------------------------------------

PAYMENTS = "/orders/{order_id}/payments"


def test_payment_without_an_idempotency_key_is_400(client, db, order, contract):
    token = token_for(client, order)
    response = post_payment(client, token, order, {"amount": 1000}, key=None)
    assert_error(response, 400, "malformed")
    assert "Idempotency-Key" in contract(response, PAYMENTS, "post")["error"]["message"]
    assert count(db, "payment") == 0


def test_card_payment_is_201_with_a_checkout_url(client, db, order, contract, with_provider):
    token = token_for(client, order)
    response = post_payment(client, token, order, {"amount": 50000, "method": "card"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = contract(response, PAYMENTS, "post")
    assert is_int(body["id"]) and body["amount"] == 50000
    assert (body["status"], body["method"]) == ("pending", "card")
    assert body["checkout_url"].startswith(with_provider.url + "/checkout/cs_")
    assert body["order_id"] == order["id"]
    assert db.execute("SELECT amount_minor, status FROM payment").fetchall() == [
        (50000, "pending")]


def test_the_same_key_and_body_gets_the_same_answer_and_one_payment(client, db, order, contract,
                                                                    with_provider):
    token = token_for(client, order)
    first = post_payment(client, token, order, {"amount": 50000}, key="retry-me")
    second = post_payment(client, token, order, {"amount": 50000}, key="retry-me")
    assert (first.status_code, second.status_code) == (201, 201)
    assert contract(second, PAYMENTS, "post") == contract(first, PAYMENTS, "post")
    assert count(db, "payment") == 1


def test_the_same_key_with_another_amount_is_422(client, db, order, contract, with_provider):
    token = token_for(client, order)
    assert post_payment(client, token, order, {"amount": 50000}, key="k").status_code == 201
    response = post_payment(client, token, order, {"amount": 40000}, key="k")
    assert_error(response, 422, "invalid")
    contract(response, PAYMENTS, "post")
    assert count(db, "payment") == 1


def test_more_than_payable_now_is_422_with_the_field_and_what_is_allowed(client, db, order,
                                                                        contract):
    make_return(db, order, {JEANS: 1})  # 799 kr paused: 698 kr payable now
    token = token_for(client, order)
    response = post_payment(client, token, order, {"amount": 69801})
    error = assert_error(response, 422, "invalid")
    contract(response, PAYMENTS, "post")
    assert "amount" in error["fields"] and "698,00" in error["fields"]["amount"]
    assert error["allowed"] == 69800
    assert count(db, "payment") == 0


def test_a_bank_account_payment_is_scheduled(client, db, order, contract):
    link_bank_account(db, order["customer_id"])
    token = token_for(client, order)
    response = post_payment(client, token, order, {"amount": 10000, "method": "bank_account"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = contract(response, PAYMENTS, "post")
    assert (body["status"], body["checkout_url"]) == ("scheduled", None)
    assert body["scheduled_for"] == order["due_date"]


@pytest.mark.parametrize("body, field", [
    ({"amount": "500"}, "amount"), ({"amount": 0}, "amount"), ({"amount": 12.5}, "amount"),
    ({}, "amount"), ({"amount": 100, "method": "cash"}, "method"),
])
def test_invalid_payment_bodies_are_422_naming_the_field(client, db, order, contract, body,
                                                         field):
    token = token_for(client, order)
    response = post_payment(client, token, order, body)
    error = assert_error(response, 422, "invalid")
    contract(response, PAYMENTS, "post")
    assert field in error["fields"]
    assert count(db, "payment") == 0


def test_paying_another_customers_order_is_404(client, db, order, other_order, contract):
    token = token_for(client, order)
    response = post_payment(client, token, other_order, {"amount": 1000})
    assert_error(response, 404, "not_found")
    contract(response, PAYMENTS, "post")
    assert count(db, "payment") == 0


def test_paying_without_a_token_is_401(client, db, order, contract):
    response = post_payment(client, None, order, {"amount": 1000})
    assert_error(response, 401, "unauthorized")
    contract(response, PAYMENTS, "post")
    response = post_payment(client, "not-a-token", order, {"amount": 1000})
    assert_error(response, 401, "unauthorized")
    assert count(db, "payment") == 0


# --- GET /orders/{id}/refunds ------------------------------------------------------------------

REFUNDS = "/orders/{order_id}/refunds"


def test_an_order_without_refunds_lists_none(client, order, contract):
    response = list_refunds(client, token_for(client, order), order)
    assert response.status_code == 200
    assert contract(response, REFUNDS, "get") == {"refunds": []}


def test_refunds_list_id_amount_status_and_destination(client, order, refund, contract):
    response = list_refunds(client, token_for(client, order), order)
    assert response.status_code == 200
    (listed,) = contract(response, REFUNDS, "get")["refunds"]
    assert {k: listed[k] for k in ("id", "amount", "status", "destination")} == {
        "id": refund["id"], "amount": 79900, "status": "needs_details", "destination": None}


def test_another_customers_refunds_are_404_and_no_token_401(client, order, other_order,
                                                            contract):
    token = token_for(client, order)
    response = list_refunds(client, token, other_order)
    assert_error(response, 404, "not_found")
    contract(response, REFUNDS, "get")
    response = list_refunds(client, None, order)
    assert_error(response, 401, "unauthorized")
    contract(response, REFUNDS, "get")


# --- POST /refunds/{id}/payout-details ---------------------------------------------------------

DETAILS = "/refunds/{refund_id}/payout-details"


@pytest.mark.parametrize("body, kind, masked_end", [
    ({"clearing_number": SEB, "account_number": SEB_ACCOUNT}, "bank_account",
     SEB_ACCOUNT[-4:]),
    ({"iban": "SE45 5000 0000 0583 9825 7466"}, "iban", "7466"),
    ({"swish_number": "070-123 45 67"}, "swish", "67"),
])
def test_payout_details_make_the_refund_ready(client, db, order, refund, contract, body, kind,
                                              masked_end):
    token = token_for(client, order)
    response = post_details(client, token, refund["id"], body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = contract(response, DETAILS, "post")
    assert (answer["id"], answer["status"], answer["amount"]) == (refund["id"], "ready", 79900)
    assert answer["destination"].endswith(masked_end)
    assert "••••" in answer["destination"] or "•••" in answer["destination"]
    assert by_id(db, "refund", refund["id"])["destination_kind"] == kind
    listed = contract(list_refunds(client, token, order), REFUNDS, "get")["refunds"]
    assert [(r["status"], r["destination"]) for r in listed] == [
        ("ready", answer["destination"])]


@pytest.mark.parametrize("body, field", [
    ({"clearing_number": "12", "account_number": SEB_ACCOUNT}, "clearing_number"),
    ({"clearing_number": SEB, "account_number": "12ab"}, "account_number"),
    ({"iban": "SE45 5000 0000 0583 9825 7467"}, "iban"),
    ({"swish_number": "08-123 456 78"}, "swish_number"),
    ({"swish_number": 701234567}, "swish_number"),
    ({}, "destination"),
    ({"iban": "SE45 5000 0000 0583 9825 7466", "swish_number": "0701234567"}, "destination"),
])
def test_bad_payout_details_are_422_naming_the_field(client, db, order, refund, contract, body,
                                                     field):
    response = post_details(client, token_for(client, order), refund["id"], body)
    error = assert_error(response, 422, "invalid")
    contract(response, DETAILS, "post")
    assert list(error["fields"]) == [field]
    assert by_id(db, "refund", refund["id"])["status"] == "needs_details"


def test_a_refund_that_already_has_a_destination_is_409(client, db, order, refund, contract):
    token = token_for(client, order)
    assert post_details(client, token, refund["id"],
                        {"swish_number": "0701234567"}).status_code == 200
    response = post_details(client, token, refund["id"], {"iban": "SE4550000000058398257466"})
    assert_error(response, 409, "conflict")
    contract(response, DETAILS, "post")
    assert by_id(db, "refund", refund["id"])["destination_kind"] == "swish"


def test_payout_details_retried_with_the_same_key_get_the_first_answer(client, db, order,
                                                                      refund, contract):
    """The answer to the first request was lost: the app retries with the same key and body
    and gets that answer again, not a 409, and the payout is queued once."""
    token = token_for(client, order)
    body = {"swish_number": "0701234567"}
    first = post_details(client, token, refund["id"], body, key="details-1")
    assert first.status_code == 200, first.get_data(as_text=True)
    again = post_details(client, token, refund["id"], body, key="details-1")
    assert again.status_code == 200, again.get_data(as_text=True)
    assert contract(again, DETAILS, "post") == first.get_json()
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout'").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = "
                      "'refund.destination_set'").fetchone()[0] == 1


def test_payout_details_key_reused_with_other_details_is_422(client, db, order, refund,
                                                             contract):
    token = token_for(client, order)
    assert post_details(client, token, refund["id"], {"swish_number": "0701234567"},
                        key="details-1").status_code == 200
    response = post_details(client, token, refund["id"], {"iban": "SE4550000000058398257466"},
                            key="details-1")
    assert "Idempotency-Key" in assert_error(response, 422, "invalid")["fields"]
    contract(response, DETAILS, "post")
    assert by_id(db, "refund", refund["id"])["destination_kind"] == "swish"


def test_payout_details_without_a_key_still_work_and_a_second_is_409(client, db, order, refund):
    token = token_for(client, order)
    body = {"swish_number": "0701234567"}
    assert post_details(client, token, refund["id"], body).status_code == 200
    assert_error(post_details(client, token, refund["id"], body), 409, "conflict")
    assert_error(post_details(client, token, refund["id"], body, key=" "), 400, "malformed")


def test_another_customers_refund_is_404(client, db, shop, order, other_order, contract):
    paid_by_hand(db, other_order)
    accepted_jeans(client, db, shop, other_order)
    (theirs,) = rows_where(db, "refund", "order_id = ?", [other_order["id"]])
    response = post_details(client, token_for(client, order), theirs["id"],
                            {"swish_number": "0701234567"})
    assert_error(response, 404, "not_found")
    contract(response, DETAILS, "post")
    assert by_id(db, "refund", theirs["id"])["status"] == "needs_details"
    response = post_details(client, token_for(client, order), 999999,
                            {"swish_number": "0701234567"})
    assert_error(response, 404, "not_found")


def test_payout_details_without_a_token_is_401(client, refund, contract):
    response = client.post(f"/api/v1/refunds/{refund['id']}/payout-details",
                           json={"swish_number": "0701234567"})
    assert_error(response, 401, "unauthorized")
    contract(response, DETAILS, "post")


# --- POST /returns/{id}/registration (merchant) ------------------------------------------------

REGISTRATION = "/returns/{return_id}/registration"


def test_registration_answers_200_with_the_return(client, db, shop, order, contract):
    ret = make_return(db, order, {0: 2, JEANS: 1})
    shirts, jeans = ret["items"]
    response = register(client, shop["key"], ret["id"], [
        {"return_item_id": shirts["id"], "accepted_quantity": 1, "rejected_quantity": 1,
         "reason": "Worn"},
        {"return_item_id": jeans["id"], "accepted_quantity": 1}])
    assert response.status_code == 200, response.get_data(as_text=True)
    body = contract(response, REGISTRATION, "post")
    assert (body["id"], body["status"]) == (ret["id"], "resolved")
    decided = {i["id"]: (i["accepted_quantity"], i["rejected_quantity"]) for i in body["items"]}
    assert decided == {shirts["id"]: (1, 1), jeans["id"]: (1, 0)}


def test_registration_retried_with_the_same_key_happens_once(client, db, shop, order, contract):
    paid_by_hand(db, order)
    ret = make_return(db, order, {JEANS: 1})
    items = [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]
    first = register(client, shop["key"], ret["id"], items, key="same")
    second = register(client, shop["key"], ret["id"], items, key="same")
    assert contract(first, REGISTRATION, "post") == contract(second, REGISTRATION, "post")
    assert count(db, "refund") == 1
    assert db.execute("SELECT count(*) FROM ledger_entry WHERE kind = 'credit'").fetchone()[0] \
        == 1


def test_registration_without_an_idempotency_key_is_400(client, db, shop, order, contract):
    ret = make_return(db, order)
    response = register(client, shop["key"], ret["id"],
                        [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}],
                        key=None)
    assert_error(response, 400, "malformed")
    contract(response, REGISTRATION, "post")
    assert by_id(db, "return_item", ret["items"][0]["id"])["accepted_quantity"] == 0


def test_another_merchants_return_is_404(client, db, order, contract):
    ret = make_return(db, order)
    _, other_key = make_merchant(db, "Other Shop")
    response = register(client, other_key, ret["id"],
                        [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}])
    assert_error(response, 404, "not_found")
    contract(response, REGISTRATION, "post")
    assert by_id(db, "returns", ret["id"])["status"] == "reported"


def test_registration_by_a_customer_token_is_401(client, db, order, contract):
    ret = make_return(db, order)
    response = register(client, token_for(client, order), ret["id"],
                        [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}])
    assert_error(response, 401, "unauthorized")
    contract(response, REGISTRATION, "post")


def test_deciding_more_than_was_returned_is_422(client, db, shop, order, contract):
    ret = make_return(db, order, {0: 1})
    item_id = ret["items"][0]["id"]
    response = register(client, shop["key"], ret["id"],
                        [{"return_item_id": item_id, "accepted_quantity": 1,
                          "rejected_quantity": 1, "reason": "Worn"}])
    error = assert_error(response, 422, "invalid")
    contract(response, REGISTRATION, "post")
    assert error["fields"] == {"items[0].accepted_quantity":
                               "Only 1 of this item is still undecided."}
    # Decided once: a second decision on the same item is over-deciding too.
    assert register(client, shop["key"], ret["id"],
                    [{"return_item_id": item_id, "accepted_quantity": 1}],
                    key="reg-2").status_code == 200
    again = register(client, shop["key"], ret["id"],
                     [{"return_item_id": item_id, "accepted_quantity": 1}], key="reg-3")
    assert again.status_code in (409, 422)
    contract(again, REGISTRATION, "post")
    assert by_id(db, "return_item", item_id)["accepted_quantity"] == 1


def test_the_refund_a_registration_creates_is_visible_to_the_customer(client, db, shop, order,
                                                                     contract):
    paid_by_hand(db, order)
    token = token_for(client, order)
    assert contract(list_refunds(client, token, order), REFUNDS, "get") == {"refunds": []}
    accepted_jeans(client, db, shop, order)
    (listed,) = contract(list_refunds(client, token, order), REFUNDS, "get")["refunds"]
    assert (listed["amount"], listed["status"], listed["destination"]) == (
        79900, "needs_details", None)
    # And the customer can finish it through the API.
    response = post_details(client, token, listed["id"], {"swish_number": "0701234567"})
    assert contract(response, DETAILS, "post")["status"] == "ready"


def test_a_refund_to_the_linked_bank_account_starts_ready(client, db, shop, order, contract):
    link_customer_bank_account(db)
    paid_by_hand(db, order)
    accepted_jeans(client, db, shop, order)
    (listed,) = contract(list_refunds(client, token_for(client, order), order), REFUNDS,
                         "get")["refunds"]
    assert listed["status"] == "ready" and "Swedbank" in listed["destination"]
