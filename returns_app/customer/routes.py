"""Customer views: each parses its form, calls one service function, then redirects or renders."""

from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.money import format_decimal
from ..domain.states import REFUND_PAYABLE_OUTSIDE
from ..services import (
    bank_accounts,
    bank_payments,
    checkouts,
    customers,
    due_date_debits,
    links,
    orders,
    payments,
    refunds,
    returns,
)
from ..web import auth, i18n, proxies
from ..web.database_session import get_db
from ..web.domain_messages import translate
from ..web.form_errors import show_on_form
from ..web.page_cache import kept_page
from ..web.return_reasons import REASON_LABELS
from ..web.safe_redirect import local_path
from ..web.sign_in_form import attempt_sign_in
from .blueprint import bp
from .forms import (
    CancelReturnForm,
    FindOrderForm,
    PaymentForm,
    ShipmentForm,
    SignInForm,
    chosen_items,
    report_return_form,
)


def payout_details_url(refund_id: int) -> str:
    token = links.make_token(current_app.secret_key, links.PAYOUT_DETAILS, refund_id)
    return url_for("customer.payout_details", token=token)


@bp.route("/", methods=["GET", "POST"])
def find_order():
    form = FindOrderForm()
    if form.validate_on_submit():
        try:
            found = customers.find_order(get_db(), form.order_number.data, form.email.data,
                                         proxies.client_address())
        except NotFound as exc:
            show_on_form(form, exc)
        else:
            auth.remember_order(found["id"])
            if language := session.get(i18n.SESSION_KEY):  # chosen on this page, before
                customers.set_language_of_orders(get_db(), [found["id"]], language)
            return redirect(url_for(".order", order_id=found["id"]))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("customer/find_order.html", form=form), status


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    customer_id, status, headers = attempt_sign_in(form, lambda: customers.sign_in(
        get_db(), form.email.data, form.password.data, proxies.client_address()))
    if customer_id is None:
        return render_template("customer/sign_in.html", form=form), status, headers
    customer = customers.get_customer(get_db(), customer_id)
    # A new session: orders looked up before signing in (perhaps by someone else on this
    # browser) don't join the account's list.
    auth.begin_session(auth.Principal("customer", customer_id, customer["email"],
                                      customer["name"]),
                       stay_signed_in=form.stay_signed_in.data)
    return redirect(url_for(".orders_list"))


@bp.post("/signout")
def sign_out():
    # CSRFProtect has already checked the token of this and every other POST.
    auth.end_session()  # forgets who you are, not the language you read
    flash(_("You are signed out."), "info")
    # Signed out to open an emailed link meant for another account: open it now.
    return redirect(local_path(request.form.get("next"), "/links/") or url_for(".find_order"))


@bp.post("/signout/everywhere")
def sign_out_everywhere():
    auth.end_every_session()
    flash(_("You are signed out on every device and browser."), "info")
    return redirect(url_for(".find_order"))


@bp.get("/orders")
def orders_list():
    viewer = auth.customer_viewer()
    db = get_db()
    listed = orders.orders_of_customer(db, viewer.customer_id) if viewer.customer_id else []
    known = {o["id"] for o in listed}
    for order_id in viewer.order_ids - known:
        listed.append(orders.order_details(db, order_id))
    if not listed:
        return redirect(url_for(".find_order"))
    return render_template("customer/orders.html", orders=listed)


@bp.get("/orders/<id:order_id>")
@kept_page("customer.order")
def order(order_id: int):
    db = get_db()
    found = orders.order_for_viewer(db, auth.customer_viewer(), order_id)
    return found, lambda key: _order_page(db, found, PaymentForm(formdata=None,
                                                                idempotency_key=key))


def render_order(order_id: int, pay_form: PaymentForm, status: int):
    """The order page again with the payment form as posted (its errors next to its fields)."""
    db = get_db()
    found = orders.order_for_viewer(db, auth.customer_viewer(), order_id)
    return _order_page(db, found, pay_form)[0], status


