"""The app customer's bank account, mandate and debits on the due date."""

from __future__ import annotations

from flask import jsonify, request

from ..domain.errors import Invalid, NotFound
from ..domain.payout_details import parse_payout_details
from ..provider.access import provider
from ..provider.client import ProviderUnavailable
from ..services import bank_accounts, checkouts, due_date_debits, payments
from ..web.database_session import get_db
from ..web.http_errors import api_error
from . import auth
from .blueprint import bp
from .routes import json_body


def _language() -> str:
    return request.accept_languages.best_match(["sv", "en"]) or "sv"


def _answer(customer_id: int):
    db = get_db()
    body = bank_accounts.as_api(bank_accounts.state(db, customer_id))
    body["mandate_text"] = bank_accounts.mandate_text(db, customer_id, _language())
    return jsonify(body)


@bp.get("/customer/bank-account")
def get_bank_account():
    return _answer(auth.customer_id())


@bp.put("/customer/bank-account")
def link_bank_account():
    customer_id = auth.customer_id()
    data = json_body()
    details = {name: data.get(name) for name in ("clearing_number", "account_number")}
    destination = parse_payout_details(details)
    bank_accounts.link(get_db(), customer_id, destination, f"customer:{customer_id}:api")
    return _answer(customer_id)


@bp.delete("/customer/bank-account")
def unlink_bank_account():
    customer_id = auth.customer_id()
    bank_accounts.unlink(get_db(), customer_id, f"customer:{customer_id}:api")
    return _answer(customer_id)


@bp.post("/customer/bank-account/mandate")
def confirm_mandate():
    customer_id = auth.customer_id()
    language = json_body().get("language")
    if language not in ("sv", "en"):
        raise Invalid(fields={"language": "Must be one of: sv, en."})
    bank_accounts.confirm_mandate(get_db(), customer_id, language, f"customer:{customer_id}:api")
    return _answer(customer_id)


@bp.put("/customer/pay-on-due-date")
def set_pay_on_due_date():
    customer_id = auth.customer_id()
    on = json_body().get("pay_on_due_date")
    if not isinstance(on, bool):
        raise due_date_debits.invalid_choice()
    due_date_debits.set_pay_on_due_date(get_db(), customer_id, on, f"customer:{customer_id}:api")
    return _answer(customer_id)


@bp.post("/orders/<id:order_id>/due-date-payment")
def pay_on_due_date(order_id: int):
    payment = due_date_debits.schedule_invoice(get_db(), auth.customer(), order_id)
    return jsonify(payments.as_api(payment)), 201


@bp.post("/payments/<id:payment_id>/cancel")
def cancel_payment(payment_id: int):
    """A scheduled debit (until the day before) or an open card checkout."""
    db = get_db()
    try:
        method = payments.get_payment(db, payment_id)["method"]
    except NotFound:
        raise NotFound("We couldn't find that payment.") from None  # as for another's payment
    if method != "card":
        return jsonify(payments.as_api(due_date_debits.cancel(db, auth.customer(), payment_id)))
    try:
        payment = checkouts.cancel_for_customer(db, provider(), auth.customer(), payment_id)
    except ProviderUnavailable:
        return api_error(503, "provider_unavailable",
                         "Card payments can't be reached right now. Nothing was charged; retry "
                         "in a minute.")
    return jsonify(payments.as_api(payment))
