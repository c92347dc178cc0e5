"""The console's pages through pytest-flask's client: what an agent sees, each action's form
(errors next to the field, input kept), the dashboard's numbers, masking, and the API's shape."""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
import time_machine

from returns_app.api.openapi import document
from returns_app.domain import clock
from returns_app.domain.masking import mask_text
from returns_app.services import dashboard, support_actions
from tests.builders import make_merchant
from tests.rows import by_id
from tests.services.test_support_stuck import ready_refund, worker_outcome
from tests.support_helpers import make_support_user, refund_needing_details, sign_in_as

T0 = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def field_error(response, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(match[1])).split()) if match else ""


@pytest.fixture
def merchant(db):
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def agent(client, db):
    """Signed in now: a test that travels in time asks for `later` first (a session signed in
    the future is refused as tampered with)."""
    user_id = make_support_user(db)
    sign_in_as(client, f"support_user:{user_id}")
    return user_id


@pytest.fixture
def waiting(db, merchant):
    """A refund waiting 5 days for details (so: stuck), seen at T0 + 5 days."""
    with time_machine.travel(T0, tick=False):
        return refund_needing_details(db, merchant["id"])


@pytest.fixture
def later():
    with time_machine.travel(T0 + timedelta(days=5), tick=False) as traveller:
        yield traveller


def test_the_queue_shows_what_why_since_and_what_to_do(client, later, agent, waiting):
    page = text(client.get("/support/"))
    assert re.search(r"Stuck refunds <span class=\"count\">1</span>", page)
    assert f"Refund {waiting['id']}" in page and "299,00 kr" in page
    assert "kund@example.se" in page and "No account to pay to" in page
    assert "Waiting 5 days for the customer to choose an account, since 3 Mar 2025" in page
    assert f'href="/support/refunds/{waiting["id"]}#act-link"' in page
    assert "Send a new details link" in page


def test_the_queue_pages_by_25(client, db, merchant):
    with time_machine.travel(T0, tick=False):
        waiting = [refund_needing_details(db, merchant["id"]) for _ in range(26)]
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        sign_in_as(client, f"support_user:{make_support_user(db)}")
        first, second = text(client.get("/support/")), text(client.get("/support/?page=2"))
    shown = [re.findall(r">Refund (\d+)</a>", page) for page in (first, second)]
    assert len(shown[0]) == 25 and len(shown[1]) == 1
    assert sorted(int(i) for i in shown[0] + shown[1]) == [r["id"] for r in waiting]
    assert "Page 1 of 2" in first and "Next page" in first
    assert "Page 2 of 2" in second and "Previous page" in second


def test_an_empty_queue_says_so(client, agent):
    assert "Nothing is stuck" in text(client.get("/support/"))


def test_the_refund_page_explains_each_action_and_shows_history(client, later, agent, waiting):
    page = text(client.get(f"/support/refunds/{waiting['id']}"))
    assert "Why it needs you" in page and "No account to pay to" in page
    for heading in ("Send a new payout-details link", "Change where the money goes",
                    "Mark as paid outside the system"):
        assert heading in page
    assert "Retry the payout" not in page  # nothing to retry: it was never sent
    assert "refund.created" in page and "History" in page


def test_an_action_without_why_is_refused_next_to_the_field(client, db, agent, merchant):
    refund = ready_refund(db, merchant)
    worker_outcome(db, refund["id"], "declined", "account_closed")
    response = client.post(f"/support/refunds/{refund['id']}/retry", data={"retry-why": ""})
    assert response.status_code == 422
    assert "Say why" in field_error(response, "retry-why")
    assert by_id(db, "refund", refund["id"])["status"] == "failed"


