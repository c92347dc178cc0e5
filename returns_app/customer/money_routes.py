"""Customer pages that move money: pay for kept items, and say where a refund should go."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.money import format_minor, parse_amount
from ..domain.payout_details import parse_payout_details
from ..domain.states import REFUND_PAYABLE_OUTSIDE
from ..provider.access import provider
from ..provider.client import ProviderUnavailable
from ..services import audit, bank_accounts, checkouts, links, payments, refunds
from ..services.orders import get_order
from ..web import auth
from ..web.card_return_urls import return_urls
from ..web.database_session import get_db
from ..web.domain_messages import translate
from ..web.filters import day
from ..web.form_errors import show_on_form
from .blueprint import bp
from .email_link_routes import expired_link_page
from .forms import CancelCheckoutForm, PaymentForm, PayoutDetailsForm
from .routes import render_order


@bp.post("/orders/<id:order_id>/payments")
def pay(order_id: int):
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            amount = parse_amount(form.amount.data)
            if amount == 0:  # the domain's "between 1 and ..." is written for API clients
                raise Invalid(fields={"amount": _("Enter an amount above 0,00 kr.")})
            response = payments.pay(
                get_db(), provider(), auth.customer_viewer(), order_id,
                {"amount": amount, "method": form.method.data or None},
                form.idempotency_key.data, return_urls(order_id, form.idempotency_key.data))
        except Invalid as exc:
            show_on_form(form, exc, field_of=lambda _name: form.amount, fallback=form.amount)
        except ProviderUnavailable:
            form.amount.errors = [_("Card payments can't be reached right now. Nothing was "
                                    "charged; try again in a minute.")]
        else:
            body = response.body
            if body["status"] == "pending":
                return redirect(body["checkout_url"], 303)
            flash(_("Done: %(amount)s will be paid from your bank account on %(day)s.",
                    amount=format_minor(body["amount"]), day=day(body["scheduled_for"])),
                  "success")
            return redirect(url_for("customer.order", order_id=order_id), 303)
    return render_order(order_id, pay_form=form, status=422)


@bp.get("/payments/return")
def payment_return():
    payment = _confirm(request.args.get("session_id", ""))
    if payment["status"] == "succeeded":
        flash(_("Thank you: %(amount)s is paid.",
                amount=format_minor(payment["settled_amount_minor"])), "success")
    else:
        flash(_("We haven't received the payment yet. If you paid, it will show here shortly."),
              "info")
    return _back_to_order(payment)


@bp.get("/payments/cancelled")
def payment_cancelled():
    session_id = request.args.get("session_id") or _checkout_of(
        request.args.get("order", type=int), request.args.get("key", ""))
    payment = _confirm(session_id)
    if payment["status"] == "succeeded":  # paid in another tab before cancelling in this one
        flash(_("Thank you: %(amount)s is paid.",
                amount=format_minor(payment["settled_amount_minor"])), "success")
    else:
        flash(_("The card payment was cancelled. Nothing was charged."), "info")
    return _back_to_order(payment)


@bp.post("/payments/<id:payment_id>/cancel-checkout")
def cancel_checkout(payment_id: int):
    """"Cancel this payment" beside "Continue paying": the provider closes the card page."""
    db = get_db()
    viewer = auth.customer_viewer()
    order = get_order(db, payments.get_payment(db, payment_id)["order_id"])
    if not viewer.may_see(order):
        raise NotFound("We couldn't find that payment.")
    if CancelCheckoutForm().validate_on_submit():
        try:
            payment = checkouts.cancel_for_customer(db, provider(), viewer, payment_id)
        except ProviderUnavailable:
            flash(_("Card payments can't be reached right now. Nothing was charged; try again "
                    "in a minute."), "error")
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            _flash_ended(payment)
    return redirect(url_for(".order", order_id=order["id"]) + "#pay-heading", 303)


def _flash_ended(payment: dict) -> None:
    if payment["status"] == "succeeded":  # paid on the card page before cancelling here
        flash(_("Thank you: %(amount)s is paid.",
                amount=format_minor(payment["settled_amount_minor"])), "success")
    elif payment["failure_reason"] == checkouts.EXPIRED:
        flash(_("The card payment had expired. Nothing was charged."), "info")
    else:
        flash(_("The card payment was cancelled. Nothing was charged."), "info")


def _checkout_of(order_id: int | None, key: str) -> str:
    """The checkout session of the card payment started on `order_id` with `key`."""
    for payment in payments.payments_of_order(get_db(), order_id) if order_id and key else ():
        if payment["method"] == "card" and payment["idempotency_key"] == key:
            return payment["provider_ref"]
    return ""


def _confirm(session_id: str) -> dict:
    try:
        return payments.confirm_checkout(get_db(), provider(), session_id)
    except ProviderUnavailable:
        return payments.payment_by_checkout(get_db(), session_id)


def _back_to_order(payment: dict):
    order = get_order(get_db(), payment["order_id"])
    if auth.customer_viewer().may_see(order):
        return redirect(url_for("customer.order", order_id=order["id"]))
    # Came back in another browser: the payment is booked, the order needs finding again.
    return redirect(url_for("customer.find_order"))


@bp.route("/refunds/<token>", methods=["GET", "POST"])
def payout_details(token: str):
    db = get_db()
    try:
        refund_id = links.read_token(current_app.secret_key, links.PAYOUT_DETAILS, token)
    except links.LinkExpired:
        return expired_link_page(links.PAYOUT_DETAILS, token)
    refund = refunds.get_refund(db, refund_id)
    order = get_order(db, refund["order_id"])
    # Following the link proves access to this one order, like finding it by number + email;
    # with another account signed in here, the link opens this page only.
    auth.open_from_link(order)
    form = PayoutDetailsForm()
    if refund["status"] in REFUND_PAYABLE_OUTSIDE and form.validate_on_submit():
        try:
            destination = parse_payout_details(form.details())
            # Whoever holds the emailed link acted, not necessarily the customer it went to.
            refunds.set_destination(db, refund_id, destination,
                                    audit.link_holder(order["customer_email"]))
            if form.save_account.data and destination.kind == "bank_account":
                bank_accounts.link(db, order["customer_id"], destination,
                                   f"customer:{order['customer_id']}:payout-details")
        except Invalid as exc:
            show_on_form(form, exc, fallback=form.choice)
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            # The translated sentence is escaped; only the span around the destination is HTML.
            where = Markup('<span class="nowrap">{}</span>').format(translate(destination.masked))
            flash(escape(_("Thank you. Your refund is on its way to %(destination)s. Nothing "
                           "more for you to do.")) % {"destination": where}, "success")
            return redirect(url_for("customer.payout_details", token=token), 303)
    status = 422 if form.errors else 200
    return render_template("customer/payout_details.html", form=form, order=order,
                           refund=refunds.get_refund(db, refund_id)), status
