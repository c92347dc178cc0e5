"""The staff member's own account: the language the portal and their emails are in."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from ..services import merchant_users
from ..web.database_session import get_db
from ..web.i18n import LANGUAGES
from .access import current_actor, merchant_required
from .blueprint import bp
from .forms import AccountLanguageForm


@bp.route("/account", methods=["GET", "POST"])
@merchant_required
def account():
    form = AccountLanguageForm(language=current_user.language)
    if form.validate_on_submit():
        merchant_users.set_language(get_db(), current_user.id, form.language.data,
                                    current_actor())
        # The confirmation in the language just chosen, not the one the form was sent in.
        current_user.language = form.language.data
        refresh()
        flash(_("Saved: the portal and your emails are now in %(language)s.",
                language=LANGUAGES[form.language.data]), "success")
        return redirect(url_for(".account"), 303)
    status = 422 if form.errors else 200
    response = make_response(render_template("merchant/account.html", form=form), status)
    response.headers["Cache-Control"] = "no-store"
    return response