def test_a_payout_key_the_provider_used_before_is_explained_in_words(client, db, agent,
                                                                     merchant):
    refund = ready_refund(db, merchant)
    worker_outcome(db, refund["id"], "declined",
                   "idempotency_key_reused: This Idempotency-Key was used with another request.")
    queue = text(client.get("/support/"))
    assert "Payout declined" in queue and "Retry or change account" in queue
    assert ("the provider had already used this payout’s key for another payout, as after a "
            "restore from a backup; a retry sends it under a new key.") in queue
    page = text(client.get(f"/support/refunds/{refund['id']}"))
    assert "This Idempotency-Key was used with another request." in page  # its own words


def test_a_bad_account_keeps_everything_typed(client, db, later, agent, waiting):
    response = client.post(f"/support/refunds/{waiting['id']}/destination", data={
        "destination-iban": "SE45 5000 0000 0583 9825 7467",
        "destination-consent": "By phone, call 4711", "destination-why": "No online bank"})
    assert response.status_code == 422
    assert "check digits" in field_error(response, "destination-iban")
    page = response.get_data(as_text=True)
    assert 'value="SE45 5000 0000 0583 9825 7467"' in page
    assert "By phone, call 4711</textarea>" in page and "No online bank</textarea>" in page


def test_changing_the_destination_from_the_page(client, db, later, agent, waiting):
    response = client.post(f"/support/refunds/{waiting['id']}/destination", data={
        "destination-swish_number": "070-123 45 67",
        "destination-consent": "By phone, call 4711", "destination-why": "No online bank"})
    assert response.status_code == 303
    assert by_id(db, "refund", waiting["id"])["status"] == "ready"
    page = text(client.get(response.headers["Location"]))
    assert "The customer is told by email and can object" in page
    assert "Held for the customer: the payout to 070-••• •• 67 waits until" in page


def test_resending_the_link_never_shows_it_to_the_agent(client, db, later, agent, waiting):
    response = client.post(f"/support/refunds/{waiting['id']}/details-link",
                           data={"link-why": "Customer lost the email"})
    with client.session_transaction() as session:
        flashed = json.dumps(session.get("_flashes", []), ensure_ascii=False)
    page = text(client.get(response.headers["Location"]))
    assert "/refunds/" not in flashed and "To read it out" not in page
    assert re.search(r"/refunds/[\w.\-]{20,}", page) is None
    assert "on its way to the customer's email address on file, m•••@example.se" in \
        html.unescape(page) or "•••@" in page


def test_a_big_destination_change_shows_for_approval_to_others_only(client, db, later, agent,
                                                                    waiting):
    db.execute("UPDATE refund SET amount_minor = ? WHERE id = ?", [899_500, waiting["id"]])
    response = client.post(f"/support/refunds/{waiting['id']}/destination", data={
        "destination-iban": "DE89 3704 0044 0532 0130 00",
        "destination-consent": "By phone", "destination-why": "Customer moved to Germany"},
        follow_redirects=True)
    page = text(response)
    assert "A second support user must approve it" in page
    assert "Approve the new account" not in page  # not for the one who asked
    assert "370400440532013000" not in page.replace(" ", "")
    other = make_support_user(db, "second@example.se")
    sign_in_as(client, f"support_user:{other}")
    queue = text(client.get("/support/"))
    assert "to a new account" in queue and "Customer moved to Germany" in queue
    page = text(client.get(f"/support/refunds/{waiting['id']}"))
    assert "Approve the new account" in page and "agent@example.se asked to send" in page
    assert "DE89 •••• •••• •••• 3000" in page


def test_a_big_manual_payment_waits_for_a_second_person(client, db, later, agent, waiting):
    db.execute("UPDATE refund SET amount_minor = ? WHERE id = ?",
               [support_actions.APPROVAL_ABOVE_MINOR + 100, waiting["id"]])
    page = text(client.get(f"/support/refunds/{waiting['id']}"))
    assert "a second support user must approve it before it is booked" in page
    response = client.post(f"/support/refunds/{waiting['id']}/mark-paid", data={
        "paid-reference": "BG 5050-1055", "paid-why": "Paid by hand"}, follow_redirects=True)
    page = text(response)
    assert "A second support user must approve it" in page
    assert "Waiting for approval" in page and "Approve and book as paid" not in page
    assert by_id(db, "refund", waiting["id"])["status"] == "needs_details"
    other = make_support_user(db, "second@example.se")
    sign_in_as(client, f"support_user:{other}")
    page = text(client.get("/support/"))
    assert "Waiting for a second person’s approval" in page and "BG 5050-1055" in page
    assert "Approve and book as paid" in text(client.get(f"/support/refunds/{waiting['id']}"))


