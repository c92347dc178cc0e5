"""API endpoints: parse JSON, call one service function, answer with the contract's shape."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext

from ..domain.errors import Invalid
from ..domain.payout_details import parse_payout_details
from ..domain.validation import NOT_TEXT
from ..provider.access import provider
from ..provider.client import ProviderUnavailable
from ..services import bank_payments, customers, decisions, orders, payments, refunds, returns
from ..web import proxies
from ..web.card_return_urls import return_urls
from ..web.database_session import get_db
from ..web.domain_messages import N_
from ..web.http_errors import api_error
from ..web.page_cache import kept_page
from . import auth
from .blueprint import bp
from .openapi import document
from .request_body import json_object

PROVIDER_UNAVAILABLE = N_("Card payments can't be reached right now. Nothing was charged; retry "
                          "with the same Idempotency-Key.")


def json_body(required: bool = True) -> dict:
    return json_object(required)


def _invoice(order: dict) -> dict | None:
    return bank_payments.invoice_details(order, current_app.config["BANKGIRO"])


def _created(payload: dict):
    return jsonify(payload), 201


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.post("/orders")
def create_order():
    merchant = auth.merchant()
    order = orders.create_order(get_db(), merchant["id"], json_body())
    return _created(orders.as_api(order, _invoice(order)))


@bp.post("/customer/session")
def create_session():
    data = json_body()
    wrong = {name: NOT_TEXT for name in ("order_number", "email")
             if data.get(name) is not None and not isinstance(data[name], str)}
    if wrong:
        raise Invalid(fields=wrong)
    token = customers.create_api_session(
        get_db(), str(data.get("order_number") or ""), str(data.get("email") or ""),
        proxies.client_address())
    return _created({"token": token})


@bp.delete("/customer/session")
def end_session():
    customers.revoke_api_session(get_db(), auth.bearer())
    return "", 204


@bp.get("/orders/<id:order_id>")
@kept_page("api.order", answer=True)
def get_order(order_id: int):
    viewer = auth.customer()
    db = get_db()
    order = orders.order_for_viewer(db, viewer, order_id)
    return order, lambda: payments.order_as_api(db, orders.order_details(db, order_id, order),
                                                _invoice(order))


@bp.post("/orders/<id:order_id>/returns")
def report_return(order_id: int):
    viewer = auth.customer()
    ret = returns.report_return(get_db(), viewer, order_id, json_body())
    return _created(returns.as_api(ret))


@bp.post("/returns/<id:return_id>/shipment")
def return_shipment(return_id: int):
    viewer = auth.customer()
    data = json_body()
    tracking = data.get("tracking_number")
    if tracking is not None and not isinstance(tracking, str):
        raise Invalid(fields={"tracking_number": NOT_TEXT})
    return jsonify(returns.as_api(returns.mark_sent(get_db(), viewer, return_id, tracking)))


@bp.post("/returns/<id:return_id>/cancel")
def return_cancel(return_id: int):
    viewer = auth.customer()
    return jsonify(returns.as_api(returns.cancel_return(get_db(), viewer, return_id)))


# --- money ------------------------------------------------------------------------------------

@bp.post("/orders/<id:order_id>/payments")
def create_payment(order_id: int):
    viewer = auth.customer()
    try:
        response = payments.pay(get_db(), provider(), viewer, order_id, json_body(),
                                request.headers.get("Idempotency-Key"),
                                return_urls(order_id, request.headers.get("Idempotency-Key")))
    except ProviderUnavailable:
        return api_error(503, "provider_unavailable", gettext(PROVIDER_UNAVAILABLE))
    return jsonify(response.body), response.status


@bp.get("/orders/<id:order_id>/refunds")
def list_refunds(order_id: int):
    viewer = auth.customer()
    db = get_db()
    orders.order_for_viewer(db, viewer, order_id)
    return jsonify({"refunds": [refunds.as_api(r) for r in refunds.refunds_of_order(db,
                                                                                     order_id)]})


@bp.post("/refunds/<id:refund_id>/payout-details")
def refund_payout_details(refund_id: int):
    viewer = auth.customer()
    db = get_db()
    refund = refunds.refund_for_viewer(db, viewer, refund_id)
    body = json_body()
    response = refunds.set_destination_once(db, refund["id"], parse_payout_details(body),
                                            viewer.actor, request.headers.get("Idempotency-Key"),
                                            body)
    return jsonify(response.body), response.status


@bp.post("/returns/<id:return_id>/registration")
def register_return(return_id: int):
    merchant = auth.merchant()
    response = decisions.register_once(
        get_db(), merchant["id"], return_id, json_body(),
        request.headers.get("Idempotency-Key"), f"merchant:{merchant['id']}:api")
    return jsonify(response.body), response.status
