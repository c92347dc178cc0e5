"""What the worker does with each kind of outbox row. Every provider call happens between two
transactions; an outcome nobody knows is settled by asking the provider, never by resending."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

from ..domain import clock
from ..notifications.sending import deliver_email
from ..provider.client import ProviderRejected
from ..services import checkouts, payments, refunds
from ..store import outbox
from ..store import payments as payment_rows
from ..store.db import Database, write_transaction
from ..webhooks.delivery import deliver_webhook

log = logging.getLogger("returns_app.worker")
# Once the quick retries (outbox.MAX_ATTEMPTS over about half an hour) are used up, a payout or
# debit whose outcome is unknown is asked about this often (seconds), for as long as it takes:
# giving up would leave money in a state nobody looks after.
ASK_SLOWLY_EVERY = 6 * 3600


def payout_key(refund: dict) -> str:
    """Derived from the refund and where it goes: a retry reuses it, a new destination (chosen
    after a decline) gets a new one."""
    where = hashlib.sha256((refund["destination_json"] or "").encode()).hexdigest()[:12]
    key = f"refund-{refund['id']}-{where}"
    # Support retried a declined payout: a new key, or the provider would replay the decline.
    return f"{key}-r{refund['payout_round']}" if refund.get("payout_round") else key


def _call_failed(exc: Exception, subject: str,
                 refused_detail: Callable[[ProviderRejected], str]) -> tuple[str, None, str]:
    """A money call that raised: its outcome is unknown (asked about again, never resent
    blindly), unless the provider refused the request itself (400 or 422): then nothing moved
    under the key, and asking again would only be refused again, so it is declined. A payout
    fails with the provider's code and words, for support to retry under a new key or with new
    details (a key that paid for something else before a restore to an older backup ends here
    too); a debit fails with a code its customer reads as a sentence, and the invoice is paid
    as usual. `refused_detail` gives the detail recorded for a refusal."""
    if isinstance(exc, ProviderRejected) and exc.refuses_the_request:
        log.warning("%s refused by the provider: %s", subject, exc)
        return "declined", None, refused_detail(exc)
    return "unknown", None, f"{type(exc).__name__}: {exc}"


def deliver_payout(db: Database, provider, row: dict) -> str:
    refund_id = row["subject_id"]
    with write_transaction(db):
        refund = refunds.locked_refund(db, refund_id)
        if refund["status"] in ("succeeded", "failed", "needs_details"):
            outbox.complete(db, row)
            return refund["status"]
        # A previous attempt may have reached the provider before dying: ask before sending.
        maybe_sent = refund["status"] in ("sending", "unknown") or row["attempts"] > 1
        refund = refunds.start_sending(db, refund_id)
    key = payout_key(refund)
    try:
        result = provider.send_payout(key, refund["amount_minor"],
                                      payment_rows.order_currency(db, refund["order_id"]),
                                      f"refund-{refund_id}",
                                      json.loads(refund["destination_json"]),
                                      ask_first=maybe_sent)
        outcome, payout_id, detail = result.outcome, result.payout_id, result.detail
    except Exception as exc:  # noqa: BLE001  (any failure: _call_failed judges it)
        outcome, payout_id, detail = _call_failed(exc, f"payout of refund {refund_id}",
                                                  lambda refusal: refusal.code_and_message)
    with write_transaction(db):
        refunds.locked_refund(db, refund_id)
        refunds.record_outcome(db, refund_id, outcome, payout_id, detail)
        _after_outcome(db, row, "refund", outcome, detail)
    log.info("refund %s: %s %s", refund_id, outcome, detail)
    return outcome


def _after_outcome(db: Database, row: dict, table: str, outcome: str, detail: str) -> None:
    """Inside the outcome's transaction, for a payout (`table` refund) or a debit (payment): an
    unknown outcome is asked about again, quickly and then every few hours, never given up on;
    any answer completes the row. From the first slow ask the stuck queue shows the refund as
    "provider_not_answering" (a debit as "debit_outcome_unknown"); an answer, or a fresh round
    of attempts (support's retry requeues with none made), clears it."""
    assert table in ("refund", "payment")
    if outcome == "unknown":
        outbox.retry_later(db, row, detail, then_every=ASK_SLOWLY_EVERY)
    else:
        outbox.complete(db, row)
    if outcome == "unknown" and row["attempts"] >= outbox.MAX_ATTEMPTS:
        payment_rows.set_provider_silent(db, table, row["subject_id"], clock.now_iso())
    else:
        payment_rows.set_provider_silent(db, table, row["subject_id"], None)


def deliver_debit(db: Database, provider, row: dict) -> str:
    """The first attempt decides the amount and the account and pins them on the outbox row:
    a retry after an unknown outcome must ask about, and if need be send, the very same debit,
    even if a return accepted meanwhile lowered what is owed (taking too much then refunds at
    once; asking about another debit would find nothing and take the money twice)."""
    payment_id = row["subject_id"]
    pinned = row["payload"].get("debit")
    if pinned is None:
        payment, amount, bank_account = payments.prepare_debit(db, payment_id)
        with write_transaction(db):
            if amount <= 0 or bank_account is None:
                if amount > 0:
                    payments.record_debit(db, payment_id, amount, "declined", None,
                                          "No bank account is linked any more")
                outbox.complete(db, row)
                return "skipped"
            pinned = {"amount": amount, "bank_account": bank_account}
            outbox.set_payload(db, row["id"], {**row["payload"], "debit": pinned})
    else:
        payment = payments.get_payment(db, payment_id)
        if payment["status"] != "scheduled":
            with write_transaction(db):
                outbox.complete(db, row)
            return payment["status"]
    amount = pinned["amount"]
    try:
        result = provider.debit(payments.provider_key(payment), amount,
                                payment_rows.order_currency(db, payment["order_id"]),
                                f"payment-{payment_id}",
                                pinned["bank_account"], ask_first=row["attempts"] > 1)
        outcome, debit_id, detail = result.outcome, result.debit_id, result.detail
    except Exception as exc:  # noqa: BLE001  (any failure: _call_failed judges it)
        outcome, debit_id, detail = _call_failed(exc, f"debit of payment {payment_id}",
                                                 lambda _: payments.REFUSED_BY_PROVIDER)
    with write_transaction(db):
        payments.record_debit(db, payment_id, amount, outcome, debit_id, detail)
        _after_outcome(db, row, "payment", outcome, detail)
    log.info("debit of payment %s: %s %s", payment_id, outcome, detail)
    return outcome


HANDLERS = {"payout": deliver_payout, "debit": deliver_debit, "webhook": deliver_webhook,
            "email": deliver_email, checkouts.CANCEL_KIND: checkouts.deliver_cancel}
assert set(HANDLERS) == set(outbox.KINDS), "a handler for every kind of outbox row"


def deliver(db: Database, provider, row: dict) -> str:
    return HANDLERS[row["kind"]](db, provider, row)
