"""Money in from the bank: the invoice's payment details (bankgiro + OCR reference), importing
the bank's files (camt.054, BgMax), and the payments support matches by hand.

A file is booked as a whole in one transaction, and each payment in it once ever: the bank's
own booking reference is UNIQUE in bank_payment, so the same file again, or a later file that
repeats a booking, books nothing twice. A payment whose OCR reference names an invoice order is
booked through payments.book_transfer, the ledger path of every payment (receipt email, webhook,
reminders stop, an overpayment refunded at once); anything else waits for support."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from ..bankfiles import BankFile, BankFileError, IncomingPayment, ocr, read, sandbox
from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..store import bank as bank_rows
from ..store import status_moves
from ..store.db import Database, lock_rows, write_transaction
from . import audit, idempotency, payments
from .orders import normalize_order_number

MEDIA_TYPES = ("application/xml", "text/plain")
UNMATCHED_REASONS = ("wrong_check_digit", "unknown_reference", "foreign_currency",
                     "no_reference", "deduction")
MAX_WHY = 500
SCOPE = "bank-file"
DEFAULT_BANKGIRO = "991-2346"  # a made-up number that passes the checks, for development


def bankgiro_digits(bankgiro: str) -> str:
    return re.sub(r"\D", "", bankgiro or "")


def format_bankgiro(bankgiro: str) -> str:
    """As people write it: 991-2346 (seven digits) or 5050-1055 (eight)."""
    digits = bankgiro_digits(bankgiro)
    return f"{digits[:-4]}-{digits[-4:]}" if len(digits) in (7, 8) else digits


def invoice_details(order: dict, bankgiro: str) -> dict | None:
    """How to pay an invoice order from any bank; None for a card order."""
    if order["payment_method"] != "invoice":
        return None
    return {"bankgiro": format_bankgiro(bankgiro), "ocr": ocr.for_order(order["id"]),
            "due_date": order["due_date"]}


# --- importing ----------------------------------------------------------------------------------

def import_file(db: Database, data: bytes, media_type: str, bankgiro: str, actor: str,
                iban: str = "", key: str | None = None) -> idempotency.Response:
    """Book a whole file (201), or (422, `problems`) nothing of it. With an Idempotency-Key
    (the API), a retry gets the first answer again; without one (the command line), a file
    imported again answers with its payments counted as duplicates."""
    if key is not None:
        key = idempotency.check_key(key)
    try:
        parsed = read(data, media_type)
    except BankFileError as exc:
        raise _invalid(exc) from None
    ours = {bankgiro_digits(bankgiro), re.sub(r"\s", "", iban).upper()} - {""}
    if parsed.account not in ours:
        where = {"line": 1} if parsed.format == "bgmax" else {"element": "/Document"}
        raise Invalid("The file is for another account.", problems=[
            {**where, "message": f"The file is for account {parsed.account or '(none)'}, not "
                                 f"the provider's bankgiro {format_bankgiro(bankgiro)}."}])
    digest = hashlib.sha256(data).hexdigest()
    request = {"sha256": digest, "media_type": media_type}
    with write_transaction(db):
        if key is not None and (done := idempotency.claim(db, SCOPE, key, request)) is not None:
            return done
        answer = idempotency.Response(201, _book_file(db, parsed, digest, actor))
        return idempotency.finish(db, SCOPE, key, answer) if key is not None else answer


def _invalid(exc: BankFileError) -> Invalid:
    return Invalid("The bank file has problems; nothing in it was booked.",
                   problems=[p.as_api() for p in exc.problems])


def _book_file(db: Database, parsed: BankFile, digest: str, actor: str) -> dict:
    now = clock.now_iso()
    # Every order the file may pay, locked at once in id order (one by one, two files paying
    # the same orders in another order could deadlock): each booking is its order's case.
    lock_rows(db, "orders", *(order_id for incoming in parsed.payments
                              if (order_id := match(incoming)[0]) is not None))
    file_id = bank_rows.add_file(db, {
        "format": parsed.format, "file_key": parsed.file_key, "sha256": digest,
        "account": parsed.account, "booked": 0, "unmatched": 0, "duplicates": 0,
        "imported_by": actor, "imported_at": now})
    counts = {"booked": 0, "unmatched": 0, "duplicates": 0}
    shown = []
    for incoming in parsed.payments:
        if bank_rows.booking_seen(db, incoming.booking_key):
            counts["duplicates"] += 1
            continue
        row = _book_payment(db, file_id, incoming, actor, now)
        counts["booked" if row["status"] == "booked" else "unmatched"] += 1
        shown.append(as_api(row))
    bank_rows.set_file_counts(db, file_id, counts["booked"], counts["unmatched"],
                              counts["duplicates"])
    audit.record(db, actor, "bank_file.imported", "bank_file", file_id,
                 after={"format": parsed.format, "file_key": parsed.file_key, **counts})
    return {**counts, "payments": shown}


def match(incoming: IncomingPayment) -> tuple[int | None, str | None]:
    """(order id, None) when the payment names an order by a correct OCR reference, else
    (None, why it can't be matched). Whether the order exists is the caller's to check."""
    if incoming.amount_minor <= 0:
        return None, "deduction"
    if incoming.currency != "SEK":
        return None, "foreign_currency"
    reference = re.sub(r"[\s-]", "", incoming.reference)
    if not reference:
        return None, "no_reference"
    if reference.isdigit() and not ocr.is_valid(reference):
        return None, "wrong_check_digit"
    order_id = ocr.order_id_of(reference)
    return (order_id, None) if order_id else (None, "unknown_reference")


def _book_payment(db: Database, file_id: int, incoming: IncomingPayment, actor: str,
                  now: str) -> dict:
    order_id, reason = match(incoming)
    if order_id is not None and not bank_rows.invoice_order_in(db, order_id, incoming.currency):
        order_id, reason = None, "unknown_reference"
    payment = (payments.book_transfer(db, order_id, incoming.amount_minor, incoming.booking_key)
               if order_id is not None else None)
    row_id = bank_rows.add_bank_payment(db, {
        "bank_file_id": file_id, "booking_key": incoming.booking_key,
        "amount_minor": incoming.amount_minor, "currency": incoming.currency,
        "reference": incoming.reference, "structured": int(incoming.structured),
        "payer_name": incoming.payer_name, "booking_date": incoming.booking_date.isoformat(),
        "status": "booked" if payment else "unmatched", "unmatched_reason": reason,
        "order_id": order_id, "payment_id": payment["id"] if payment else None,
        "created_at": now})
    if payment is None:
        audit.record(db, actor, "bank_payment.unmatched", "bank_payment", row_id,
                     after={"amount": incoming.amount_minor, "currency": incoming.currency,
                            "reason": reason})
    return get(db, row_id)


# --- support's list -----------------------------------------------------------------------------

def get(db: Database, bank_payment_id: int) -> dict:
    row = bank_rows.bank_payment_by_id(db, bank_payment_id)
    if row is None:
        raise NotFound("No such bank payment.")
    return row


def unmatched(db: Database) -> list[dict]:
    """The open ones, oldest first: they have waited longest."""
    return bank_rows.unmatched_payments(db)


def recently_resolved(db: Database, limit: int = 25) -> list[dict]:
    """The ones support dealt with, newest first."""
    return bank_rows.resolved_payments(db, limit)


def _why(text: str | None) -> str:
    why = (text or "").strip()
    if not why:
        raise Invalid(fields={"why": "Say why: it goes into the payment's history."})
    if len(why) > MAX_WHY:
        raise Invalid(fields={"why": f"At most {MAX_WHY} characters."})
    return why


def _open(db: Database, bank_payment_id: int) -> dict:
    row = get(db, bank_payment_id)
    if row["status"] != "unmatched":
        raise Conflict("This payment has already been dealt with.")
    return row


def book_to_order(db: Database, bank_payment_id: int, order_number: str, why: str | None,
                  actor: str) -> dict:
    """Support books an unmatched payment to the order the payer meant."""
    why = _why(why)
    number = normalize_order_number(order_number)
    with write_transaction(db):
        row = _open(db, bank_payment_id)
        order = bank_rows.order_by_number(db, number)
        if order is None:
            raise Invalid(fields={"order_number": "No order has this number."})
        if row["amount_minor"] <= 0:
            raise Invalid(fields={"order_number": "A deduction is no money in: it can't be "
                                                  "booked to an order."})
        if row["currency"] != order["currency"]:
            raise Invalid(fields={"order_number": f"The payment is in {row['currency']}, the "
                                                  f"order in {order['currency']}: mark it for "
                                                  "return instead."})
        payment = payments.book_transfer(db, order["id"], row["amount_minor"],
                                         row["booking_key"])
        _resolve(db, row, "booked", actor, why, order_id=order["id"], payment_id=payment["id"])
        audit.record(db, actor, "bank_payment.booked_by_support", "bank_payment", row["id"],
                     before={"status": "unmatched"},
                     after={"status": "booked", "order_number": number}, why=why)
        return get(db, row["id"])


def mark_for_return(db: Database, bank_payment_id: int, why: str | None, actor: str) -> dict:
    """The money isn't ours to keep: it goes back to the payer (outside this system)."""
    why = _why(why)
    with write_transaction(db):
        row = _open(db, bank_payment_id)
        _resolve(db, row, "to_return", actor, why)
        audit.record(db, actor, "bank_payment.marked_for_return", "bank_payment", row["id"],
                     before={"status": "unmatched"}, after={"status": "to_return"}, why=why)
        return get(db, row["id"])


def _resolve(db: Database, row: dict, status: str, actor: str, why: str, **columns) -> None:
    status_moves.move(db, "bank_payment", row["id"], "unmatched", status, resolved_by=actor,
                resolved_at=clock.now_iso(), resolution_why=why, **columns)


def as_api(row: dict) -> dict:
    return {
        "id": row["id"],
        "amount": row["amount_minor"],
        "currency": row["currency"],
        "reference": row["reference"],
        "payer_name": row["payer_name"],
        "booking_date": row["booking_date"],
        "status": row["status"],
        "unmatched_reason": row["unmatched_reason"],
        "order_id": row["order_id"],
        "order_number": row.get("order_number"),
    }


# --- the sandbox bank ---------------------------------------------------------------------------

def sandbox_file(db: Database, bankgiro: str, pay: list[tuple[str, int]],
                 typed: list[tuple[str, int]] = (), booked_on: date | None = None) -> bytes:
    """The camt.054 a bank would send: each (order number, amount) paid with the order's OCR
    reference by its customer, each (reference as typed, amount) as it was typed."""
    credits = []
    for number, amount in pay:
        order = bank_rows.invoice_payer(db, normalize_order_number(number))
        if order is None or order["payment_method"] != "invoice":
            raise NotFound(f"No invoice order has the number {number}.")
        credits.append(sandbox.Credit(amount, ocr.for_order(order["id"]), order["name"]))
    credits += [sandbox.Credit(amount, reference, "Okänd betalare",
                               structured=reference.isdigit()) for reference, amount in typed]
    now = clock.now()
    return sandbox.notification(bankgiro, credits, booked_on or clock.local_date(now), now)
