"""The JSON API in the caller's language: Accept-Language picks Swedish or English messages
(English without one), codes never change, and every field of the OpenAPI request schemas is
told what is wrong with that field, in both languages."""

from __future__ import annotations

import copy
import itertools

import pytest

from returns_app.api.openapi import document
from returns_app.services import customers
from tests.api_helpers import assert_error, bearer
from tests.builders import checkout_payload, make_merchant, make_order, make_return

SV = {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
_KEYS = itertools.count(1)


@pytest.fixture
def world(db):
    merchant, key = make_merchant(db)
    order = make_order(db, merchant["id"])
    ret = make_return(db, order)
    token = customers.create_api_session(db, order["order_number"], "kund@example.se",
                                         "127.0.0.1")
    return {"merchant": merchant, "key": key, "order": order, "return": ret, "token": token}


def test_accept_language_sv_gets_swedish_and_the_code_stays(client, world):
    response = client.get("/api/v1/orders/999999", headers={**bearer(world["token"]), **SV})
    error = assert_error(response, 404, "not_found")
    assert error["message"] == "Vi hittade inte den ordern."
    assert response.headers["Content-Language"] == "sv"
    assert "Accept-Language" in response.headers["Vary"]
    english = client.get("/api/v1/orders/999999", headers={**bearer(world["token"]), **EN})
    assert assert_error(english, 404, "not_found")["message"] == "We couldn't find that order."
    assert english.headers["Content-Language"] == "en"


def test_a_message_made_of_its_fields_is_in_the_callers_language(client, world):
    response = client.post(f"/api/v1/returns/{world['return']['id']}/shipment",
                           json={"tracking_number": 7}, headers={**bearer(world["token"]), **SV})
    assert assert_error(response, 422, "invalid")["message"] == (
        "tracking_number: Måste vara text (en JSON-sträng).")


def test_without_accept_language_the_api_stays_english(client, world):
    response = client.get("/api/v1/orders/1")  # no credentials either
    error = assert_error(response, 401, "unauthorized")
    assert error["message"] == "Send your session token as 'Authorization: Bearer <token>'."
    assert response.headers["Content-Language"] == "en"
    # A language the API doesn't speak is English too, and a session's choice is not the API's.
    with client.session_transaction() as session:
        session["language"] = "sv"
    response = client.get("/api/v1/nowhere", headers={"Accept-Language": "de"})
    assert assert_error(response, 404, "not_found")["message"] == "Not found, or not yours."


def test_werkzeugs_own_errors_and_media_type_errors_are_swedish_too(client, world):
    response = client.post("/api/v1/orders", data="x", content_type="text/plain",
                           headers={**bearer(world["key"]), **SV})
    assert assert_error(response, 415, "unsupported_media_type")["message"] == (
        "Skicka kroppen som application/json, inte som text/plain.")
    response = client.delete("/api/v1/openapi.json", headers=SV)
    assert assert_error(response, 405, "method_not_allowed")["message"].startswith(
        "Metoden är inte tillåten")


def test_success_answers_say_their_language_and_vary(client, world):
    response = client.get(f"/api/v1/orders/{world['order']['id']}",
                          headers={**bearer(world["token"]), **SV})
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "sv"
    assert "Accept-Language" in response.headers["Vary"]


def test_a_quantity_is_not_an_amount_and_a_long_comment_is_told_its_limit(client, world):
    line_id = world["order"]["lines"][0]["id"]
    body = {"items": [{"line_id": line_id, "quantity": "two", "reason": "other",
                       "comment": "x" * 501}]}
    url = f"/api/v1/orders/{world['order']['id']}/returns"
    error = assert_error(client.post(url, json=body, headers={**bearer(world["token"]), **EN}),
                         422, "invalid")
    assert error["fields"] == {
        "items[0].quantity": "Must be a whole number of items, such as 1.",
        "items[0].comment": "Must be at most 500 characters; this has 501."}
    swedish = assert_error(client.post(url, json=body, headers={**bearer(world["token"]), **SV}),
                           422, "invalid")
    assert swedish["fields"] == {
        "items[0].quantity": "Måste vara ett helt antal varor, till exempel 1.",
        "items[0].comment": "Får ha högst 500 tecken; det här har 501."}
    assert swedish["message"] == "Några värden är inte giltiga."


# --- every field of every JSON request schema -------------------------------------------------

def _resolve(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _leaves(schema: dict, components: dict, path: str = ""):
    """(JSON path, schema) of every scalar field, arrays entered at their first item."""
    schema = _resolve(schema, components)
    if schema.get("type") == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            yield from _leaves(sub, components, f"{path}.{name}" if path else name)
    elif schema.get("type") == "array" and "properties" in _resolve(schema["items"], components):
        yield from _leaves(schema["items"], components, f"{path}[0]")
    else:
        yield path, schema


def _invalid_values(schema: dict):
    """(why, value) pairs the schema refuses: a wrong type, and each bound crossed."""
    types = schema.get("type")
    types = set(types if isinstance(types, list) else [types])
    if "integer" in types:
        yield "type", "seven"
        if "minimum" in schema:
            yield "range", schema["minimum"] - 1
        if "maximum" in schema:
            yield "range", schema["maximum"] + 1
    elif "boolean" in types:
        yield "type", "yes"
    elif "string" in types:
        yield "type", 12345
        if "enum" in schema:
            yield "enum", "not-one-of-them"
        if "maxLength" in schema:
            yield "length", "a" * (schema["maxLength"] + 1)
    elif "array" in types:
        yield "type", "return.reported"


def _set(body: dict, path: str, value) -> dict:
    body = copy.deepcopy(body)
    parts = path.replace("[0]", ".0").split(".")
    target = body
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = value
    return body


def _requests(world):
    """Per JSON request schema: the operation, a valid body and the credentials."""
    order, ret, merchant_key, token = (world["order"], world["return"], world["key"],
                                       world["token"])
    item = ret["items"][0]
    return {
        ("post", "/orders"): (merchant_key, checkout_payload()),
        ("post", f"/orders/{order['id']}/returns"): (token, {"items": [
            {"line_id": order["lines"][1]["id"], "quantity": 1, "reason": "too_small",
             "comment": "ok"}]}),
        ("post", f"/orders/{order['id']}/payments"): (token, {"amount": 100, "method": "card"}),
        ("post", f"/returns/{ret['id']}/registration"): (merchant_key, {"items": [
            {"return_item_id": item["id"], "received_quantity": 0, "accepted_quantity": 1,
             "rejected_quantity": 0, "reason": "ok"}]}),
        ("post", f"/returns/{ret['id']}/shipment"): (token, {"tracking_number": "AB 123"}),
        ("post", "/webhook-endpoints"): (merchant_key, {
            "url": "https://shop.example.com/hooks", "events": ["return.reported"]}),
        ("post", "/customer/session"): (None, {"order_number": order["order_number"],
                                               "email": "kund@example.se"}),
        ("put", "/customer/bank-account"): (token, {"clearing_number": "5000",
                                                    "account_number": "1234567"}),
        ("post", "/customer/bank-account/mandate"): (token, {"language": "sv"}),
        ("put", "/customer/pay-on-due-date"): (token, {"pay_on_due_date": True}),
    }


def _template_path(path: str) -> str:
    return "/".join("{}" if part.isdigit() else part for part in path.split("/"))


def _cases():
    doc = document()
    components = doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}) \
                if isinstance(operation, dict) else {}
            if "application/json" not in content:
                continue
            schema = _resolve(content["application/json"]["schema"], components)
            if "oneOf" in schema:  # payout details: tests/domain/test_payout_details.py, per shape
                continue
            for field, leaf in _leaves(schema, components):
                for why, value in _invalid_values(leaf):
                    yield pytest.param(method, path, field, why, value,
                                       id=f"{method} {path} {field} {why}")


