"""The sandbox provider over real HTTP: its API, its idempotency, its failure modes and the
hosted card page (driven with requests, as a browser without JavaScript would)."""

from __future__ import annotations

import ast
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.sandbox_fixtures import start_sandbox, stop_sandbox

PACKAGE = Path(__file__).resolve().parents[2] / "returns_app" / "provider" / "sandbox"
IBAN = "SE4550000000058398257466"
RETURN_URL = "http://127.0.0.1:5000/orders/7/card/done?lang=en"
CANCEL_URL = "http://127.0.0.1:5000/orders/7/card"


def payout_body(**overrides) -> dict:
    body = {"amount": 12_345, "currency": "SEK", "reference": "refund-1",
            "destination": {"type": "iban", "iban": IBAN}}
    return {**body, **overrides}


def post(sandbox, path: str, body: dict, key: str | None = "key-1", **kwargs):
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(sandbox.url + path, json=body, headers=headers,
                         timeout=kwargs.pop("timeout", 5), **kwargs)


def get(sandbox, path: str, **params):
    return requests.get(sandbox.url + path, params=params, timeout=5)


def new_session(sandbox, key="cs-key", **overrides) -> dict:
    body = {"amount": 123_450, "currency": "SEK", "reference": "Order 1001",
            "return_url": RETURN_URL, "cancel_url": CANCEL_URL, **overrides}
    response = post(sandbox, "/v1/checkout-sessions", body, key)
    assert response.status_code == 201, response.text
    return response.json()


