"""Staff sign in and out of the portal."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..domain.errors import RateLimited, Unauthorized
from ..services import merchant_users
from ..web import auth, proxies, staff_auth
from ..web.database_session import get_db
from . import bp
from .access import safe_next
from .forms import SignInForm


@bp.route("/signin", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    status, retry_after = 200, None
    if form.validate_on_submit():
        try:
            user = merchant_users.sign_in(get_db(), form.email.data, form.password.data,
                                          proxies.client_address())
        except Unauthorized as exc:
            form.form_errors.append(exc.message)
        except RateLimited as exc:
            form.form_errors.append(exc.message)
            status, retry_after = 429, exc.details["retry_after"]
        else:
            # A new session (after the code, if the account has a second factor): nothing
            # from before signing in (another person's, or a fixed one) survives into it.
            return staff_auth.password_accepted("merchant", user.id,
                                                safe_next(request.args.get("next")))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    response = make_response(render_template("merchant/sign_in.html", form=form), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


staff_auth.register(bp, "merchant")


@bp.post("/signout")
def sign_out():
    auth.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for(".sign_in"))


@bp.post("/signout/everywhere")
def sign_out_everywhere():
    auth.end_every_session()
    flash(_("You are signed out on every device and browser."), "info")
    return redirect(url_for(".sign_in"))
