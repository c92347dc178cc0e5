"""Issue 16, item 1: no refund moves on one support agent's word. A destination support chose
waits for a second person above 5 000 kr, is told to the customer at any amount with 24 hours
to object, and a pending request blocks every other money action on the refund."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict, Forbidden
from returns_app.domain.payout_details import parse_payout_details
from returns_app.services import destination_changes, refunds, stuck, support_actions
from returns_app.store import outbox
from returns_app.store.db import select
from tests.builders import make_merchant
from tests.services.test_support_actions import big_refund, last_audit, pending_payouts
from tests.support_helpers import make_support_user, refund_needing_details

GERMAN_IBAN = "DE89 3704 0044 0532 0130 00"
AMOUNT = 899_500  # the 8 995 kr of the review


@pytest.fixture
def merchant(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def agent(db):
    return make_support_user(db)


@pytest.fixture
def second_agent(db):
    return make_support_user(db, "second@example.se")


def iban():
    return parse_payout_details({"iban": GERMAN_IBAN})


def due_payouts(db, refund_id: int) -> list:
    return [row for row in pending_payouts(db, refund_id)
            if row["available_at"] <= clock.now_iso()]


def change(db, refund, agent) -> dict:
    return support_actions.change_destination(db, refund["id"], iban(), "By phone", agent,
                                              "Customer called")


def emails(db, refund_id: int, kind: str = "destination_change") -> list[dict]:
    return list(select(db, "SELECT * FROM notification WHERE refund_id = ? AND kind = ?",
                         [refund_id, kind]))


def test_above_5000_kr_a_new_destination_waits_for_a_second_person(db, merchant, agent,
                                                                   second_agent):
    refund = big_refund(db, merchant, AMOUNT)
    result = change(db, refund, agent)
    assert result["status"] == "awaiting_approval"
    assert refunds.get_refund(db, refund["id"])["status"] == "needs_details"
    assert pending_payouts(db, refund["id"]) == []  # today: paid out within seconds
    with pytest.raises(Forbidden):
        support_actions.approve(db, result["approval_id"], agent, "Me again")
    assert pending_payouts(db, refund["id"]) == []

    support_actions.approve(db, result["approval_id"], second_agent, "Called back: theirs")
    after = refunds.get_refund(db, refund["id"])
    assert after["status"] == "ready" and after["destination_masked"].endswith("3000")
    (payout,) = pending_payouts(db, refund["id"])
    assert payout["available_at"] == result["pays_not_before"]  # still the customer's hold
    assert due_payouts(db, refund["id"]) == []
    approved = last_audit(db, "refund.destination_set")
    assert approved["actor"] == f"support_user:{second_agent}"
    assert approved["after"]["requested_by"] == "agent@example.se"  # both people on record
    assert approved["after"]["approved_by"] == "second@example.se"


def test_the_request_never_stores_the_account_number_where_it_is_shown(db, merchant, agent):
    refund = big_refund(db, merchant, AMOUNT)
    result = change(db, refund, agent)
    row = db.execute("SELECT payload, destination_json FROM support_approval WHERE id = ?",
                     [result["approval_id"]]).fetchone()
    assert "370400440532013000" not in row[0]
    assert json.loads(row[0])["destination_masked"].endswith("3000")
    assert json.loads(row[1])["iban"].replace(" ", "") == GERMAN_IBAN.replace(" ", "")
    shown = " ".join(r[0] or "" for r in db.execute(
        "SELECT after_json || ' ' || coalesce(before_json, '') FROM audit_event"))
    assert "370400440532013000" not in shown


@pytest.mark.parametrize("amount", [29_900, AMOUNT])
def test_at_any_amount_the_customer_is_emailed_and_the_payout_waits_24_hours(
        db, merchant, agent, second_agent, amount):
    refund = big_refund(db, merchant, amount)
    result = change(db, refund, agent)
    (email,) = emails(db, refund["id"])
    order = db.execute("SELECT customer.email, customer.language FROM refund JOIN orders ON"
                       " orders.id = refund.order_id JOIN customer ON customer.id ="
                       " orders.customer_id WHERE refund.id = ?", [refund["id"]]).fetchone()
    assert (email["recipient"], email["language"]) == tuple(order)
    facts = json.loads(email["facts"])
    assert facts["approval_id"] == result["approval_id"]
    assert facts["destination"].endswith("3000")
    if result["status"] == "awaiting_approval":
        support_actions.approve(db, result["approval_id"], second_agent, "ok")
    assert due_payouts(db, refund["id"]) == []
    with time_machine.travel(clock.now() + destination_changes.HOLD + timedelta(seconds=1),
                             tick=False):
        assert len(due_payouts(db, refund["id"])) == 1


def test_an_approval_after_the_hold_pays_from_then(db, merchant, agent, second_agent):
    refund = big_refund(db, merchant, AMOUNT)
    result = change(db, refund, agent)
    with time_machine.travel(clock.now() + timedelta(hours=30), tick=False):
        support_actions.approve(db, result["approval_id"], second_agent, "ok")
        (payout,) = pending_payouts(db, refund["id"])
        assert payout["available_at"] == clock.now_iso()


@pytest.mark.parametrize("stage", ["awaiting_approval", "held"])
def test_the_customers_objection_calls_the_change_off_and_asks_support(db, merchant, agent,
                                                                        stage):
    refund = big_refund(db, merchant, AMOUNT if stage == "awaiting_approval" else 29_900)
    result = change(db, refund, agent)
    assert result["status"] == ("awaiting_approval" if stage == "awaiting_approval"
                                else "held")
    done = destination_changes.object_to_change(db, result["approval_id"],
                                                "link_holder:k•••@example.se")
    assert done["stage"] == "objected"
    after = refunds.get_refund(db, refund["id"])
    assert after["status"] == "needs_details" and after["destination_json"] is None
    assert pending_payouts(db, refund["id"]) == []
    row = last_audit(db, "refund.destination_objected")
    assert row["actor"] == "link_holder:k•••@example.se"
    assert row["after"]["approval_id"] == result["approval_id"]
    assert [r.code for r in stuck.reasons_for_refund(db, refund["id"], clock.now())][0] == \
        "destination_objected"
    page = stuck.stuck_queue(db, clock.now())
    assert any(i.refund_id == refund["id"] and i.reason.code == "destination_objected"
               for i in page.items)
    # Twice is once; approving it now is refused.
    destination_changes.object_to_change(db, result["approval_id"], "link_holder:x")
    with pytest.raises(Conflict):
        support_actions.approve(db, result["approval_id"], make_support_user(db, "c@x.se"), "y")


def test_a_new_destination_settles_the_objection(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    result = change(db, refund, agent)
    destination_changes.object_to_change(db, result["approval_id"], "link_holder:x")
    refunds.set_destination(db, refund["id"], parse_payout_details(
        {"swish_number": "070-123 45 67"}), "link_holder:x")
    assert refunds.get_refund(db, refund["id"])["objected_at"] is None
    assert stuck.reasons_for_refund(db, refund["id"], clock.now()) == []


def test_too_late_to_object_once_the_payout_left(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    result = change(db, refund, agent)
    with time_machine.travel(clock.now() + destination_changes.HOLD + timedelta(minutes=1),
                             tick=False):
        row = outbox.claim(db, "test-worker", ("payout",))
        assert row is not None
        from returns_app.store.db import write_transaction
        with write_transaction(db):
            refunds.start_sending(db, refund["id"])
        with pytest.raises(Conflict, match="Too late"):
            destination_changes.object_to_change(db, result["approval_id"], "link_holder:x")


# --- a pending request blocks every other money action on the refund -----------------------------

def test_a_pending_request_blocks_every_other_money_action(db, merchant, agent, second_agent):
    refund = big_refund(db, merchant, AMOUNT)
    support_actions.mark_paid_outside(db, refund["id"], "BG 1", agent, "Manual")
    with pytest.raises(Conflict, match="waiting for a second support user"):
        change(db, refund, agent)  # the review's 8 995 kr went to Germany at this step
    with pytest.raises(Conflict, match="waiting for a second support user"):
        support_actions.mark_paid_outside(db, refund["id"], "BG 2", second_agent, "Again")
    with pytest.raises(Conflict, match="waiting for a second support user"):
        refunds.set_destination(db, refund["id"], iban(), "link_holder:x")
    assert pending_payouts(db, refund["id"]) == []


def test_a_pending_change_blocks_a_retry_of_a_declined_payout(db, merchant, agent):
    from tests.services.test_support_actions import declined
    refund = declined(db, merchant)
    db.execute("UPDATE refund SET amount_minor = ? WHERE id = ?", [AMOUNT, refund["id"]])
    change(db, refund, agent)
    with pytest.raises(Conflict, match="waiting for a second support user"):
        support_actions.retry_payout(db, refund["id"], agent, "Customer says it works")
    assert refunds.get_refund(db, refund["id"])["status"] == "failed"


# --- the payout-details link goes only to the customer ------------------------------------------

def test_resending_the_link_says_where_it_went_masked(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    result = support_actions.resend_details_link(db, refund["id"], agent, "Lost it")
    assert result["sent_to"].endswith("@example.se") and "•••" in result["sent_to"]
    row = last_audit(db, "refund.details_link_resent")
    assert row["after"]["sent_to"] == result["sent_to"]
    (email,) = emails(db, refund["id"], "payout_details_needed")[-1:]
    assert "•" not in email["recipient"]  # the real address on file gets it


# --- the customer's side: the email's link and the objection page --------------------------------

def test_the_email_links_to_an_objection_page_that_stops_the_payout(app, client, db, merchant,
                                                                    agent):
    from returns_app.notifications.queue import get_notification
    from returns_app.notifications.rendering import render
    from returns_app.services import links

    refund = refund_needing_details(db, merchant["id"])
    result = change(db, refund, agent)
    (email,) = emails(db, refund["id"])
    with app.app_context():
        rendered = render(db, get_notification(db, email["id"]))
    assert "/refunds/object/" in rendered.text and "3000" in rendered.text
    token = links.make_token(app.secret_key, links.OBJECT_CHANGE, result["approval_id"])
    page = client.get(f"/refunds/object/{token}").get_data(as_text=True)
    assert "stop the payout" in page
    response = client.post(f"/refunds/object/{token}")
    assert response.status_code == 303
    assert refunds.get_refund(db, refund["id"])["status"] == "needs_details"
    assert pending_payouts(db, refund["id"]) == []
    row = last_audit(db, "refund.destination_objected")
    assert row["actor"].startswith("link_holder:") and "•••@" in row["actor"]
    # The objection link opens nothing else: no order joins the browser's session.
    with client.session_transaction() as session:
        assert not session.get("order_ids")


def test_a_payout_details_link_is_audited_as_its_holder_not_the_customer(client, app, db,
                                                                         merchant):
    from returns_app.services import links
    refund = refund_needing_details(db, merchant["id"])
    token = links.make_token(app.secret_key, links.PAYOUT_DETAILS, refund["id"])
    response = client.post(f"/refunds/{token}", data={"choice": "swish",
                                                      "swish_number": "070-123 45 67"})
    assert response.status_code == 303
    row = last_audit(db, "refund.destination_set")
    assert row["actor"].startswith("link_holder:") and "•••@" in row["actor"]
    assert not row["actor"].startswith("customer:")