def _order_page(db, found: dict, pay_form: PaymentForm) -> tuple[str, bool]:
    """The page, and whether it may be kept (not while it holds a payout-details link or an
    open card checkout)."""
    details = orders.order_details(db, found["id"], found)
    instructions = returns.instructions_for_order(db, details)
    allowed = payments.allowed_now(db, found["id"], details["amounts"])
    open_checkout = checkouts.open_checkout(db, found["id"])
    if pay_form.amount.data is None:
        pay_form.amount.data = format_decimal(allowed)
    order_refunds = refunds.refunds_of_order(db, found["id"])
    details_links = {r["id"]: payout_details_url(r["id"]) for r in order_refunds
                     if r["status"] in REFUND_PAYABLE_OUTSIDE}
    may_debit = bank_accounts.may_debit(db, details["customer_id"])
    return render_template(
        "customer/order.html", order=details,
        window=returns.return_window(details, instructions),
        pay_form=pay_form, allowed_now=allowed, open_checkout=open_checkout,
        bank_linked=may_debit, may_debit=may_debit,
        due_debit=due_date_debits.scheduled_debit(db, found["id"]),
        pay_on_due_date=bank_accounts.state(db, details["customer_id"])["pay_on_due_date"],
        signed_in=auth.signed_in_customer_id() == details["customer_id"],
        payments=payments.payments_of_order(db, found["id"]),
        refunds=order_refunds, rejected=orders.rejected_items(db, found["id"]),
        details_links=details_links,
        invoice=bank_payments.invoice_details(details, current_app.config["BANKGIRO"]),
    # Not kept while it offers an open checkout: that ends by the clock, not by a change the
    # order's version would see.
    ), not details_links and open_checkout is None


@bp.route("/orders/<id:order_id>/returns/new", methods=["GET", "POST"])
def report_return(order_id: int):
    db = get_db()
    viewer = auth.customer_viewer()
    found = orders.order_for_viewer(db, viewer, order_id)
    # A report that goes through needs only the lines; the page needs the whole order.
    form = report_return_form(orders.lines_with_returnable(db, order_id))
    existing_return_id = None
    if form.validate_on_submit():
        items, line_ids = chosen_items(form)
        try:
            ret = returns.report_return(db, viewer, order_id, {"items": items})
        except Invalid as exc:
            existing_return_id = exc.details.get("existing_return_id")
            _errors_to_form(form, exc, line_ids)
        else:
            flash(_("Your return is registered. Here is how to send it back."), "success")
            return redirect(url_for(".return_page", return_id=ret["id"]))
    details = orders.order_details(db, order_id, found)
    instructions = returns.instructions_for_order(db, details)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "customer/report_return.html", order=details, form=form,
        window=returns.return_window(details, instructions),
        existing_return_id=existing_return_id,
    ), status


_ITEM_FIELD = re.compile(r"items\[(\d+)\]\.(\w+)")
_FORM_PREFIX = {"quantity": "qty", "reason": "reason", "comment": "comment", "line_id": "qty"}


def _errors_to_form(form, exc: Invalid, line_ids: list[int]) -> None:
    """Put each of the service's item errors next to the field of the line it concerns."""
    def field_of(name: str):
        match = _ITEM_FIELD.fullmatch(name)
        if match and int(match[1]) < len(line_ids):
            return form[f"{_FORM_PREFIX.get(match[2], 'qty')}_{line_ids[int(match[1])]}"]
        return None
    show_on_form(form, exc, field_of=field_of)


@bp.get("/returns/<id:return_id>")
@kept_page("customer.return")
def return_page(return_id: int):
    db = get_db()
    ret, order = returns.return_for_viewer(db, auth.customer_viewer(), return_id)
    return order, lambda _key: (_return_page(db, returns.with_details(db, ret, order),
                                             ShipmentForm()), True)


def _return_page(db, ret: dict, shipment_form) -> str:
    return render_template(
        "customer/return.html", ret=ret,
        paused=returns.paused_here(ret, orders.amounts(db, ret["order_id"])),
        reason_labels=REASON_LABELS, shipment_form=shipment_form, cancel_form=CancelReturnForm())


@bp.post("/returns/<id:return_id>/sent")
def return_sent(return_id: int):
    form = ShipmentForm()
    db = get_db()
    viewer = auth.customer_viewer()
    if form.validate_on_submit():
        try:
            returns.mark_sent(db, viewer, return_id, form.tracking_number.data)
        except Invalid as exc:
            show_on_form(form, exc, fallback=form.tracking_number)
        except Conflict as exc:
            flash(translate(exc.message), "error")
            return redirect(url_for(".return_page", return_id=return_id))
        else:
            flash(_("Thanks, we've noted that your return is on its way."), "success")
            return redirect(url_for(".return_page", return_id=return_id))
    return _return_page(db, returns.return_details(db, viewer, return_id), form), 422


@bp.post("/returns/<id:return_id>/cancel")
def return_cancel(return_id: int):
    try:
        ret = returns.cancel_return(get_db(), auth.customer_viewer(), return_id)
    except Conflict as exc:
        flash(translate(exc.message), "error")
    else:
        # Nothing is "due again" on an order that is paid for.
        if orders.amounts(get_db(), ret["order_id"]).payable_now:
            flash(_("Your return is cancelled. You keep the items, and their amount is due "
                    "again."), "info")
        else:
            flash(_("Your return is cancelled. You keep the items, which are paid for."), "info")
    return redirect(url_for(".return_page", return_id=return_id))
