"""Who may use the support console.

Signed-in support users only: anyone else signed in gets 403, nobody signed in is sent to the
sign-in page. A session idle for more than 15 minutes ends on its next request, judged on the
server from its row (services/web_sessions.py, the one mechanism for every role)."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_login import current_user

from ..domain.errors import Forbidden
from ..services import web_sessions
from ..web import staff_auth
from ..web.safe_redirect import local_path

IDLE_LIMIT = web_sessions.LIMITS["support_user"].idle
PUBLIC_ENDPOINTS = frozenset({"support.sign_in",
                              *(f"support.{name}" for name in staff_auth.PUBLIC)})


def is_support_user() -> bool:
    return current_user.is_authenticated and current_user.kind == "support_user"


def user_id() -> int:
    """The signed-in support user (the guard has let the request through)."""
    return current_user.id


def guard():
    """before_request of the console's blueprint."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("support.sign_in", next=request.full_path.rstrip("?")))
    if current_user.kind != "support_user":
        raise Forbidden(staff_auth.NOT_YOURS["support"])
    # A one-time password to change or a second factor to enrol comes before anything else.
    return staff_auth.gate("support")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page of this site, never anywhere else."""
    return local_path(target, "/support/") or url_for("support.queue")