CASES = list(_cases())


def test_the_table_covers_every_endpoint_with_a_json_body():
    covered = {(method, path) for method, path, *_ in (case.values for case in CASES)}
    assert len(covered) >= 10
    assert ("post", "/orders") in covered and ("post", "/returns/{return_id}/registration") \
        in covered


@pytest.mark.parametrize(("method", "path", "field", "why", "value"), CASES)
def test_each_invalid_field_is_named_and_told_what_is_wrong_in_both_languages(
        client, world, method, path, field, why, value):
    requests = {(m, _template_path(p)): (m, p, credentials, body)
                for (m, p), (credentials, body) in _requests(world).items()}
    key = (method, "/".join("{}" if part.startswith("{") else part for part in path.split("/")))
    _method, concrete, credentials, body = requests[key]
    answers = {}
    for language, headers in (("en", EN), ("sv", SV)):
        headers = {**headers, "Idempotency-Key": f"lang-{next(_KEYS)}"}
        if credentials:
            headers.update(bearer(credentials))
        response = client.open(f"/api/v1{concrete}", method=method.upper(),
                               json=_set(body, field, value), headers=headers)
        error = assert_error(response, 422, "invalid")
        assert field in error["fields"], (language, error)
        answers[language] = error["fields"][field]
    english, swedish = answers["en"], answers["sv"]
    assert english != swedish, english
    assert "minor units" not in english or field.endswith(("amount", "unit_price")), english
    if why == "length":
        assert str(len(value) - 1) in english and str(len(value) - 1) in swedish