CARD_PAYS = {"card_number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "123"}


def pay(session: dict, **form):
    return requests.post(session["url"], data={**CARD_PAYS, **form}, allow_redirects=False,
                         timeout=5)


# -- the package stands for another company -------------------------------------------------------
def test_the_sandbox_imports_nothing_from_the_app():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert not (node.module or "").startswith("returns_app"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("returns_app") for a in node.names), path


def test_sigterm_stops_it_cleanly(tmp_path):
    proc, server = start_sandbox(tmp_path / "log.txt")
    assert requests.get(server.url + "/_sandbox/ledger", timeout=5).ok
    assert stop_sandbox(proc) == 0
    assert "sandbox provider listening on http://127.0.0.1:" in server.log.read_text()


# -- payouts --------------------------------------------------------------------------------------
@pytest.mark.parametrize("destination", [
    {"type": "card", "payment_id": "pay_123"},
    {"type": "bank_account", "clearing_number": "8327", "account_number": "9412345678"},
    {"type": "iban", "iban": "se45 5000 0000 0583 9825 7466"},
    {"type": "swish", "swish_number": "+46701234567"},
])
def test_a_payout_to_each_kind_of_destination_succeeds(sandbox, destination):
    response = post(sandbox, "/v1/payouts", payout_body(destination=destination))
    assert response.status_code == 201
    payout = response.json()
    assert re.fullmatch(r"po_[0-9a-f]+", payout["id"])
    assert payout | {"id": None, "created_at": None} == {
        "id": None, "status": "succeeded", "decline_reason": None, "amount": 12_345,
        "currency": "SEK", "reference": "refund-1", "idempotency_key": "key-1",
        "created_at": None, "destination_type": destination["type"]}
    assert payout["created_at"].endswith("Z")
    assert get(sandbox, f"/v1/payouts/{payout['id']}").json() == payout
    assert get(sandbox, "/v1/payouts", idempotency_key="key-1").json() == payout


def test_unknown_payouts_are_404(sandbox):
    assert get(sandbox, "/v1/payouts", idempotency_key="never").status_code == 404
    missing = get(sandbox, "/v1/payouts/po_0000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert get(sandbox, "/v1/payouts").status_code == 400


def test_a_payout_needs_an_idempotency_key(sandbox):
    response = post(sandbox, "/v1/payouts", payout_body(), key=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"
    assert sandbox.ledger()["executions"] == []


def test_a_body_that_is_not_a_json_object_is_400(sandbox):
    response = requests.post(sandbox.url + "/v1/payouts", data="[1]", timeout=5,
                             headers={"Idempotency-Key": "k", "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": 0}, "amount"),
    ({"amount": "100"}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": 10.5}, "amount"),
    ({"currency": "USD"}, "currency"),
    ({"reference": ""}, "reference"),
    ({"destination": None}, "destination"),
    ({"destination": {"type": "cash"}}, "destination.type"),
    ({"destination": {"type": "card"}}, "destination.payment_id"),
    ({"destination": {"type": "iban", "iban": "SE4550000000058398257467"}}, "destination.iban"),
    ({"destination": {"type": "iban", "iban": "not an iban"}}, "destination.iban"),
    ({"destination": {"type": "bank_account", "clearing_number": "12",
                      "account_number": "123"}}, "destination.clearing_number"),
    ({"destination": {"type": "bank_account", "clearing_number": "8327",
                      "account_number": "12a"}}, "destination.account_number"),
    ({"destination": {"type": "swish", "swish_number": "070"}}, "destination.swish_number"),
])
def test_a_bad_payout_is_422_naming_the_field(sandbox, change, field):
    response = post(sandbox, "/v1/payouts", payout_body(**change))
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid", field)
    assert field in error["message"]
    assert sandbox.ledger()["executions"] == []
    # nothing is remembered for the key: the corrected request goes through
    assert post(sandbox, "/v1/payouts", payout_body()).status_code == 201


def test_the_same_key_and_body_get_the_first_answer_and_execute_once(sandbox):
    first = post(sandbox, "/v1/payouts", payout_body())
    again = post(sandbox, "/v1/payouts", {**payout_body()})  # same JSON, built anew
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    ledger = sandbox.ledger()
    assert ledger["executions_per_key"] == {"key-1": 1}
    assert ledger["money_moved_per_key"] == {"key-1": 1}
    assert ledger["requests_per_key"] == {"key-1": 2}


def test_the_same_key_with_another_body_is_422(sandbox):
    post(sandbox, "/v1/payouts", payout_body())
    reused = post(sandbox, "/v1/payouts", payout_body(amount=1))
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    other_endpoint = post(sandbox, "/v1/debits", {
        "amount": 1, "currency": "SEK", "reference": "r",
        "bank_account": {"clearing_number": "8327", "account_number": "9412345678"}})
    assert other_endpoint.status_code == 422
    assert sandbox.ledger()["executions_per_key"] == {"key-1": 1}


# -- failure modes --------------------------------------------------------------------------------
def test_decline_executes_without_moving_money(sandbox):
    sandbox.mode("decline", times=1)
    declined = post(sandbox, "/v1/payouts", payout_body())
    assert declined.status_code == 201
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "account_closed"
    assert post(sandbox, "/v1/payouts", payout_body(), key="key-2").json()["status"] == "succeeded"
    ledger = sandbox.ledger()
    assert ledger["executions_per_key"] == {"key-1": 1, "key-2": 1}
    assert ledger["money_moved_per_key"] == {"key-2": 1}


def test_error_500_executes_nothing_for_its_times_then_back_to_normal(sandbox):
    sandbox.mode("error_500", times=2)
    assert post(sandbox, "/v1/payouts", payout_body()).status_code == 500
    assert get(sandbox, "/v1/payouts", idempotency_key="key-1").status_code == 404
    assert post(sandbox, "/v1/payouts", payout_body()).status_code == 500
    assert post(sandbox, "/v1/payouts", payout_body()).status_code == 201
    ledger = sandbox.ledger()
    assert ledger["mode"]["mode"] == "normal"
    assert ledger["executions_per_key"] == {"key-1": 1}
    assert ledger["requests_per_key"] == {"key-1": 3}
    assert ledger["lookups_per_key"] == {"key-1": 1}


def test_timeout_executes_after_the_caller_gave_up_and_refuses_a_resend_meanwhile(sandbox):
    sandbox.mode("timeout", times=1, delay=0.6)
    with pytest.raises(requests.Timeout):
        post(sandbox, "/v1/payouts", payout_body(), timeout=(2, 0.2))
    assert get(sandbox, "/v1/payouts", idempotency_key="key-1").status_code == 404
    in_flight = post(sandbox, "/v1/payouts", payout_body())
    assert in_flight.status_code == 409
    assert in_flight.json()["error"]["code"] == "idempotency_key_in_flight"
    time.sleep(0.6)
    found = get(sandbox, "/v1/payouts", idempotency_key="key-1")
    assert found.json()["status"] == "succeeded"
    assert sandbox.ledger()["executions_per_key"] == {"key-1": 1}


def test_lost_response_executes_then_drops_the_connection(sandbox):
    sandbox.mode("lost_response")
    with pytest.raises(requests.ConnectionError):
        post(sandbox, "/v1/payouts", payout_body())
    assert get(sandbox, "/v1/payouts", idempotency_key="key-1").json()["status"] == "succeeded"
    replay = post(sandbox, "/v1/payouts", payout_body())  # a replay is not lost again
    assert replay.status_code == 201
    assert sandbox.ledger()["executions_per_key"] == {"key-1": 1}


def test_concurrent_requests_with_one_key_execute_once(sandbox):
    sandbox.mode("timeout", times=1, delay=0.3)
    codes = []

    def send():
        codes.append(post(sandbox, "/v1/payouts", payout_body()).status_code)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [201, 409, 409, 409, 409]
    assert sandbox.ledger()["executions_per_key"] == {"key-1": 1}


@pytest.mark.parametrize("body", [
    {"mode": "sideways"}, {"mode": "decline", "times": 0}, {"mode": "timeout", "delay": -1}])
def test_a_bad_mode_is_422(sandbox, body):
    response = requests.post(sandbox.url + "/_sandbox/mode", json=body, timeout=5)
    assert response.status_code == 422


def test_reset_forgets_everything_and_returns_to_normal(sandbox):
    post(sandbox, "/v1/payouts", payout_body())
    sandbox.mode("decline")
    sandbox.reset()
    ledger = sandbox.ledger()
    assert ledger["executions"] == [] and ledger["requests_per_key"] == {}
    assert ledger["mode"] == {"mode": "normal", "times": None, "delay": 10.0}
    assert post(sandbox, "/v1/payouts", payout_body()).json()["status"] == "succeeded"


# -- debits ---------------------------------------------------------------------------------------
DEBIT = {"amount": 50_000, "currency": "SEK", "reference": "order-1001",
         "bank_account": {"clearing_number": "8327", "account_number": "9412345678"}}


def test_a_debit_succeeds_once_and_can_be_found(sandbox):
    first = post(sandbox, "/v1/debits", DEBIT, key="debit-1")
    assert first.status_code == 201
    debit = first.json()
    assert re.fullmatch(r"db_[0-9a-f]+", debit["id"])
    assert (debit["status"], debit["decline_reason"]) == ("succeeded", None)
    assert post(sandbox, "/v1/debits", DEBIT, key="debit-1").json() == debit
    assert get(sandbox, "/v1/debits", idempotency_key="debit-1").json() == debit
    assert get(sandbox, f"/v1/debits/{debit['id']}").json() == debit
    assert get(sandbox, "/v1/payouts", idempotency_key="debit-1").status_code == 404
    assert sandbox.ledger()["executions_per_key"] == {"debit-1": 1}


def test_debits_follow_the_modes(sandbox):
    sandbox.mode("decline", times=1)
    assert post(sandbox, "/v1/debits", DEBIT, key="d1").json()["status"] == "declined"
    sandbox.mode("error_500", times=1)
    assert post(sandbox, "/v1/debits", DEBIT, key="d2").status_code == 500
    bad = post(sandbox, "/v1/debits", {**DEBIT, "bank_account": {"clearing_number": "8327"}},
               key="d3")
    assert bad.json()["error"]["field"] == "bank_account.account_number"


# -- checkout sessions and the hosted page --------------------------------------------------------
def test_a_checkout_session_is_created_once_and_starts_open(sandbox):
    session = new_session(sandbox)
    assert re.fullmatch(r"cs_[0-9a-f]+", session["id"])
    assert session["url"] == f"{sandbox.url}/checkout/{session['id']}"
    assert session["status"] == "open"
    assert new_session(sandbox) == session  # same key, same body
    state = get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()
    assert state == {"id": session["id"], "status": "open", "amount": 123_450,
                     "currency": "SEK", "reference": "Order 1001", "payment": None,
                     "created_at": state["created_at"], "expires_at": state["expires_at"]}
    assert get(sandbox, "/v1/checkout-sessions/cs_nope").status_code == 404
    assert post(sandbox, "/v1/checkout-sessions", {}, key=None).status_code == 400


@pytest.mark.parametrize(("change", "field"), [
    ({"return_url": "javascript:alert(1)"}, "return_url"),
    ({"cancel_url": "/relative"}, "cancel_url"),
    ({"return_url": "http://a;b'/x"}, "return_url"),
    ({"amount": -5}, "amount"),
])
def test_a_bad_checkout_session_is_422(sandbox, change, field):
    body = {"amount": 100, "currency": "SEK", "reference": "r",
            "return_url": RETURN_URL, "cancel_url": CANCEL_URL, **change}
    response = post(sandbox, "/v1/checkout-sessions", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_the_payment_page_shows_amount_reference_and_the_card_form(sandbox):
    session = new_session(sandbox)
    response = requests.get(session["url"], timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    assert html.count("<h1") == 1 and "Sandbox card payment</h1>" in html
    assert "1\u00a0234,50\u00a0kr" in html
    assert "Order 1001" in html
    for name in ("card_number", "expiry", "cvc"):
        assert f'<label for="{name}">' in html and f'id="{name}"' in html
    assert f'action="/checkout/{session["id"]}/cancel"' in html
    assert "<script" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' http://127.0.0.1:5000" in csp
    assert "style-src 'sha256-" in csp


def test_the_test_card_pays_and_redirects_back_with_the_session_id(sandbox):
    session = new_session(sandbox)
    response = pay(session)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == RETURN_URL.split("?")[0]
    assert parse_qs(location.query) == {"lang": ["en"], "session_id": [session["id"]]}
    state = get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()
    assert state["status"] == "paid"
    assert re.fullmatch(r"pay_[0-9a-f]+", state["payment"]["id"])
    assert (state["payment"]["card_last4"], state["payment"]["card_brand"]) == ("4242", "visa")
    page = requests.get(session["url"], timeout=5).text
    assert "already paid" in page
    assert f"session_id={session['id']}" in page  # the link back to the shop
    assert pay(session).status_code == 409  # paying twice is refused
    assert get(sandbox, f"/v1/checkout-sessions/{session['id']}").json() == state


def test_the_declined_card_shows_the_message_and_keeps_what_was_typed(sandbox):
    session = new_session(sandbox)
    response = pay(session, card_number="4000 0000 0000 0002", expiry="11/38", cvc="321")
    assert response.status_code == 422
    html = response.text
    assert ('<p class="error" id="card_number-error">Your card was declined. Try another card.'
            in html)
    assert 'value="4000 0000 0000 0002"' in html
    assert 'value="11/38"' in html and 'value="321"' in html
    assert 'aria-describedby="card_number-hint card_number-error"' in html
    assert get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()["status"] == "open"
    assert pay(session).status_code == 303  # another card then works


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"expiry": "13/30"}, "expiry", "Enter the expiry date as MM/YY"),
    ({"expiry": "01/20"}, "expiry", "This card has expired"),
    ({"expiry": ""}, "expiry", "Enter the expiry date as MM/YY"),
    ({"cvc": "12"}, "cvc", "Enter the 3-digit security code"),
    ({"cvc": "abc"}, "cvc", "Enter the 3-digit security code"),
    ({"card_number": "4242 4242 4242 4241"}, "card_number", "not a valid card number"),
    ({"card_number": "4242"}, "card_number", "Enter the 16-digit card number"),
    ({"card_number": "5555 5555 5555 4444"}, "card_number", "only the test cards"),
])
def test_each_bad_field_gets_its_own_message(sandbox, form, field, message):
    session = new_session(sandbox)
    response = pay(session, **form)
    assert response.status_code == 422
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{message}', response.text)
    assert response.text.count('class="error"') == 1
    assert "<title>Error: Sandbox card payment</title>" in response.text


def test_cancel_marks_the_session_and_goes_back_to_the_shop(sandbox):
    session = new_session(sandbox)
    response = requests.post(session["url"] + "/cancel", allow_redirects=False, timeout=5)
    assert (response.status_code, response.headers["Location"]) == (303, CANCEL_URL)
    assert get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()["status"] == "cancelled"
    assert pay(session).status_code == 409
    assert "was cancelled" in requests.get(session["url"], timeout=5).text


def test_an_unknown_session_page_is_404(sandbox):
    assert requests.get(sandbox.url + "/checkout/cs_nope", timeout=5).status_code == 404
