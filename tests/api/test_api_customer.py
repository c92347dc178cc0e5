"""The customer's side of the JSON API: session, order, returns, and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.services import customers, merchants
from tests.api_helpers import assert_error, bearer, count, is_int
from tests.builders import INSTRUCTIONS, make_merchant, make_order, make_return
from tests.rows import by_id

EMAIL = "kund@example.se"
OTHER_EMAIL = "annan@example.se"
SESSION = "/api/v1/customer/session"
AMOUNT_KEYS = {"total", "payable_now", "paused", "paid", "refunded", "refund_owed"}


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def order(db, shop):
    """Lines: 0 = 2 x SHIRT-M at 29900, 1 = 1 x JEANS-32 at 79900, 2 = a gift card (can't be
    returned)."""
    return make_order(db, shop["id"], merchant_reference="A-1")


@pytest.fixture
def other_order(db, shop):
    """Another customer's order at the same shop."""
    return make_order(db, shop["id"], merchant_reference="B-1",
                      customer={"email": OTHER_EMAIL, "name": "Alex Annan"})


# --- helpers --------------------------------------------------------------------------------

def start_session(client, order_number: str, email: str = EMAIL, client_ip: str | None = None):
    environ = {"REMOTE_ADDR": client_ip} if client_ip else {}
    return client.post(SESSION, json={"order_number": order_number, "email": email},
                       environ_base=environ)


def token_for(client, order: dict, email: str = EMAIL) -> str:
    response = start_session(client, order["order_number"], email)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["token"]


def get_order(client, token: str | None, order_id: int):
    return client.get(f"/api/v1/orders/{order_id}", headers=bearer(token) if token else {})


def fetched(client, token: str, order_id: int) -> dict:
    response = get_order(client, token, order_id)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def item(order: dict, index: int = 0, quantity: int = 1, reason: str = "too_small", **extra):
    return {"line_id": order["lines"][index]["id"], "quantity": quantity, "reason": reason,
            **extra}


def report(client, token: str, order: dict, *items, body=None):
    return client.post(f"/api/v1/orders/{order['id']}/returns",
                       json=body if body is not None else {"items": list(items)},
                       headers=bearer(token))


def reported(response) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def shipment(client, token: str | None, return_id: int, body=None):
    return client.post(f"/api/v1/returns/{return_id}/shipment", json=body,
                       headers=bearer(token) if token else {})


def cancel(client, token: str | None, return_id: int):
    return client.post(f"/api/v1/returns/{return_id}/cancel",
                       headers=bearer(token) if token else {})


def return_status(db, return_id: int) -> str:
    return by_id(db, "returns", return_id)["status"]


def line(order_body: dict, index: int) -> dict:
    return order_body["lines"][index]


# --- POST /customer/session -----------------------------------------------------------------

@pytest.mark.parametrize(("spell_number", "email"), [
    (lambda n: n, EMAIL),
    (lambda n: n.replace("-", ""), EMAIL),
    (lambda n: n.replace("-", " "), EMAIL),
    (lambda n: f"  {n.replace('-', '')} ", EMAIL),
    (lambda n: n, "KUND@Example.SE"),
    (lambda n: n, f"  {EMAIL}  "),
], ids=["as printed", "no dashes", "spaces", "padded", "email case", "email padded"])
def test_right_pair_gets_a_token_for_that_order(client, order, spell_number, email):
    response = start_session(client, spell_number(order["order_number"]), email)
    assert response.status_code == 201, response.get_data(as_text=True)
    token = response.get_json()["token"]
    assert isinstance(token, str) and len(token) >= 32
    assert fetched(client, token, order["id"])["order_number"] == order["order_number"]


def test_each_session_gets_its_own_token(client, order):
    assert token_for(client, order) != token_for(client, order)


def test_wrong_pair_is_404_with_the_same_message_whatever_is_wrong(client, order, other_order):
    digits = order["order_number"].replace("-", "")
    wrong_number = f"{(int(digits) + 1) % 10**9:09d}"
    attempts = {
        "unknown number": (wrong_number, EMAIL),
        "wrong email": (order["order_number"], "someone@example.se"),
        "another customer's email": (order["order_number"], OTHER_EMAIL),
        "another customer's order": (other_order["order_number"], EMAIL),
        "not an email": (order["order_number"], "kund"),
    }
    messages = set()
    for number, email in attempts.values():
        messages.add(assert_error(start_session(client, number, email), 404,
                                  "not_found")["message"])
    assert messages == {customers.NOT_FOUND_MESSAGE}


