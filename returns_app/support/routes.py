"""Console views: each parses its form, calls one service function, flashes and redirects
(POST/redirect/GET), or re-renders its page with the errors next to the fields (422)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..domain import clock, stuck_rules
from ..domain.errors import Conflict, Forbidden, Invalid
from ..domain.payout_details import parse_payout_details
from ..services import bank_payments, casefile, dashboard, stuck, support, support_actions
from ..web import proxies, staff_auth
from ..web.database_session import get_db
from ..web.filters import moment
from ..web.form_errors import show_on_form
from ..web.sign_in_form import attempt_sign_in
from . import access
from .blueprint import bp
from .chart import bar_chart
from .forms import (
    ApprovalForm,
    BookPaymentForm,
    DestinationForm,
    DetailsLinkForm,
    DueDateForm,
    HoldInvoiceForm,
    MarkPaidForm,
    RemindMerchantForm,
    RetryForm,
    ReturnPaymentForm,
    SearchForm,
    SignInForm,
    SignOutForm,
)

# As the merchants' inbox: a screenful or two on a phone, most urgent first; counts per reason
# sit above the list and the rest is a page away.
PAGE_SIZE = 25


@bp.context_processor
def _console():
    return {"search_form": SearchForm(request.args), "sign_out_form": SignOutForm(),
            "days_since": days_since, "hours_since": hours_since,
            "days_until": days_until, "suggestion": stuck.suggestion,
            "reason_codes": stuck_rules.REASONS,
            "refund_statuses": (*stuck.NOT_SUCCEEDED, "succeeded"),
            "idle_minutes": int(access.IDLE_LIMIT.total_seconds() // 60)}


def days_since(iso: str) -> int:
    return max(0, (clock.now() - clock.parse(iso)).days)


def hours_since(iso: str) -> int:
    return max(0, int((clock.now() - clock.parse(iso)).total_seconds() // 3600))


def days_until(day: str) -> int:
    return (date.fromisoformat(day) - clock.today()).days


# --- signing in and out ---------------------------------------------------------------------------

@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    user, status, headers = attempt_sign_in(form, lambda: support.sign_in(
        get_db(), form.email.data, form.password.data, proxies.client_address()))
    if user is None:
        return render_template("support/sign_in.html", form=form), status, headers
    # A new session (after the code): nothing from before signing in carries over.
    return staff_auth.password_accepted("support", user["id"],
                                        access.safe_next(request.args.get("next")))


staff_auth.register(bp, "support")


# --- the queue, search and dashboard --------------------------------------------------------------

@bp.get("/")
def queue():
    page = max(1, request.args.get("page", 1, type=int))
    db = get_db()
    result = stuck.stuck_queue(db, clock.now(), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("support/queue.html", result=result, page=page, page_size=PAGE_SIZE,
                           approvals=support_actions.pending_approvals(db), now=clock.now())


@bp.get("/search")
def search():
    form = SearchForm(request.args)
    db = get_db()
    found = stuck.search(db, form.q.data or "") if form.validate() and form.q.data else None
    result = stuck.stuck_queue(db, clock.now(), found, limit=PAGE_SIZE) if found else None
    orders = casefile.orders_found(db, found) if found else []
    return render_template("support/search.html", form=form, found=found, result=result,
                           orders=orders, now=clock.now())


@bp.get("/dashboard")
def dashboard_page():
    board = dashboard.build(get_db(), clock.now())
    return render_template("support/dashboard.html", board=board, chart=bar_chart(board.bins))


# --- refunds --------------------------------------------------------------------------------------

def _refund_forms(**overrides) -> dict:
    forms = {
        "retry": RetryForm(prefix="retry", formdata=None),
        "link": DetailsLinkForm(prefix="link", formdata=None),
        "destination": DestinationForm(prefix="destination", formdata=None),
        "paid": MarkPaidForm(prefix="paid", formdata=None),
        "approval": ApprovalForm(prefix="approval", formdata=None),
    }
    return forms | overrides


def render_refund(refund_id: int, status: int = 200, **forms):
    case = casefile.refund_case(get_db(), refund_id, clock.now())
    return render_template("support/refund.html", case=case, forms=_refund_forms(**forms),
                           approval_limit=support_actions.APPROVAL_ABOVE_MINOR,
                           me=access.user_id(), now=clock.now()), status


@bp.get("/refunds/<id:refund_id>")
def refund_page(refund_id: int):
    return render_refund(refund_id)


def _act(form, name: str, action: Callable[[], object], done: Callable[[object], str],
         back: str, rerender: Callable[..., tuple]):
    """The shape of every action: validate, run the one service function, flash what happened
    and go back; a rule broken goes next to its field, a state conflict becomes a message."""
    if form.validate_on_submit():
        try:
            result = action()
        except Invalid as exc:
            show_on_form(form, exc)
        except (Conflict, Forbidden) as exc:
            flash(exc.message, "error")
            return redirect(back, 303)
        else:
            flash(done(result), "success")
            return redirect(back, 303)
    return rerender(status=422, **{name: form})


@bp.post("/refunds/<id:refund_id>/retry")
def retry(refund_id: int):
    form = RetryForm(prefix="retry")
    return _act(
        form, "retry",
        lambda: support_actions.retry_payout(get_db(), refund_id, access.user_id(),
                                             form.why.data),
        lambda refund: _("The payout is queued again. The provider is asked first, so it "
                         "can't be paid twice."),
        url_for(".refund_page", refund_id=refund_id),
        lambda **kw: render_refund(refund_id, **kw))


@bp.post("/refunds/<id:refund_id>/destination")
def change_destination(refund_id: int):
    form = DestinationForm(prefix="destination")
    return _act(
        form, "destination",
        lambda: support_actions.change_destination(
            get_db(), refund_id, parse_payout_details(form.details()), form.consent.data,
            access.user_id(), form.why.data),
        lambda result: (
            _("Requested. A second support user must approve it, and the customer is told by "
              "email: nothing is paid before %(when)s.",
              when=moment(result["pays_not_before"], "short"))
            if result["status"] == "awaiting_approval" else
            _("The customer is told by email and can object: the payout waits until %(when)s.",
              when=moment(result["pays_not_before"], "short"))),
        url_for(".refund_page", refund_id=refund_id),
        lambda **kw: render_refund(refund_id, **kw))


@bp.post("/refunds/<id:refund_id>/details-link")
def resend_link(refund_id: int):
    form = DetailsLinkForm(prefix="link")

    def done(refund) -> str:
        # The link goes to the address on file only: never to a page, a flash or the session.
        return _("A new link is on its way to the customer's email address on file, "
                 "%(email)s.", email=refund["sent_to"])

    return _act(
        form, "link",
        lambda: support_actions.resend_details_link(get_db(), refund_id, access.user_id(),
                                                    form.why.data),
        done, url_for(".refund_page", refund_id=refund_id),
        lambda **kw: render_refund(refund_id, **kw))


@bp.post("/refunds/<id:refund_id>/mark-paid")
def mark_paid(refund_id: int):
    form = MarkPaidForm(prefix="paid")

    def done(result: dict) -> str:
        if result["status"] == "awaiting_approval":
            return _("Requested. A second support user must approve it before the refund is "
                     "booked as paid.")
        return _("The refund is booked as paid outside the system.")

    return _act(
        form, "paid",
        lambda: support_actions.mark_paid_outside(get_db(), refund_id, form.reference.data,
                                                  access.user_id(), form.why.data),
        done, url_for(".refund_page", refund_id=refund_id),
        lambda **kw: render_refund(refund_id, **kw))


@bp.post("/approvals/<id:approval_id>")
def decide_approval(approval_id: int):
    form = ApprovalForm(prefix="approval")
    refund_id = casefile.refund_of_approval(get_db(), approval_id)
    decide = support_actions.approve if form.approve.data else support_actions.decline
    return _act(
        form, "approval",
        lambda: decide(get_db(), approval_id, access.user_id(), form.why.data),
        lambda refund: (_("Approved.") if form.approve.data
                        else _("Declined: nothing was booked or sent.")),
        url_for(".refund_page", refund_id=refund_id),
        lambda **kw: render_refund(refund_id, **kw))


# --- orders and returns ---------------------------------------------------------------------------

def render_order(order_id: int, status: int = 200, **forms):
    case = casefile.order_case(get_db(), order_id, clock.now())
    all_forms = {"hold": HoldInvoiceForm(prefix="hold", formdata=None),
                 "due": DueDateForm(prefix="due", formdata=None)} | forms
    return render_template("support/order.html", case=case, forms=all_forms,
                           max_days=support_actions.MAX_DAYS_AHEAD), status


@bp.get("/orders/<id:order_id>")
def order_page(order_id: int):
    return render_order(order_id)


@bp.post("/orders/<id:order_id>/hold")
def hold_invoice(order_id: int):
    form = HoldInvoiceForm(prefix="hold")
    return _act(
        form, "hold",
        lambda: support_actions.hold_invoice(get_db(), order_id, form.until.data,
                                             access.user_id(), form.why.data),
        lambda order: _("The invoice is paused until %(day)s: no reminders or fees until "
                        "then.", day=order["on_hold_until"]),
        url_for(".order_page", order_id=order_id),
        lambda **kw: render_order(order_id, **kw))


@bp.post("/orders/<id:order_id>/due-date")
def move_due_date(order_id: int):
    form = DueDateForm(prefix="due")
    return _act(
        form, "due",
        lambda: support_actions.move_due_date(get_db(), order_id, form.due_date.data,
                                              access.user_id(), form.why.data),
        lambda order: _("The invoice is now due on %(day)s.", day=order["due_date"]),
        url_for(".order_page", order_id=order_id),
        lambda **kw: render_order(order_id, **kw))


def render_return(return_id: int, status: int = 200, **forms):
    case = casefile.return_case(get_db(), return_id, clock.now())
    all_forms = {"remind": RemindMerchantForm(prefix="remind", formdata=None)} | forms
    return render_template("support/return.html", case=case, forms=all_forms,
                           now=clock.now()), status


@bp.get("/returns/<id:return_id>")
def return_page(return_id: int):
    return render_return(return_id)


@bp.post("/returns/<id:return_id>/remind")
def remind_merchant(return_id: int):
    form = RemindMerchantForm(prefix="remind")
    return _act(
        form, "remind",
        lambda: support_actions.remind_merchant(get_db(), return_id, access.user_id(),
                                                form.why.data),
        lambda ret: _("The merchant's staff are reminded by email."),
        url_for(".return_page", return_id=return_id),
        lambda **kw: render_return(return_id, **kw))


# --- bank payments no order was found for ---------------------------------------------------------

def render_unmatched(status: int = 200, failed: tuple[str, int, object] | None = None):
    db = get_db()
    open_rows = bank_payments.unmatched(db)
    forms = {row["id"]: {"book": BookPaymentForm(prefix=f"book-{row['id']}", formdata=None),
                         "return": ReturnPaymentForm(prefix=f"return-{row['id']}",
                                                     formdata=None)}
             for row in open_rows}
    if failed is not None:
        name, payment_id, form = failed
        forms.setdefault(payment_id, {})[name] = form
    return render_template("support/unmatched.html", payments=open_rows, forms=forms,
                           done=bank_payments.recently_resolved(db, PAGE_SIZE),
                           now=clock.now()), status


@bp.get("/unmatched")
def unmatched_page():
    return render_unmatched()


@bp.post("/unmatched/<id:bank_payment_id>/book")
def book_unmatched(bank_payment_id: int):
    form = BookPaymentForm(prefix=f"book-{bank_payment_id}")
    return _act(
        form, "book",
        lambda: bank_payments.book_to_order(get_db(), bank_payment_id, form.order_number.data,
                                            form.why.data, support_actions.actor(
                                                access.user_id())),
        lambda row: _("Booked to order %(number)s: the customer gets a receipt.",
                      number=row["order_number"]),
        url_for(".unmatched_page"),
        lambda status, **kw: render_unmatched(status, ("book", bank_payment_id, kw["book"])))


@bp.post("/unmatched/<id:bank_payment_id>/return")
def return_unmatched(bank_payment_id: int):
    form = ReturnPaymentForm(prefix=f"return-{bank_payment_id}")
    return _act(
        form, "return",
        lambda: bank_payments.mark_for_return(get_db(), bank_payment_id, form.why.data,
                                              support_actions.actor(access.user_id())),
        lambda _row: _("Marked for return to the payer."),
        url_for(".unmatched_page"),
        lambda status, **kw: render_unmatched(status, ("return", bank_payment_id, kw["return"])))
