"""Webhook settings and deliveries in the merchant portal: each view parses, calls one
webhook_settings function, flashes and redirects (the new secret alone is rendered at once)."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..domain.errors import Conflict, Invalid
from ..services import webhook_settings
from ..web.database_session import get_db
from ..web.form_errors import show_on_form
from ..webhooks import delivery
from ..webhooks.delivery import local_urls_allowed
from .access import current_merchant_id, merchant_required
from .blueprint import bp
from .webhook_forms import WebhookUrlForm


def _actor() -> str:
    return f"merchant_user:{current_user.id}"


def _render(form: WebhookUrlForm, status: int = 200):
    db = get_db()
    merchant_id = current_merchant_id()
    page = webhook_settings.deliveries(db, merchant_id, request.args.get("before", type=int))
    return render_template(
        "merchant/webhooks.html", form=form,
        settings=webhook_settings.settings(db, merchant_id), page=page,
        first_page=not request.args.get("before"),
        max_attempts=len(delivery.RETRY_SCHEDULE) + 1,
        read_timeout=f"{delivery.TIMEOUT[1]:g}"), status


def _show_secret(secret: str, created: bool):
    """Rendered, not redirected to: the secret is never stored where a later page could read
    it (a flash would put it in the session cookie)."""
    response = make_response(render_template("merchant/webhooks_secret.html", secret=secret,
                                             created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/webhooks", methods=["GET", "POST"])
@merchant_required
def webhooks():
    settings = webhook_settings.settings(get_db(), current_merchant_id())
    form = WebhookUrlForm(url=settings["url"])
    if form.validate_on_submit():
        try:
            secret = webhook_settings.set_url(get_db(), current_merchant_id(), form.url.data,
                                              _actor(), local_urls_allowed())
        except Invalid as exc:
            show_on_form(form, exc, fallback=form.url)
        else:
            if secret:
                return _show_secret(secret, created=True)
            flash(_("Saved. Events now go to %(url)s.", url=form.url.data.strip()), "success")
            return redirect(url_for(".webhooks"), 303)
    return _render(form, 422 if form.errors else 200)


@bp.post("/webhooks/secret")
@merchant_required
def webhooks_rotate_secret():
    # CSRFProtect has already checked the token of this and every other POST.
    try:
        secret = webhook_settings.rotate_secret(get_db(), current_merchant_id(), _actor())
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for(".webhooks"), 303)
    return _show_secret(secret, created=False)


@bp.post("/webhooks/remove")
@merchant_required
def webhooks_remove():
    webhook_settings.remove_url(get_db(), current_merchant_id(), _actor())
    flash(_("The webhook URL and its signing secret are removed. No more events are sent."),
          "success")
    return redirect(url_for(".webhooks"), 303)


@bp.post("/webhooks/test")
@merchant_required
def webhooks_test():
    try:
        webhook_settings.send_test_event(get_db(), current_merchant_id(), _actor())
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(_("A test event is on its way. Reload in a few seconds to see your server's "
                "answer below."), "success")
    return redirect(url_for(".webhooks"), 303)


@bp.post("/webhooks/deliveries/<id:message_id>/redeliver")
@merchant_required
def webhooks_redeliver(message_id: int):
    try:
        webhook_settings.redeliver(get_db(), current_merchant_id(), message_id, _actor())
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(_("The event will be sent again within a few seconds."), "success")
    return redirect(url_for(".webhooks"), 303)