def test_session_body_must_be_a_json_object(client, order):
    response = client.post(SESSION, data="order_number=1", content_type="application/json")
    assert_error(response, 400, "malformed")
    response = client.post(SESSION, data="order_number=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_repeated_guessing_of_one_order_is_429_even_for_the_right_pair(client, order):
    for _ in range(customers.LOOKUP_LIMIT_PER_ORDER):
        assert_error(start_session(client, order["order_number"], "guess@example.se"), 404,
                     "not_found")

    limited = start_session(client, order["order_number"], EMAIL)
    assert_error(limited, 429, "rate_limited")
    retry_after = int(limited.headers["Retry-After"])
    assert retry_after == int(customers.LOOKUP_WINDOW.total_seconds())

    # The limit lifts when the window has passed.
    later = clock.now() + customers.LOOKUP_WINDOW + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        assert start_session(client, order["order_number"], EMAIL).status_code == 201


def test_one_client_guessing_many_order_numbers_is_429(client, order):
    for n in range(customers.LOOKUP_LIMIT_PER_CLIENT):
        assert_error(start_session(client, f"{n:09d}"), 404, "not_found")

    limited = start_session(client, order["order_number"], EMAIL)
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    # Another client is not held back by the guesser.
    assert start_session(client, order["order_number"], EMAIL, client_ip="10.9.8.7"
                         ).status_code == 201


# --- GET /orders/{id} -----------------------------------------------------------------------

def test_order_has_lines_with_returnable_quantity_and_integer_amounts(client, order):
    body = fetched(client, token_for(client, order), order["id"])
    assert body["id"] == order["id"]
    assert [(x["id"], x["returnable_quantity"]) for x in body["lines"]] == [
        (order["lines"][0]["id"], 2), (order["lines"][1]["id"], 1), (order["lines"][2]["id"], 0)]
    amounts = body["amounts"]
    assert set(amounts) == AMOUNT_KEYS
    assert all(is_int(v) for v in amounts.values()), amounts
    assert amounts["total"] == amounts["payable_now"] == 2 * 29900 + 79900 + 10000
    assert amounts["paused"] == amounts["paid"] == amounts["refund_owed"] == 0


def test_token_for_one_order_does_not_open_another_customers_order(client, order, other_order):
    token = token_for(client, order)
    not_yours = assert_error(get_order(client, token, other_order["id"]), 404, "not_found")
    missing = assert_error(get_order(client, token, 10**6), 404, "not_found")
    assert not_yours["message"] == missing["message"]
    assert OTHER_EMAIL not in str(not_yours)


@pytest.mark.parametrize("token", [None, "ct_not-a-real-token"], ids=["no token", "bad token"])
def test_order_without_a_valid_token_is_401(client, order, token):
    assert_error(get_order(client, token, order["id"]), 401, "unauthorized")


def test_token_expires(client, order):
    token = token_for(client, order)
    with time_machine.travel(clock.now() + customers.TOKEN_LIFETIME + timedelta(minutes=1),
                             tick=False):
        assert_error(get_order(client, token, order["id"]), 401, "unauthorized")


def test_a_merchant_key_is_not_a_customer_token(client, db, order):
    _, key = make_merchant(db, "Key Shop")
    assert_error(get_order(client, key, order["id"]), 401, "unauthorized")


# --- POST /orders/{id}/returns --------------------------------------------------------------

def test_report_return_is_201_with_items_and_the_sanitized_instructions(client, db, order):
    token = token_for(client, order)
    body = reported(report(client, token, order, item(order, 0, 2, "too_small"),
                           item(order, 1, 1, "other", comment="Wrong colour")))

    assert is_int(body["id"])
    assert body["order_id"] == order["id"]
    assert body["status"] == "reported"
    assert [{k: i[k] for k in ("line_id", "quantity", "reason")} for i in body["items"]] == [
        {"line_id": order["lines"][0]["id"], "quantity": 2, "reason": "too_small"},
        {"line_id": order["lines"][1]["id"], "quantity": 1, "reason": "other"}]
    stored = [r[0] for r in db.execute("SELECT id FROM return_item WHERE return_id = ?"
                                       " ORDER BY id", [body["id"]]).fetchall()]
    assert sorted(i["id"] for i in body["items"]) == stored

    published = merchants.current_instructions(db, order["merchant_id"], None)
    assert body["instructions"]["version"] == published["version"] == 1
    assert body["instructions"]["html"] == published["html"]
    assert "<ol>" in body["instructions"]["html"] and "Pack the items." in published["html"]


def test_instructions_html_is_sanitized(client, db):
    hostile = INSTRUCTIONS.replace(
        "1. Pack the items.",
        '1. Pack the items. <script>alert("x")</script> <img src=x onerror=alert(1)>\n'
        "2. [Print the label](javascript:alert(1))")
    merchant, _ = make_merchant(db, "Hostile Shop", instructions=hostile)
    order = make_order(db, merchant["id"], merchant_reference="H-1")
    html = reported(report(client, token_for(client, order), order, item(order)))[
        "instructions"]["html"]
    assert "Pack the items." in html
    assert not re.search(r"<\s*(script|img)\b", html, re.IGNORECASE), html
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.IGNORECASE), html
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.IGNORECASE), html