def test_holding_an_invoice_from_the_order_page(client, db, later, agent, waiting):
    until = (clock.today() + timedelta(days=7)).isoformat()
    response = client.post(f"/support/orders/{waiting['order_id']}/hold",
                           data={"hold-until": until, "hold-why": "Disputed"})
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "The invoice is paused until" in page and "order.invoice_held" in page


def test_a_bad_date_is_refused_next_to_its_field(client, db, later, agent, waiting):
    response = client.post(f"/support/orders/{waiting['order_id']}/due-date",
                           data={"due-due_date": "2020-01-01", "due-why": "Typo test"})
    assert response.status_code == 422
    assert "today or a later date" in field_error(response, "due-due_date")
    assert "Typo test</textarea>" in response.get_data(as_text=True)


def test_reminding_the_merchant_from_the_return_page(client, db, agent, merchant):
    from tests.support_helpers import paid_order_with_return

    with time_machine.travel(T0, tick=False):
        order, ret = paid_order_with_return(db, merchant["id"])
    with time_machine.travel(T0 + timedelta(days=15), tick=False):
        sign_in_as(client, f"support_user:{agent}")  # a session signed in the future is void
        page = text(client.get(f"/support/returns/{ret['id']}"))
        assert "Merchant hasn’t registered" in page and "Remind the merchant" in page
        response = client.post(f"/support/returns/{ret['id']}/remind",
                               data={"remind-why": "Sent 15 days ago"})
        assert response.status_code == 303
    row = db.execute("SELECT actor, why FROM audit_event WHERE action ="
                     " 'return.merchant_reminded'").fetchone()
    assert row == (f"support_user:{agent}", "Sent 15 days ago")


def test_search_finds_orders_stuck_or_not(client, db, later, agent, waiting):
    page = text(client.get("/support/search?q=KUND@example.se"))
    order = by_id(db, "orders", waiting["order_id"])
    assert f"Order {order['order_number']}" in page and f"Refund {waiting['id']}" in page
    assert "Nothing matches" in text(client.get("/support/search?q=999-999-999"))


def test_history_masks_numbers_written_before_masking(client, db, later, agent, waiting):
    db.execute("INSERT INTO audit_event (at, actor, action, subject_kind, subject_id, after_json,"
               " why) VALUES (?, 'legacy', 'refund.noted', 'refund', ?, ?, ?)",
               [clock.now_iso(), waiting["id"], json.dumps({"account_number": "1234567897"}),
                "customer said 4242 4242 4242 4242"])
    page = text(client.get(f"/support/refunds/{waiting['id']}"))
    assert "1234567897" not in page and "4242 4242 4242 4242" not in page
    assert "••••7897" in page and "••••4242" in page


def test_log_records_are_masked(app, caplog):
    with caplog.at_level(logging.INFO):
        logging.getLogger("returns_app.worker").info("paying %s to %s", 100,
                                                     "SE45 5000 0000 0583 9825 7466")
    assert "0583 9825" not in caplog.text and "••••7466" in caplog.text
    assert mask_text("order 482-913-057 on 2025-03-03") == "order 482-913-057 on 2025-03-03"