# --- query parameters and the payout details' shapes ------------------------------------------

@pytest.mark.parametrize(("query", "field", "english", "swedish"), [
    ("limit=abc", "limit", "Must be a whole number from 1 to 500.",
     "Måste vara ett heltal från 1 till 500."),
    ("offset=-1", "offset", "Must be a whole number from 0 up.",
     "Måste vara ett heltal från 0 och uppåt."),
])
def test_support_query_parameters_are_named_one_by_one(client, db, query, field, english,
                                                       swedish):
    from returns_app.services import support

    user, _ = support.create_support_user(db, "agent@example.se", actor="test")
    token = support.create_token(db, user["email"], actor="test")
    for headers, expected in ((EN, english), (SV, swedish)):
        response = client.get(f"/api/v1/support/stuck-refunds?{query}",
                              headers={**bearer(token), **headers})
        assert assert_error(response, 422, "invalid")["fields"] == {field: expected}


def test_merchant_query_parameters_are_said_in_swedish(client, world):
    response = client.get("/api/v1/returns?limit=0", headers={**bearer(world["key"]), **SV})
    assert assert_error(response, 422, "invalid")["fields"]["limit"].startswith(
        "Måste vara ett heltal från 1 till")


@pytest.mark.parametrize(("body", "field"), [
    ({"clearing_number": 5000, "account_number": "1234567"}, "clearing_number"),
    ({"iban": "SE" + "1" * 70}, "iban"),
    ({"swish_number": True}, "swish_number"),
])
def test_payout_details_fields_are_told_in_both_languages(client, db, world, body, field):
    from tests.support_helpers import refund_needing_details

    refund = refund_needing_details(db, world["merchant"]["id"])
    (number, email) = db.execute(
        "SELECT order_number, customer.email FROM orders JOIN customer ON customer.id ="
        " orders.customer_id WHERE orders.id = ?", [refund["order_id"]]).fetchone()
    token = customers.create_api_session(db, number, email, "127.0.0.1")
    answers = {}
    for language, headers in (("en", EN), ("sv", SV)):
        response = client.post(f"/api/v1/refunds/{refund['id']}/payout-details", json=body,
                               headers={**bearer(token), **headers})
        answers[language] = assert_error(response, 422, "invalid")["fields"][field]
    assert answers["en"] != answers["sv"], answers