def test_reported_items_are_paused_and_no_longer_payable_now(client, order):
    token = token_for(client, order)
    before = fetched(client, token, order["id"])["amounts"]
    reported(report(client, token, order, item(order, 0, 1), item(order, 1, 1)))
    after = fetched(client, token, order["id"])
    value = 29900 + 79900
    assert after["amounts"]["paused"] == value
    assert after["amounts"]["payable_now"] == before["payable_now"] - value
    assert after["amounts"]["total"] == before["total"]
    assert [line(after, i)["returnable_quantity"] for i in range(3)] == [1, 0, 0]


def another_orders_line(order, other):
    return {"items": [item(other, 0)]}


INVALID_RETURNS = [
    ("no items", lambda o, other: {"items": []}, "items"),
    ("items missing", lambda o, other: {}, "items"),
    ("more than returnable_quantity", lambda o, other: {"items": [item(o, 0, 3)]},
     "items[0].quantity"),
    ("quantity 0", lambda o, other: {"items": [item(o, 0, 0)]}, "items[0].quantity"),
    ("non-returnable line", lambda o, other: {"items": [item(o, 1), item(o, 2)]},
     "items[1].quantity"),
    ("unknown reason", lambda o, other: {"items": [item(o, 0, 1, "bored")]}, "items[0].reason"),
    ("other without comment", lambda o, other: {"items": [item(o, 0, 1, "other")]},
     "items[0].comment"),
    ("other with blank comment", lambda o, other: {"items": [item(o, 0, 1, "other",
                                                                  comment="  ")]},
     "items[0].comment"),
    ("a line of another order", another_orders_line, "items[0].line_id"),
    ("the same line twice", lambda o, other: {"items": [item(o, 0), item(o, 0)]},
     "items[1].line_id"),
]


@pytest.mark.parametrize(("body", "field"), [case[1:] for case in INVALID_RETURNS],
                         ids=[case[0] for case in INVALID_RETURNS])
def test_invalid_return_is_422_naming_the_item(client, db, order, other_order, body, field):
    token = token_for(client, order)
    error = assert_error(report(client, token, order, body=body(order, other_order)), 422,
                         "invalid")
    assert set(error["fields"]) == {field}
    assert count(db, "returns") == count(db, "return_item") == 0
    assert fetched(client, token, order["id"])["amounts"]["paused"] == 0


def test_return_on_another_customers_order_is_404(client, db, order, other_order):
    token = token_for(client, order)
    assert_error(report(client, token, other_order, item(other_order)), 404, "not_found")
    assert count(db, "returns") == 0


def test_same_items_reported_twice_names_the_first_return(client, db, order):
    token = token_for(client, order)
    first = reported(report(client, token, order, item(order, 0, 2)))
    error = assert_error(report(client, token, order, item(order, 0, 1)), 422, "invalid")
    assert error["existing_return_id"] == first["id"]
    assert set(error["fields"]) == {"items[0].quantity"}
    assert count(db, "returns") == 1


def window_closing_date(order: dict) -> datetime:
    """Noon UTC on the last day of the test shop's 30-day return window."""
    days = 30
    assert "return_window_days: 30" in INSTRUCTIONS
    last_day = clock.days_after(clock.parse(order["delivered_at"]), days)
    return datetime.combine(last_day, time(12), tzinfo=UTC)


