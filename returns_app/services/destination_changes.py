"""A destination support chose for a refund never pays out on one person's word.

- Above APPROVAL_ABOVE_MINOR a second support user must approve it; nothing is applied before.
- At any amount the customer is emailed at the address on file (the event
  `refund.destination_change_requested`) with a link to object, and the payout waits HOLD
  after the request: it is queued with that not-before time.
- The customer's objection calls the change off while the payout hasn't left: the refund
  waits for an account again, and for support in the stuck queue (destination_objected).

The request is a support_approval row of action `change_destination`: its payload holds the
masked destination (shown), `destination_json` the provider's form (only paid to)."""

from __future__ import annotations

import json
from datetime import timedelta

from ..domain import clock
from ..domain.errors import Conflict, NotFound
from ..domain.payout_details import Destination
from ..domain.states import REFUND_PAYABLE_OUTSIDE
from ..store import approvals as approval_rows
from ..store import refunds as refund_rows
from ..store.db import Database, write_transaction
from . import approvals, audit, refunds
from .approvals import actor

HOLD = timedelta(hours=24)
ACTION = "change_destination"


def request_change(db: Database, refund_id: int, destination: Destination, consent: str,
                   user_id: int, why: str) -> dict:
    """Support asks to send the refund to `destination` (`why` and `consent` already checked).
    Returns {"status": "awaiting_approval" | "held", "approval_id", "pays_not_before"}."""
    with write_transaction(db):
        refund = refunds.locked_refund(db, refund_id)
        if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
            raise Conflict("This refund has already been paid." if refund["status"] ==
                           "succeeded" else "The payout may already be on its way: its "
                           "destination can't change now.")
        approvals.refuse_if_pending(db, refund_id)
        second_person = approvals.needs_approval(refund["amount_minor"])
        pays_not_before = clock.iso(clock.now() + HOLD)
        destination_json = json.dumps(destination.as_provider_destination())
        approval_id = approvals.request(
            db, refund, ACTION, user_id, why,
            status="pending" if second_person else "not_needed",
            payload={"destination_kind": destination.kind,
                     "destination_masked": destination.masked, "consent": consent},
            destination_json=destination_json, pays_not_before=pays_not_before)
        # The customer hears of it first (the email is queued on this event), whatever follows.
        audit.record(db, actor(user_id), "refund.destination_change_requested", "refund",
                     refund_id, before={"status": refund["status"],
                                        "destination": refund["destination_masked"]},
                     after={"status": refund["status"], "destination": destination.masked,
                            "approval_id": approval_id,
                            "needs_approval": second_person,
                            "pays_not_before": pays_not_before, "consent": consent},
                     why=why)
        if not second_person:
            refunds.apply_destination(
                db, refund, destination.kind, destination_json, destination.masked,
                actor(user_id), why=why,
                note={"approval_id": approval_id, "consent": consent,
                      "pays_not_before": pays_not_before},
                not_before=clock.parse(pays_not_before))
    return {"status": "awaiting_approval" if second_person else "held",
            "approval_id": approval_id, "pays_not_before": pays_not_before}


def approve_change(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    """The second person's yes: the refund goes to the new destination, paid no earlier than
    the end of the customer's hold."""
    with write_transaction(db):
        refunds.locked_refund(db, approvals.get(db, approval_id)["refund_id"])
        approval = approvals.pending_for_decision(db, approval_id, user_id, ACTION)
        refund = refunds.get_refund(db, approval["refund_id"])
        if refund["status"] not in REFUND_PAYABLE_OUTSIDE:
            raise Conflict("The refund changed since the request: its destination can't "
                           "change now.")
        approvals.decide(db, approval, "approved", user_id, why)
        pays_at = max(clock.parse(approval["pays_not_before"]), clock.now())
        payload = approval["payload"]
        refunds.apply_destination(
            db, refund, payload["destination_kind"], approval["destination_json"],
            payload["destination_masked"], actor(user_id), why=why,
            note={"approval_id": approval_id, "consent": payload["consent"],
                  "pays_not_before": clock.iso(pays_at),
                  "requested_by": approvals.email_of(db, approval["requested_by"]),
                  "approved_by": approvals.email_of(db, user_id)},
            not_before=pays_at)
    return refunds.get_refund(db, approval["refund_id"])


def decline_change(db: Database, approval_id: int, user_id: int, why: str) -> dict:
    with write_transaction(db):
        approval = approvals.pending_for_decision(db, approval_id, user_id, ACTION)
        approvals.decide(db, approval, "declined", user_id, why)
        audit.record(db, actor(user_id), "refund.destination_change_declined", "refund",
                     approval["refund_id"], before={"approval": "pending"},
                     after={"approval": "declined", "approval_id": approval_id,
                            "requested_by": approvals.email_of(db, approval["requested_by"]),
                            "declined_by": approvals.email_of(db, user_id)}, why=why)
    return refunds.get_refund(db, approval["refund_id"])


def change_for_customer(db: Database, approval_id: int) -> dict:
    """What the objection page shows: the change, its refund and where it stands
    (`stage`: awaiting_approval, held, objected, declined or gone)."""
    change = approvals.get(db, approval_id)
    if change["action"] != ACTION:
        raise NotFound("We couldn't find what this link was for.")
    refund = refunds.get_refund(db, change["refund_id"])
    change["refund"] = refund
    change["stage"] = _stage(change, refund)
    return change


def _stage(change: dict, refund: dict) -> str:
    if change["status"] in ("objected", "declined"):
        return change["status"]
    if change["status"] == "pending":
        return "awaiting_approval"
    if refund["status"] == "ready" and refund["destination_json"] == change["destination_json"]:
        return "held"
    return "gone"  # the payout has left (or is leaving): too late to stop it here


def object_to_change(db: Database, approval_id: int, holder: str) -> dict:
    """The customer (whoever holds the emailed link: `holder`, as the audit names them) says
    no. Calls the change off if its payout hasn't left; an objection made twice is one."""
    with write_transaction(db):
        refunds.locked_refund(db, approvals.get(db, approval_id)["refund_id"])
        change = change_for_customer(db, approval_id)
        refund = change["refund"]
        stage = change["stage"]
        if stage in ("objected", "declined"):
            return change
        if stage == "gone":
            raise Conflict("Too late to stop it here: the payout has already left. Contact "
                           "customer service.")
        now = clock.now_iso()
        called_off = 0
        if stage == "held":
            called_off = refunds.withdraw_destination(db, refund, now)
        else:
            refund_rows.set_objected_at(db, refund["id"], now)
        if not approval_rows.mark_objected(db, approval_id, change["status"], now):
            raise Conflict("This change was decided on meanwhile: open the link again.")
        audit.record(db, holder, "refund.destination_objected", "refund", refund["id"],
                     before={"status": refund["status"],
                             "destination": change["payload"]["destination_masked"]},
                     after={"status": "needs_details" if stage == "held" else refund["status"],
                            "destination": None if stage == "held"
                            else refund["destination_masked"],
                            "approval_id": approval_id, "payouts_called_off": called_off})
    return change_for_customer(db, approval_id)
