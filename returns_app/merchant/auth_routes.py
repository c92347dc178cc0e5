"""Staff sign in and out of the portal."""

from __future__ import annotations

from flask import render_template, request

from ..services import merchant_users
from ..web import proxies, staff_auth
from ..web.database_session import get_db
from ..web.sign_in_form import attempt_sign_in
from .access import safe_next
from .blueprint import bp
from .forms import SignInForm


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    user, status, headers = attempt_sign_in(form, lambda: merchant_users.sign_in(
        get_db(), form.email.data, form.password.data, proxies.client_address()))
    if user is None:
        return render_template("merchant/sign_in.html", form=form), status, headers
    # A new session (after the code, if the account has a second factor): nothing from before
    # signing in (another person's, or a fixed one) survives into it.
    return staff_auth.password_accepted("merchant", user.id, safe_next(request.args.get("next")))


staff_auth.register(bp, "merchant")
