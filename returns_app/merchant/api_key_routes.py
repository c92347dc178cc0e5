"""API keys: create (the key is shown once), list, revoke after a confirmation."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from ..domain.errors import Conflict, Invalid
from ..services import api_keys
from ..web.database_session import get_db
from ..web.form_errors import show_on_form
from .access import current_actor, current_merchant_id, merchant_required
from .blueprint import bp
from .forms import CreateApiKeyForm, RevokeApiKeyForm


def render_keys(form: CreateApiKeyForm | None = None, new_key=None, status: int = 200):
    response = make_response(render_template(
        "merchant/api_keys.html", form=form or CreateApiKeyForm(formdata=None),
        keys=api_keys.api_keys(get_db(), current_merchant_id()), new_key=new_key,
    ), status)
    # The page may hold a key in clear text: it must not stay in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api-keys")
@merchant_required
def api_keys_page():
    return render_keys()


@bp.post("/api-keys")
@merchant_required
def create_api_key():
    form = CreateApiKeyForm()
    if form.validate_on_submit():
        try:
            key = api_keys.create_api_key(get_db(), current_merchant_id(), form.label.data,
                                          current_actor())
        except Invalid as exc:
            show_on_form(form, exc, fallback=form.label)
        else:
            # Shown in this response, not after a redirect: a key put in the session to
            # survive one would sit in a cookie. Reloading asks before resending the form.
            return render_keys(new_key={"key": key.key, "label": form.label.data.strip()},
                               status=200)
    return render_keys(form, status=422)


@bp.get("/api-keys/<id:key_id>/revoke")
@merchant_required
def confirm_revoke(key_id: int):
    key = api_keys.api_key(get_db(), current_merchant_id(), key_id)
    return render_template("merchant/api_key_revoke.html", key=key, form=RevokeApiKeyForm())


@bp.post("/api-keys/<id:key_id>/revoke")
@merchant_required
def revoke_api_key(key_id: int):
    try:
        key = api_keys.revoke_api_key(get_db(), current_merchant_id(), key_id, current_actor())
    except Conflict as exc:
        flash(exc.message, "info")
    else:
        flash(_("The key “%(label)s” is revoked: requests with it are refused from now on.",
                label=key["label"]), "success")
    return redirect(url_for(".api_keys_page"), 303)
