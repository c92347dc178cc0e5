"""The money side of a generated order's story (story.py): the invoice paid, early or after
its due date, and the refund of what was paid over, in whichever state the story's clock finds
it (written as services/payments._settle and refunds.settle_refund_owed would have)."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

from returns_app.domain import clock

from .catalog import Customer
from .rows import Ids, Rows, audit, iso, order_number

HOUR = timedelta(hours=1)
# Invoice customers who pay the whole invoice at once, before deciding to return anything.
EARLY_PAYER_SHARE = 0.25
REFUND_DUE_DAYS = 14


class Money:
    """Story's payments and refunds, a part of Story (story.py) kept apart for its size: they
    draw from the story's generator and clock and number rows from its ids."""

    rng: random.Random
    now: datetime
    today: date
    ids: Ids
    stuck_odds: float

    def _invoice_payment(self, rows: Rows, order_id: int, customer: Customer,
                         delivered: datetime, due: str, total: int, ret: dict | None
                         ) -> tuple[int, int | None]:
        """(what was paid, the card payment's id if paid by card). An early payer pays
        everything before reporting a return; the others pay what is payable once the due date
        has passed."""
        rng = self.rng
        if rng.random() < EARLY_PAYER_SHARE:
            before = ret["reported_at"] if ret else self.now
            at = delivered + (before - delivered) * rng.uniform(0.1, 0.9)
            if at < self.now:
                method = "card" if rng.random() < 0.5 else "bank_transfer"
                payment_id = self._payment(rows, order_id, customer, total, at, method)
                return total, payment_id if method == "card" else None
            return 0, None
        if due >= self.today.isoformat():
            return 0, None
        accepted = ret["accepted_value"] if ret else 0
        open_value = ret["open_value"] if ret else 0
        amount = total - accepted - open_value
        at = datetime.combine(datetime.fromisoformat(due).date(), datetime.min.time(),
                              tzinfo=clock.LOCAL_ZONE).replace(hour=8)
        if ret and ret["resolved_at"]:
            at = max(at, ret["resolved_at"] + HOUR)
        if amount <= 0 or at >= self.now:
            return 0, None
        method = "bank_account" if customer.bank_json else "bank_transfer"
        self._payment(rows, order_id, customer, amount, at, method)
        return amount, None

    def _payment(self, rows: Rows, order_id: int, customer: Customer, amount: int,
                 at: datetime, method: str) -> int:
        payment_id = self.ids.payment
        self.ids.payment += 1
        card = method == "card"
        rows.payment.append((
            payment_id, order_id, amount, method, "succeeded", f"bench-{payment_id}",
            f"cs_bench_{payment_id}" if card else f"OCR {order_id:09d}",
            f"pay_bench_{payment_id}" if card else None, "4242" if card else None, amount,
            iso(at), iso(at)))
        rows.ledger_entry.append((order_id, "payment", amount, f"payment:{payment_id}",
                                  f"Paid by {method.replace('_', ' ')}", iso(at)))
        audit(rows, at, "system", "payment.succeeded", "payment", payment_id,
              {"status": "pending"}, {"status": "succeeded", "settled_amount_minor": amount})
        return payment_id

    def _refund(self, rows: Rows, order_id: int, method: str, customer: Customer, ret: dict,
                amount: int, card_payment: int | None) -> None:
        rng = self.rng
        refund_id = self.ids.refund
        self.ids.refund += 1
        created = ret["resolved_at"]
        if card_payment is not None:
            destination = ("card", {"type": "card", "payment_id": f"pay_bench_{card_payment}"},
                           "Card •••• 4242")
        elif method == "card":
            destination = ("card", {"type": "card",
                                    "payment_id": f"checkout:{order_number(order_id)}"},
                           "The card you paid with")
        elif customer.bank_json:
            destination = ("bank_account", json.loads(customer.bank_json), customer.bank_masked)
        else:
            destination = None
        age = self.now - created
        roll = rng.random()
        odds = self.stuck_odds
        old = age > timedelta(days=REFUND_DUE_DAYS)
        # Old refunds were long since paid out or handled by support; a few are still stuck.
        if destination is None:
            if (old and roll < 0.002 * odds) or (not old and roll < 0.35):
                status = "needs_details"
            else:
                status = "succeeded"
                destination = ("iban", {"type": "iban", "iban": "SE4550000000058398257466"},
                               "SE45 •••• •••• •••• 7466")
        elif old:
            status = ("failed" if roll < 0.001 * odds else
                      "unknown" if roll < 0.0015 * odds else "succeeded")
        else:
            status = ("ready" if roll < 0.08 else "sending" if roll < 0.10 else
                      "failed" if roll < 0.10 + 0.015 * odds else
                      "unknown" if roll < 0.10 + 0.03 * odds else "succeeded")
        changed = created if status in ("needs_details", "ready") else \
            min(created + timedelta(minutes=rng.uniform(1, 60 * 24)), self.now)
        kind, provider, masked = destination if destination else (None, None, None)
        reason = f"Return {ret['id']}: items accepted"
        rows.refund.append((
            refund_id, order_id, ret["id"], amount, status, kind,
            json.dumps(provider) if provider else None, masked, reason,
            0 if status in ("needs_details", "ready") else 1,
            f"po_bench_{refund_id}" if status in ("succeeded", "failed") else None,
            {"failed": "account_closed", "unknown": "ReadTimeout: the provider did not answer"}
            .get(status), iso(created), iso(changed),
            iso(changed) if status == "succeeded" else None,
            iso(changed) if status == "unknown" else None))
        rows.ledger_entry.append((order_id, "refund", amount, f"refund:{refund_id}", reason,
                                  iso(created)))
        if destination:
            done = status in ("succeeded", "failed")
            rows.outbox.append(("payout", refund_id, "{}", "done" if done else "pending",
                                1 if status != "ready" else 0, iso(created), iso(created),
                                iso(changed) if done else None))
        audit(rows, created, f"merchant:{ret['merchant_id']}:api", "refund.created", "refund",
              refund_id,
              after={"amount": amount, "status": "ready" if destination else "needs_details",
                     "destination": masked})
        if status not in ("needs_details", "ready"):
            audit(rows, changed, "worker", f"refund.{status}", "refund", refund_id,
                  {"status": "sending"}, {"status": status})
