"""Pages an email link opens without a password: the signed token names one purpose and one
order (or its return or refund); following it opens that order in this browser session, unless
another account is signed in here (auth.open_from_link). The preferences link in every email's
footer opens the preferences page only, never the order."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..domain.errors import Invalid
from ..notifications import preferences
from ..services import links
from ..services.orders import get_order
from ..web import auth, proxies
from ..web.database_session import get_db
from ..web.form_errors import show_on_form
from .blueprint import bp
from .email_link_forms import NewLinkForm, PreferencesForm


def expired_link_page(purpose: str, token: str, form: NewLinkForm | None = None,
                      status: int = 410):
    """Says the link has expired and offers a new one by email."""
    form = form or NewLinkForm(formdata=None, purpose=purpose, token=token)
    return render_template("customer/email_links/link_expired.html", form=form,
                           link_days=links.LIFETIME.days), status


def _follow(purpose: str, token: str, target):
    """Open the order the link is for in this session, then go where the link points."""
    try:
        subject_id = links.read_token(current_app.secret_key, purpose, token)
    except links.LinkExpired:
        return expired_link_page(purpose, token)
    order = get_order(get_db(), preferences.order_of_link(get_db(), purpose, subject_id))
    if not auth.open_from_link(order):
        return render_template("customer/email_links/signed_in_as_other.html",
                               link=request.path), 409
    return redirect(target(order["id"], subject_id), 303)


@bp.get("/links/order/<token>")
def email_order_link(token: str):
    return _follow(links.ORDER, token, lambda order_id, _s: url_for(".order", order_id=order_id))


@bp.get("/links/pay/<token>")
def email_pay_link(token: str):
    return _follow(links.PAY, token,
                   lambda order_id, _s: url_for(".order", order_id=order_id) + "#pay-heading")


@bp.get("/links/return/<token>")
def email_return_link(token: str):
    return _follow(links.RETURN, token,
                   lambda _o, return_id: url_for(".return_page", return_id=return_id))


@bp.post("/links/new")
def email_new_link():
    form = NewLinkForm()
    if not form.validate_on_submit():
        return expired_link_page(form.purpose.data, form.token.data, form, 422)
    try:
        subject_id = links.read_token(current_app.secret_key, form.purpose.data,
                                      form.token.data)
    except links.LinkExpired as exc:
        subject_id = exc.subject_id
    preferences.request_new_link(get_db(), form.purpose.data, subject_id, form.email.data,
                                 proxies.client_address())
    return redirect(url_for(".email_new_link_sent"), 303)


@bp.get("/links/sent")
def email_new_link_sent():
    return render_template("customer/email_links/link_sent.html",
                           link_days=links.LIFETIME.days)


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def email_preferences(token: str):
    db = get_db()
    try:
        order_id = links.read_token(current_app.secret_key, links.PREFERENCES, token)
    except links.LinkExpired:
        return expired_link_page(links.PREFERENCES, token)
    current = preferences.preferences_of_order(db, order_id)
    form = PreferencesForm(data={"reminder_channel": current["reminder_channel"],
                                 "language": current["language"]})
    if form.validate_on_submit():
        try:
            preferences.save_preferences(db, order_id, {
                "reminder_channel": form.reminder_channel.data, "language": form.language.data})
        except Invalid as exc:
            show_on_form(form, exc)
        else:
            flash(_("Saved. We'll use these choices from now on."), "success")
            return redirect(url_for(".email_preferences", token=token), 303)
    return render_template("customer/email_links/preferences.html", form=form,
                           order=current["order"],
                           stored_channel=current["reminder_channel"]), \
        422 if form.errors else 200
