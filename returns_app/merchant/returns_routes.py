"""The returns inbox, a return's page with the registration form, arrivals, and the export."""

from __future__ import annotations

import re
import uuid

from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..domain.errors import Conflict, Invalid
from ..domain.states import RETURN_STATUSES
from ..services import arrivals, decisions, inbox, returns
from ..web.database_session import get_db
from ..web.form_errors import show_on_form
from ..web.return_reasons import REASON_LABELS
from .access import current_actor, current_merchant_id, merchant_required, safe_next
from .blueprint import bp
from .export import csv_lines
from .forms import MarkReceivedForm, RegistrationForm, SearchForm, registration_form


@bp.get("/")
@merchant_required
def home():
    return redirect(url_for(".returns_inbox"))


@bp.get("/returns")
@merchant_required
def returns_inbox():
    db, merchant_id = get_db(), current_merchant_id()
    search = SearchForm(formdata=request.args)
    status = inbox.check_filter(request.args.get("status"))
    query = search.q.data if search.validate() else None
    page = inbox.list_returns(db, merchant_id, status, query, request.args.get("after"))
    return render_template(
        "merchant/returns.html", page=page, status=status, search=search, query=query,
        counts=inbox.counts(db, merchant_id, query), filters=inbox.FILTERS,
        overdue_days=inbox.OVERDUE_WITHIN_DAYS, first_page=not request.args.get("after"),
        received_form=MarkReceivedForm(formdata=None, back=request.full_path.rstrip("?")),
        can_arrive=arrivals.CAN_ARRIVE, can_show=RETURN_STATUSES,
    )


@bp.post("/returns/received")
@merchant_required
def mark_received():
    form = MarkReceivedForm()
    back = safe_next(form.back.data) or url_for(".returns_inbox")
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.return_ids.errors)) or _("Nothing was marked."), "error")
        return redirect(back, 303)
    result = arrivals.mark_received(get_db(), current_merchant_id(), form.return_ids.data,
                                    current_actor())
    if result["received"]:
        flash(ngettext("%(num)s return marked as received.",
                       "%(num)s returns marked as received.", len(result["received"])),
              "success")
    for skipped in result["skipped"]:
        flash(_("Return %(id)s was not changed: %(why)s.", id=skipped["id"],
                why=skipped["why"]), "warning")
    return redirect(back, 303)


@bp.get("/returns.csv")
@merchant_required
def export_returns():
    merchant_id = current_merchant_id()
    status = inbox.check_filter(request.args.get("status"))
    search = SearchForm(formdata=request.args)
    query = search.q.data if search.validate() else None
    for_excel = request.args.get("for") == "excel"

    def lines():
        # Runs after the view returned, when the request's connection is closed: the
        # generator opens its own (closed when the stream ends).
        yield from csv_lines(inbox.all_returns(get_db(), merchant_id, status, query), for_excel)

    name = f"returns-{status}{'-excel' if for_excel else ''}.csv"
    return Response(
        stream_with_context(lines()), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/returns/<id:return_id>")
@merchant_required
def return_page(return_id: int):
    return render_return(return_id)


def render_return(return_id: int, form: RegistrationForm | None = None, status: int = 200):
    db, merchant_id = get_db(), current_merchant_id()
    ret = returns.return_for_merchant(db, merchant_id, return_id)
    if form is None:
        form = registration_form(ret["items"], formdata=None, idempotency_key=uuid.uuid4().hex)
    return render_template(
        "merchant/return.html", ret=ret, form=form, reason_labels=REASON_LABELS,
        history=inbox.history(db, merchant_id, return_id),
    ), status


@bp.post("/returns/<id:return_id>/registration")
@merchant_required
def register(return_id: int):
    db, merchant_id = get_db(), current_merchant_id()
    ret = returns.return_for_merchant(db, merchant_id, return_id)
    form = registration_form(ret["items"])
    if form.validate_on_submit():
        entries = form.entries()
        try:
            decisions.register_once(db, merchant_id, return_id,
                                    {"items": [item for _id, item in entries]},
                                    form.idempotency_key.data, current_actor())
        except Invalid as exc:
            _errors_to_form(form, exc, [item_id for item_id, _item in entries])
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for(".return_page", return_id=return_id), 303)
        else:
            flash(_("Registered. The customer sees it on their return page."), "success")
            return redirect(url_for(".return_page", return_id=return_id), 303)
    return render_return(return_id, form, 422)


_ITEM_FIELD = re.compile(r"items\[(\d+)\]\.(\w+)")
_FORM_FIELD = {"received_quantity": "received", "accepted_quantity": "accepted",
               "rejected_quantity": "rejected", "reason": "reason", "return_item_id": "accepted"}


def _errors_to_form(form: RegistrationForm, exc: Invalid, item_ids: list[int]) -> None:
    """Each of the service's item errors next to the field of the item it concerns."""
    def field_of(name: str):
        match = _ITEM_FIELD.fullmatch(name)
        if match and int(match[1]) < len(item_ids):
            return form[f"{_FORM_FIELD.get(match[2], 'accepted')}_{item_ids[int(match[1])]}"]
        return None
    show_on_form(form, exc, field_of=field_of)