def test_the_dashboard_counts_and_percentiles(client, db, agent, merchant):
    with time_machine.travel(T0, tick=False):
        refund_needing_details(db, merchant["id"])
        paid = [ready_refund(db, merchant) for _ in range(3)]
    for days, refund in zip((1, 3, 20), paid, strict=True):
        with time_machine.travel(T0 + timedelta(days=days), tick=False):
            worker_outcome(db, refund["id"], "succeeded")
    with time_machine.travel(T0 + timedelta(days=21), tick=False):
        board = dashboard.build(db, clock.now())
        assert board.refunds_by_state["succeeded"] == 3
        assert board.refunds_by_state["needs_details"] == 1
        assert board.stuck_by_reason["refund_deadline_passed"] == 1
        assert (board.median_days, board.p90_days, board.over_14_days) == (3.0, 20.0, 1)
        assert [b.count for b in board.bins] == [1, 1, 0, 0, 0, 1]
        sign_in_as(client, f"support_user:{agent}")  # a session signed in the future is void
        page = client.get("/support/dashboard").get_data(as_text=True)
    assert '<svg class="chart"' in page and 'role="img"' in page
    assert "3.0 days" in page and "20.0 days" in page
    assert "The same numbers as a table" in page


def test_the_dashboard_forgets_refunds_older_than_30_days(db, merchant):
    with time_machine.travel(T0, tick=False):
        refund = ready_refund(db, merchant)
        worker_outcome(db, refund["id"], "succeeded")
    assert dashboard.build(db, T0 + timedelta(days=29)).refunded_in_window == 1
    assert dashboard.build(db, T0 + timedelta(days=31)).refunded_in_window == 0


def test_the_api_answers_the_contracts_shape(client, db, merchant, waiting, later):
    make_support_user(db, "api@example.se")
    from returns_app.services import support

    token = support.create_token(db, "api@example.se")
    body = client.get("/api/v1/support/stuck-refunds",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    schema = {"$ref": "#/components/schemas/StuckRefund",
              "components": document()["components"]}
    (item,) = body["stuck_refunds"]
    jsonschema.validate(item, schema)
    assert item["refund_id"] == waiting["id"] and item["reason"] == "needs_details_over_3_days"
    assert item["since"] == "2025-03-03T12:00:00+00:00" and item["amount"] == 29900
    assert client.get("/api/v1/support/stuck-refunds?limit=0",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 422
    assert client.get("/api/v1/support/stuck-refunds?q=nobody@example.se",
                      headers={"Authorization": f"Bearer {token}"}).get_json() == {
        "stuck_refunds": []}


def test_a_debit_nobody_knows_the_outcome_of_is_in_the_queue_and_on_the_order(
        client, db, merchant, agent):
    """Issue 14: the queue names the due-date payment, says why, and sends the agent to the
    order, whose payments now show; the customer's page says not to pay it again."""
    from returns_app.services import due_date_debits
    from tests.builders import link_bank_account, make_order
    from tests.builders import viewer_for as viewer

    order = make_order(db, merchant["id"])
    db.execute("UPDATE orders SET due_date = ? WHERE id = ?",
               [(clock.local_date(clock.now()) + timedelta(days=3)).isoformat(), order["id"]])
    link_bank_account(db, order["customer_id"])
    debit = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    db.execute("UPDATE payment SET provider_silent_since = ? WHERE id = ?",
               [clock.now_iso(), debit["id"]])

    client.get("/support/?lang=en")
    page = text(client.get("/support/"))
    assert f"Due-date payment {debit['id']}" in page
    assert "Debit outcome unknown" in page
    assert "whether the due-date payment was taken from the customer’s account" in page
    assert f'href="/support/orders/{order["id"]}#payments"' in client.get(
        "/support/").get_data(as_text=True)
    order_page = text(client.get(f"/support/orders/{order['id']}"))
    assert f"Payment {debit['id']}" in order_page
    assert "outcome unknown since" in order_page
    api = client.get("/api/v1/support/stuck-refunds").get_json()
    [item] = [i for i in api["stuck_refunds"] if i["payment_id"] == debit["id"]]
    assert item["reason"] == "debit_outcome_unknown" and item["refund_id"] is None
