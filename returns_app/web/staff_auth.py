"""The staff credential pages, the same for the merchant portal and the support console: each
blueprint calls `register` with its audience, so both get the same views under their own URLs,
layout and sign-in page (blueprints never import each other).

Signing in is two steps for an account with a second factor: a right password only marks the
browser session as waiting for a code (who, since when, where to go after; in the signed
cookie, no web session yet), and the session begins when the code is right. Once signed in, an
account that must change its one-time password reaches only "choose a new password", and a
support agent without a second factor only its enrolment (`pending_step`), until done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..domain import clock
from ..domain.errors import Forbidden, Invalid, NotFound, RateLimited, Unauthorized
from ..services import staff_credentials, staff_second_factor
from . import auth, proxies
from .database_session import get_db
from .form_errors import show_on_form
from .i18n import current_language
from .sign_in_form import rate_limited
from .staff_forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    CodeForm,
    EnrolForm,
    ForgotPasswordForm,
)

PENDING_KEY = "staff_code_pending"
PENDING_FOR = timedelta(minutes=5)  # between the password and the code


@dataclass(frozen=True)
class Audience:
    name: str  # the blueprint
    kind: str  # the principal kind (and table)
    layout: str
    home: str


AUDIENCES = {
    "merchant": Audience("merchant", "merchant_user", "merchant/layout.html",
                         "merchant.returns_inbox"),
    "support": Audience("support", "support_user", "support/layout.html", "support.queue"),
}
# Reached without a session (the code step has its own waiting state).
PUBLIC = ("sign_in_code", "forgot_password", "reset_password")
# The portal's and the console's own words for another kind of account (domain_messages).
NOT_YOURS = {
    "merchant": "This page is for merchant staff. Sign out, then sign in with your merchant "
                "account.",
    "support": "This page is for support staff. Sign out, then sign in with your support "
               "account.",
}
# Reached by a signed-in account that still has a step to take (and sign-out).
RESTRICTED_OK = ("choose_password", "enrol_second_factor", "sign_out", "sign_out_everywhere")


def pending_step(audience: str) -> str | None:
    """The endpoint the signed-in staff member must finish first, or None."""
    if getattr(current_user, "must_change_password", False):
        return f"{audience}.choose_password"
    if current_user.kind == "support_user" and not current_user.second_factor:
        return "support.enrol_second_factor"
    return None


def gate(audience: str):
    """For a signed-in staff member of `audience`: a redirect to the step they must take
    first, unless this request is that step (or signing out)."""
    step = pending_step(audience)
    endpoint = (request.endpoint or "").partition(".")[2]
    if step and endpoint not in RESTRICTED_OK:
        return redirect(url_for(step))
    return None


def after_sign_in(aud: Audience, next_url: str | None) -> str:
    return url_for(step) if (step := pending_step(aud.name)) else next_url or url_for(aud.home)


def password_accepted(audience: str, user_id: int, next_url: str | None):
    """After a right password (the blueprint's sign-in view): the code step, or signed in."""
    aud = AUDIENCES[audience]
    staff = staff_credentials.get_staff(get_db(), aud.kind, user_id)
    if staff.totp_enabled:
        auth.end_session()  # whoever was signed in in this browser is out
        session[PENDING_KEY] = {"kind": aud.kind, "id": user_id, "at": clock.now_iso(),
                                "next": next_url}
        return redirect(url_for(f"{aud.name}.sign_in_code"))
    auth.begin_session(auth.LOADERS[aud.kind](user_id))
    return redirect(after_sign_in(aud, next_url))


def _render(aud: Audience, template: str, status: int = 200, headers=None, **context):
    return render_template(template, layout=aud.layout, aud=aud.name, **context), status, \
        headers or {}


def _signed_in(aud: Audience):
    """A redirect or 403 unless a staff member of this audience is signed in."""
    if not current_user.is_authenticated:
        return redirect(url_for(f"{aud.name}.sign_in", next=request.full_path.rstrip("?")))
    if current_user.kind != aud.kind:
        raise Forbidden(NOT_YOURS[aud.name])
    return gate(aud.name)


def sign_in_code(aud: Audience):
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("kind") != aud.kind \
            or clock.now() - clock.parse(pending["at"]) > PENDING_FOR:
        session.pop(PENDING_KEY, None)
        flash(_("Sign in again: the code must follow the password within 5 minutes."), "info")
        return redirect(url_for(f"{aud.name}.sign_in"))
    form = CodeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            used = staff_second_factor.verify(get_db(), aud.kind, pending["id"], form.code.data,
                                              proxies.client_address())
        except Unauthorized as exc:
            show_on_form(form, exc, fallback=form.code)
        except RateLimited as exc:
            status, headers = rate_limited(form, exc)
        else:
            principal = auth.LOADERS[aud.kind](pending["id"])
            if principal is None:
                return redirect(url_for(f"{aud.name}.sign_in"))
            auth.begin_session(principal)
            if used == "recovery":
                left = staff_second_factor.recovery_codes_left(get_db(), aud.kind, principal.id)
                flash(_("You signed in with a recovery code; %(left)s are left. Make new ones "
                        "on your security page if you are running out.", left=left), "info")
            return redirect(after_sign_in(aud, pending.get("next")))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return _render(aud, "staff/code.html", status, headers, form=form)


def choose_password(aud: Audience):
    if (stop := _signed_in(aud)) is not None:
        return stop
    if not current_user.must_change_password:
        return redirect(after_sign_in(aud, None))
    form = ChoosePasswordForm()
    return _password_form(aud, form, None, "staff/choose_password.html")


def change_password(aud: Audience):
    if (stop := _signed_in(aud)) is not None:
        return stop
    form = ChangePasswordForm()
    return _password_form(aud, form, form.current_password, "staff/change_password.html")


def _password_form(aud: Audience, form, current, template: str):
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            staff_credentials.change_password(
                get_db(), aud.kind, current_user.id, form.new_password.data,
                current_password=current.data if current is not None else None,
                client=proxies.client_address(), keep_session_id=auth.current_session_id(),
                language=current_language())
        except Invalid as exc:
            show_on_form(form, exc)
        except RateLimited as exc:
            status, headers = rate_limited(form, exc)
        else:
            # A new session id for this browser too: the other sessions have just ended.
            auth.begin_session(auth.LOADERS[aud.kind](current_user.id))
            flash(_("Your new password is set. Other devices signed in to your account were "
                    "signed out."), "success")
            return redirect(after_sign_in(aud, None))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return _render(aud, template, status, headers, form=form)


def forgot_password(aud: Audience):
    form = ForgotPasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            staff_credentials.request_reset(get_db(), aud.kind, form.email.data,
                                            proxies.client_address(), current_language())
        except RateLimited as exc:
            status, headers = rate_limited(form, exc)
        else:
            flash(_("If %(email)s belongs to an account here, we have sent it a link to choose "
                    "a new password. It works once, for an hour.", email=form.email.data),
                  "info")
            return redirect(url_for(f"{aud.name}.sign_in"))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return _render(aud, "staff/forgot_password.html", status, headers, form=form)


def reset_password(aud: Audience, token: str):
    db = get_db()
    if not staff_credentials.reset_link_works(db, aud.kind, token):
        return _render(aud, "staff/reset_dead.html", 404)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            staff_credentials.reset_password(db, aud.kind, token, form.new_password.data,
                                             current_language())
        except NotFound:
            return _render(aud, "staff/reset_dead.html", 404)
        except Invalid as exc:
            show_on_form(form, exc)
        else:
            auth.end_session()
            flash(_("Your new password is set. Sign in with it."), "success")
            return redirect(url_for(f"{aud.name}.sign_in"))
    status = 422 if form.errors else 200
    return _render(aud, "staff/choose_password.html", status, form=form, token=token)


def security(aud: Audience, status: int = 200, **forms):
    if (stop := _signed_in(aud)) is not None:
        return stop
    staff = staff_credentials.get_staff(get_db(), aud.kind, current_user.id)
    return _render(aud, "staff/security.html", status, staff=staff,
                   codes_left=staff_second_factor.recovery_codes_left(get_db(), aud.kind,
                                                                       staff.id),
                   renew_form=forms.get("renew_form") or CodeForm(prefix="renew"),
                   off_form=forms.get("off_form") or CodeForm(prefix="off"))


def enrol_second_factor(aud: Audience):
    if (stop := _signed_in(aud)) is not None:
        return stop
    db = get_db()
    staff = staff_credentials.get_staff(db, aud.kind, current_user.id)
    if staff.totp_enabled:
        return redirect(url_for(f"{aud.name}.security"))
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = staff_second_factor.confirm_enrolment(db, aud.kind, staff.id, form.code.data)
        except Invalid as exc:
            show_on_form(form, exc)
        else:
            # Support came here straight from signing in: on to the console.
            return _render(aud, "staff/recovery_codes.html", codes=codes, enrolled=True,
                           next_url=url_for(aud.home if aud.kind == "support_user"
                                            else f"{aud.name}.security"))
    secret = staff_second_factor.pending_secret(db, aud.kind, staff.id)
    qr = segno.make(staff_second_factor.provisioning_uri(secret, staff.email), error="m")
    # segno writes only its own markup and escapes the title; the page works without script.
    svg = Markup(qr.svg_inline(  # noqa: S704
        scale=4, border=4, light="#fff", svgclass="qr-code",
        title=_("QR code for your authenticator app")))
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _render(aud, "staff/enrol.html", 422 if form.errors else 200, form=form, qr=svg,
                   secret=spaced, required=aud.kind == "support_user")


def renew_recovery_codes(aud: Audience):
    if (stop := _signed_in(aud)) is not None:
        return stop
    form = CodeForm(prefix="renew")
    status, headers = 422, {}
    if form.validate_on_submit():
        try:
            codes = staff_second_factor.regenerate_recovery_codes(
                get_db(), aud.kind, current_user.id, form.code.data, proxies.client_address())
        except Invalid as exc:
            show_on_form(form, exc)
        except RateLimited as exc:
            status, headers = rate_limited(form, exc)
        else:
            return _render(aud, "staff/recovery_codes.html", codes=codes, enrolled=False,
                           next_url=url_for(f"{aud.name}.security"))
    page, _status, _headers = security(aud, renew_form=form)
    return page, status, headers


def disable_second_factor(aud: Audience):
    if (stop := _signed_in(aud)) is not None:
        return stop
    form = CodeForm(prefix="off")
    status, headers = 422, {}
    if form.validate_on_submit():
        try:
            staff_second_factor.disable(get_db(), aud.kind, current_user.id, form.code.data,
                                        proxies.client_address())
        except Invalid as exc:
            show_on_form(form, exc)
        except RateLimited as exc:
            status, headers = rate_limited(form, exc)
        else:
            flash(_("Two-step sign-in is off: you sign in with your password alone."), "info")
            return redirect(url_for(f"{aud.name}.security"))
    page, _status, _headers = security(aud, off_form=form)
    return page, status, headers


def sign_out(aud: Audience):
    auth.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for(f"{aud.name}.sign_in"))


