"""The customer's bank account: link it, confirm the direct-debit mandate, remove it; and the
order page's "pay on the due date" buttons. Open to a signed-in customer, or through a signed
link from an email (which proves the inbox, unlike an order number and an email address)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.money import format_minor
from ..domain.payout_details import parse_payout_details
from ..services import bank_accounts, due_date_debits, links, payments
from ..services.orders import get_order
from ..web import auth
from ..web.database_session import get_db
from ..web.domain_messages import translate
from ..web.filters import day
from ..web.form_errors import show_on_form
from .bank_account_forms import (
    BankAccountForm,
    CancelDebitForm,
    MandateForm,
    PayOnDueDateForm,
    ScheduleForm,
    UnlinkForm,
)
from .blueprint import bp
from .email_link_routes import expired_link_page

FORMS = {"link": BankAccountForm, "mandate": MandateForm, "unlink": UnlinkForm,
         "always": PayOnDueDateForm}


def _language() -> str:
    return "en" if str(get_locale()).startswith("en") else "sv"


@bp.route("/account/bank-account", methods=["GET", "POST"])
def bank_account():
    customer_id = auth.signed_in_customer_id()
    if customer_id is None:
        flash(_("Sign in to link a bank account, or use the link in one of our emails."), "info")
        return redirect(url_for(".sign_in"))
    return _page(customer_id, url_for(".bank_account"), f"customer:{customer_id}")


@bp.route("/links/bank-account/<token>", methods=["GET", "POST"])
def email_bank_account(token: str):
    try:
        order_id = links.read_token(current_app.secret_key, links.BANK_ACCOUNT, token)
    except links.LinkExpired:
        return expired_link_page(links.BANK_ACCOUNT, token)
    order = get_order(get_db(), order_id)
    auth.remember_order(order_id)
    return _page(order["customer_id"], url_for(".email_bank_account", token=token),
                 f"customer:{order['customer_id']}:email-link")


def _page(customer_id: int, here: str, actor: str):
    db = get_db()
    action = request.form.get("action") if request.method == "POST" else None
    forms = {name: cls(formdata=None) for name, cls in FORMS.items()}
    if action in FORMS:
        form = forms[action] = FORMS[action]()
        if form.validate_on_submit():
            try:
                message = _act(db, customer_id, action, form, actor)
            except Invalid as exc:
                show_on_form(form, exc, fallback=form.account_number)
            except Conflict as exc:
                flash(translate(exc.message), "error")
                return redirect(here, 303)
            else:
                flash(message, "success")
                return redirect(here, 303)
    current = bank_accounts.state(db, customer_id)
    forms["mandate"].language.data = _language()
    status = 422 if any(f.errors for f in forms.values()) else 200
    return render_template(
        "customer/bank_account.html", current=current, forms=forms, here=here,
        mandate_text=bank_accounts.mandate_text(db, customer_id, _language()),
    ), status


def _act(db, customer_id: int, action: str, form, actor: str) -> str:
    if action == "link":
        destination = parse_payout_details({"clearing_number": form.clearing_number.data,
                                            "account_number": form.account_number.data})
        bank_accounts.link(db, customer_id, destination, actor)
        return _("Your bank account is linked. Refunds without a card go there from now on.")
    if action == "mandate":
        bank_accounts.confirm_mandate(db, customer_id, form.language.data, actor)
        return _("Thank you. You can now pay your invoices from this account on their due date.")
    if action == "unlink":
        bank_accounts.unlink(db, customer_id, actor)
        return _("Your bank account is removed, and nothing will be taken from it.")
    on = form.on.data == "1"
    scheduled = due_date_debits.set_pay_on_due_date(db, customer_id, on, actor)
    if not on:
        return _("Your invoices are no longer paid automatically. Payments already scheduled "
                 "stay until you cancel them.")
    return _("From now on your invoices are paid from your bank account on their due date "
             "(%(count)s scheduled now).", count=scheduled)


@bp.post("/orders/<id:order_id>/due-date-payment")
def schedule_on_due_date(order_id: int):
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            payment = due_date_debits.schedule_invoice(get_db(), auth.customer_viewer(),
                                                       order_id)
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("Done: what is owed on %(day)s, at most %(amount)s, will be paid from your "
                    "bank account that day.", day=day(payment["scheduled_for"]),
                    amount=format_minor(payment["amount_minor"])), "success")
    return redirect(url_for(".order", order_id=order_id) + "#due-date-heading", 303)


@bp.post("/orders/<id:order_id>/pay-on-due-date")
def pay_on_due_date(order_id: int):
    db = get_db()
    order = get_order(db, order_id)
    if not auth.customer_viewer().may_see(order):
        raise NotFound("We couldn't find that order.")
    form = PayOnDueDateForm()
    if form.validate_on_submit():
        try:
            message = _act(db, order["customer_id"], "always", form,
                           f"customer:{order['customer_id']}")
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            flash(message, "success")
    return redirect(url_for(".order", order_id=order_id) + "#due-date-heading", 303)


@bp.post("/payments/<id:payment_id>/cancel")
def cancel_debit(payment_id: int):
    db = get_db()
    viewer = auth.customer_viewer()
    order = get_order(db, payments.get_payment(db, payment_id)["order_id"])
    if not viewer.may_see(order):
        raise NotFound("We couldn't find that payment.")
    if CancelDebitForm().validate_on_submit():
        try:
            due_date_debits.cancel(db, viewer, payment_id)
        except Conflict as exc:
            flash(translate(exc.message), "error")
        else:
            flash(_("Cancelled: nothing will be taken from your bank account for this invoice."),
                  "success")
    return redirect(url_for(".order", order_id=order["id"]) + "#due-date-heading", 303)