def test_return_on_the_last_day_of_the_window_is_accepted(client, order):
    with time_machine.travel(window_closing_date(order), tick=False):
        reported(report(client, token_for(client, order), order, item(order)))


def test_return_after_the_window_closed_is_422_naming_days_and_date(client, db, order):
    last_day = window_closing_date(order)
    with time_machine.travel(last_day + timedelta(days=1), tick=False):
        error = assert_error(report(client, token_for(client, order), order, item(order)),
                             422, "invalid")
    assert "30-day" in error["message"]
    assert clock.local_date(last_day).isoformat() in error["message"]
    assert "items" in error["fields"]
    assert count(db, "returns") == 0


# --- shipment and cancel --------------------------------------------------------------------

@pytest.fixture
def token(client, order):
    return token_for(client, order)


@pytest.fixture
def open_return(client, token, order):
    return reported(report(client, token, order, item(order, 0, 1)))


@pytest.mark.parametrize(("body", "tracking"), [
    ({}, None),
    ({"tracking_number": None}, None),
    ({"tracking_number": ""}, None),
    ({"tracking_number": "JJD0002249"}, "JJD0002249"),
    ({"tracking_number": "  00340434 1610-94 "}, "00340434 1610-94"),
], ids=["empty object", "null", "empty string", "plain", "spaces and dashes"])
def test_shipment_marks_the_return_sent(client, db, token, open_return, body, tracking):
    response = shipment(client, token, open_return["id"], body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert (answer["id"], answer["status"], answer["tracking_number"]) == (
        open_return["id"], "sent", tracking)
    assert return_status(db, open_return["id"]) == "sent"


@pytest.mark.parametrize("tracking", [
    "AB<script>", "123;456", "ABC/123", "x" * 65, 12345, ["AB1"],
], ids=["angle brackets", "semicolon", "slash", "too long", "number", "list"])
def test_bad_tracking_number_is_422_and_nothing_changes(client, db, token, open_return,
                                                        tracking):
    error = assert_error(shipment(client, token, open_return["id"],
                                  {"tracking_number": tracking}), 422, "invalid")
    assert set(error["fields"]) == {"tracking_number"}
    assert return_status(db, open_return["id"]) == "reported"


def test_shipment_twice_is_409(client, db, token, open_return):
    assert shipment(client, token, open_return["id"], {"tracking_number": "A1"}
                    ).status_code == 200
    assert_error(shipment(client, token, open_return["id"], {"tracking_number": "B2"}), 409,
                 "conflict")
    assert by_id(db, "returns", open_return["id"])["tracking_number"] == "A1"


def test_cancel_after_sent_is_409(client, db, token, open_return):
    assert shipment(client, token, open_return["id"], {}).status_code == 200
    assert_error(cancel(client, token, open_return["id"]), 409, "conflict")
    assert return_status(db, open_return["id"]) == "sent"


def test_cancel_a_reported_return_restores_the_line_and_ends_the_pause(client, db, token,
                                                                        order, open_return):
    during = fetched(client, token, order["id"])
    assert (line(during, 0)["returnable_quantity"], during["amounts"]["paused"]) == (1, 29900)

    response = cancel(client, token, open_return["id"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "cancelled"

    after = fetched(client, token, order["id"])
    assert line(after, 0)["returnable_quantity"] == 2
    assert after["amounts"]["paused"] == 0
    assert after["amounts"]["payable_now"] == after["amounts"]["total"]
    assert_error(cancel(client, token, open_return["id"]), 409, "conflict")
    # The items can be reported again.
    reported(report(client, token, order, item(order, 0, 2)))


def test_another_customers_return_is_404_for_shipment_and_cancel(client, db, order,
                                                                  other_order):
    theirs = make_return(db, other_order)
    token = token_for(client, order)
    for response in (shipment(client, token, theirs["id"], {"tracking_number": "A1"}),
                     cancel(client, token, theirs["id"]),
                     shipment(client, token, 10**6, {}), cancel(client, token, 10**6)):
        assert_error(response, 404, "not_found")
    assert return_status(db, theirs["id"]) == "reported"


def test_shipment_and_cancel_need_a_token(client, db, open_return):
    assert_error(shipment(client, None, open_return["id"]), 401, "unauthorized")
    assert_error(cancel(client, None, open_return["id"]), 401, "unauthorized")
    assert return_status(db, open_return["id"]) == "reported"


# --- ids and bodies that can't be read --------------------------------------------------------

TOO_BIG_ID = 2**64  # beyond SQLite's integers


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/orders/{id}"),
    ("post", "/api/v1/orders/{id}/returns"),
    ("post", "/api/v1/returns/{id}/shipment"),
    ("post", "/api/v1/returns/{id}/cancel"),
])
def test_an_id_too_big_for_the_database_is_404(client, token, method, path):
    response = getattr(client, method)(path.format(id=TOO_BIG_ID), headers=bearer(token),
                                       json={"items": []} if path.endswith("returns") else None)
    assert_error(response, 404, "not_found")


def test_html_order_page_with_an_id_too_big_for_the_database_is_404(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get(f"/orders/{TOO_BIG_ID}").status_code == 404


def test_return_and_shipment_bodies_must_be_json_objects(client, db, token, order,
                                                         open_return):
    assert_error(client.post(f"/api/v1/orders/{order['id']}/returns", data="items=1",
                             content_type="application/json", headers=bearer(token)), 400,
                 "malformed")
    assert_error(client.post(f"/api/v1/returns/{open_return['id']}/shipment", data="[]",
                             content_type="application/json", headers=bearer(token)), 400,
                 "malformed")
    assert count(db, "returns") == 1
    assert return_status(db, open_return["id"]) == "reported"


# --- GET /openapi.json ----------------------------------------------------------------------

def implemented_api_operations(app) -> set[tuple[str, str]]:
    """(path as OpenAPI writes it below the /api/v1 server, method) for every API route."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add((path, method.lower()))
    return operations


def resolve(document: dict, pointer: str):
    assert pointer.startswith("#/"), pointer
    node = document
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs_in(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs_in(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs_in(value)]
    return []


JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def conforms(document: dict, schema: dict, value, where: str = "$") -> list[str]:
    """Just enough of JSON Schema to check a real answer against the document's schemas."""
    if "$ref" in schema:
        return conforms(document, resolve(document, schema["$ref"]), value, where)
    types = schema.get("type")
    types = [types] if isinstance(types, str) else types or []
    if types and not any(is_int(value) if t == "integer" else isinstance(value, JSON_TYPES[t])
                         for t in types):
        return [f"{where}: {value!r} is not {types}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, dict):
        problems += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                problems += conforms(document, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, element in enumerate(value):
            problems += conforms(document, schema["items"], element, f"{where}[{i}]")
    return problems


@pytest.fixture
def openapi(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def test_openapi_document_is_version_3_and_lists_every_implemented_path(app, openapi):
    assert str(openapi["openapi"]).startswith("3")
    documented = {(path, method) for path, item in openapi["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    implemented = implemented_api_operations(app)
    assert {("/orders", "post"), ("/customer/session", "post"), ("/orders/{order_id}", "get"),
            ("/orders/{order_id}/returns", "post"), ("/returns/{return_id}/shipment", "post"),
            ("/returns/{return_id}/cancel", "post")} <= implemented
    assert implemented - documented == set()
    # The contract's operations built in other branches are documented before they are routed.
    assert documented - implemented <= {("/returns", "get"), ("/instructions", "put"),
                                        ("/support/stuck-refunds", "get")}


def test_openapi_every_ref_resolves(openapi):
    refs = refs_in(openapi)
    assert len(refs) > 10
    for pointer in set(refs):
        assert isinstance(resolve(openapi, pointer), dict), pointer


def test_openapi_schemas_describe_the_real_answers(client, openapi, order):
    token = token_for(client, order)
    paths = openapi["paths"]

    def schema(path, method, status):
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    ret = reported(report(client, token, order, item(order)))
    answers = [
        (schema("/orders/{order_id}", "get", "200"), fetched(client, token, order["id"])),
        (schema("/orders/{order_id}/returns", "post", "201"), ret),
        (schema("/orders/{order_id}/returns", "post", "422"),
         report(client, token, order, item(order, 2)).get_json()),
        (schema("/returns/{return_id}/shipment", "post", "200"),
         shipment(client, token, ret["id"], {"tracking_number": "A1"}).get_json()),
        (schema("/customer/session", "post", "404"),
         start_session(client, order["order_number"], OTHER_EMAIL).get_json()),
    ]
    for expected, answer in answers:
        assert conforms(openapi, expected, answer) == []
