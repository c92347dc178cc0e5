"""Who may use the portal: signed-in merchant staff, each seeing only their own merchant."""

from __future__ import annotations

from functools import wraps

from flask import redirect, request, url_for
from flask_login import current_user

from ..domain.errors import Forbidden
from ..web import staff_auth
from ..web.safe_redirect import local_path


def merchant_required(view):
    """Anonymous: to the sign-in page, back here after. Signed in as a customer or support
    user: 403, since signing in again would end that other session."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("merchant.sign_in", next=request.full_path.rstrip("?")))
        if current_user.kind != "merchant_user":
            raise Forbidden(staff_auth.NOT_YOURS["merchant"])
        if (step := staff_auth.gate("merchant")) is not None:
            return step
        return view(*args, **kwargs)

    return wrapped


def current_merchant_id() -> int:
    return current_user.merchant_id


def current_actor() -> str:
    """The audit trail's name for the signed-in staff member."""
    return f"merchant_user:{current_user.id}"


def safe_next(target: str | None) -> str | None:
    """Only a path inside the portal: never another site (an open redirect after sign-in)."""
    return local_path(target, "/merchant/")