def sign_out_everywhere(aud: Audience):
    auth.end_every_session()
    flash(_("You are signed out on every device and browser."), "info")
    return redirect(url_for(f"{aud.name}.sign_in"))


VIEWS = (  # rule, view, methods
    ("/signout", sign_out, ["POST"]),
    ("/signout/everywhere", sign_out_everywhere, ["POST"]),
    ("/signin/code", sign_in_code, ["GET", "POST"]),
    ("/password/new", choose_password, ["GET", "POST"]),
    ("/password", change_password, ["GET", "POST"]),
    ("/password/forgot", forgot_password, ["GET", "POST"]),
    ("/password/reset/<token>", reset_password, ["GET", "POST"]),
    ("/security", security, ["GET"]),
    ("/security/second-factor", enrol_second_factor, ["GET", "POST"]),
    ("/security/recovery-codes", renew_recovery_codes, ["POST"]),
)


def register(bp: Blueprint, audience: str) -> None:
    aud = AUDIENCES[audience]
    views = VIEWS if audience != "merchant" else (
        *VIEWS, ("/security/second-factor/off", disable_second_factor, ["POST"]))
    for rule, view, methods in views:
        def bound(view=view, **kwargs):
            return view(aud, **kwargs)
        bp.add_url_rule(rule, view.__name__, bound, methods=methods)
