"""Who may use the support console, and how long a session lasts without activity.

Signed-in support users only: anyone else signed in gets 403, nobody signed in is sent to the
sign-in page. A session idle for more than 15 minutes ends on its next request, judged on the
server from the last-activity time kept in the session."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from .. import clock
from ..api.auth import bearer
from ..database_session import get_db
from ..errors import Forbidden, Unauthorized
from ..safe_redirect import local_path
from ..services import support

IDLE_LIMIT = timedelta(minutes=15)
LAST_SEEN = "support_last_seen"
PUBLIC_ENDPOINTS = frozenset({"support.sign_in"})


def is_support_user() -> bool:
    return current_user.is_authenticated and current_user.kind == "support_user"


def user_id() -> int:
    """The signed-in support user (the guard has let the request through)."""
    return current_user.id


def idle_expired() -> bool:
    seen = session.get(LAST_SEEN)
    return seen is None or clock.parse(seen) < clock.now() - IDLE_LIMIT


def touch() -> None:
    session[LAST_SEEN] = clock.now_iso()


def end_session() -> None:
    logout_user()
    session.clear()


def guard():
    """before_request of the console's blueprint."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("support.sign_in", next=request.full_path.rstrip("?")))
    if current_user.kind != "support_user":
        abort(403)
    if idle_expired():
        end_session()
        flash(_("You were signed out after 15 minutes without activity. Sign in again to "
                "go on."), "info")
        return redirect(url_for("support.sign_in"))
    touch()
    return None


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page of this site, never anywhere else."""
    return local_path(target, "/support/") or url_for("support.queue")


def api_user() -> dict:
    """The support user behind an API request: a support token, or the signed-in console."""
    token = bearer()
    if token or not current_user.is_authenticated:
        return support.user_for_token(get_db(), token)
    if current_user.kind != "support_user":
        raise Forbidden("Only support staff may use this endpoint.")
    if idle_expired():
        end_session()
        raise Unauthorized("The console session ended after 15 minutes without activity.")
    touch()
    return {"id": current_user.id, "email": current_user.email}
