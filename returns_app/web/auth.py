"""Who is signed in (Flask-Login, one principal per session) and what a customer may see.

A signed-in session is kept on the server (services/web_sessions.py): the cookie holds its
token under SESSION_TOKEN_KEY, and the principal is loaded only while that session is live and
belongs to them. Signing in always starts a new session (and so a new CSRF token): nothing from
before, neither another person's remembered orders nor a session id planted by someone else,
carries over. Signing out ends the row, so a copy of the cookie stops working too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, flash, g, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..services import customers, staff_credentials, web_sessions
from ..services.orders import Viewer
from .database_session import get_db
from .extensions import login_manager

ORDER_ACCESS_KEY = "order_ids"
MAX_REMEMBERED_ORDERS = 20
SESSION_TOKEN_KEY = "sid"  # noqa: S105 (the cookie key that holds it, not a token)
# What survives signing in and out: the language read (i18n.SESSION_KEY, which imports us).
KEPT_ACROSS_SESSIONS = ("language",)


@dataclass
class Principal:
    kind: str
    id: int
    email: str
    name: str
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    merchant_id: int | None = None  # set for merchant users: the only merchant they may see
    # Staff: a one-time password still to change; a second factor enrolled (staff_auth.py).
    must_change_password: bool = False
    second_factor: bool = False
    language: str | None = None  # merchant users' own setting: their portal's language

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}"


def _customer(user_id: int) -> Principal | None:
    row = customers.get_customer(get_db(), user_id)
    return Principal("customer", row["id"], row["email"], row["name"]) if row else None


def _merchant_user(user_id: int) -> Principal | None:
    # A disabled account's sessions end at their next request: it is not found.
    row = staff_credentials.merchant_user_principal(get_db(), user_id)
    return Principal("merchant_user", row["id"], row["email"], row["name"],
                     merchant_id=row["merchant_id"],
                     must_change_password=bool(row["must_change_password"]),
                     second_factor=bool(row["second_factor"]),
                     language=row["language"]) if row else None


def _support_user(user_id: int) -> Principal | None:
    row = staff_credentials.support_user_principal(get_db(), user_id)
    return Principal("support_user", row["id"], row["email"], row["email"],
                     must_change_password=bool(row["must_change_password"]),
                     second_factor=bool(row["second_factor"])) if row else None


LOADERS = {"customer": _customer, "merchant_user": _merchant_user, "support_user": _support_user}


@login_manager.user_loader
def _load(user_id: str) -> Principal | None:
    kind, _sep, raw_id = user_id.partition(":")
    if kind not in LOADERS or not raw_id.isdigit():
        return None
    live = web_sessions.check(get_db(), session.get(SESSION_TOKEN_KEY))
    if not isinstance(live, web_sessions.Live) or (live.kind, live.user_id) != (kind, int(raw_id)):
        # Signed out elsewhere, ran out, or never ours: the whole cookie is forgotten,
        # orders it remembered included.
        g.session_ended = live
        _clear_session()
        return None
    g.web_session_id = live.id
    return LOADERS[kind](int(raw_id))


def _clear_session() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SESSIONS if key in session}
    session.clear()
    session.update(kept)
    # Flask-WTF keeps the token it handed out on `g`: the next form gets a new one.
    g.pop("csrf_token", None)


def begin_session(principal: Principal, stay_signed_in: bool = False) -> None:
    """Sign `principal` in, in a new session."""
    end_session()
    _session_id, token = web_sessions.start(get_db(), principal.kind, principal.id,
                                            stay_signed_in)
    session[SESSION_TOKEN_KEY] = token
    # A customer who asked to stay signed in keeps the cookie for its 30 days; everyone else's
    # goes when the browser closes.
    session.permanent = stay_signed_in and principal.kind == "customer"
    login_user(principal)


def end_session() -> None:
    """Sign out: this session's row ends, so every copy of the cookie is refused."""
    web_sessions.end(get_db(), session.get(SESSION_TOKEN_KEY))
    logout_user()
    _clear_session()


def end_every_session() -> None:
    """Sign out everywhere: every session of the signed-in principal ends, this one too."""
    if current_user.is_authenticated:
        web_sessions.end_all_for(get_db(), current_user.kind, current_user.id)
    end_session()


def current_session_id() -> int | None:
    """The row of this request's live session (to keep it when ending the others)."""
    return g.get("web_session_id") if current_user.is_authenticated else None


def _check_session() -> None:
    """Before every request that carries a signed-in cookie: load the principal now, so a
    session that has ended is forgotten before any page reads the cookie's remembered orders."""
    # Judged afresh on every request, even where the app context outlives one (the tests'
    # pytest-flask keeps one for the whole test, with Flask-Login's user cached in it).
    for name in ("_login_user", "session_ended", "web_session_id"):
        g.pop(name, None)
    if "_user_id" not in session or current_user.is_authenticated:
        return
    ended = g.get("session_ended")
    if isinstance(ended, web_sessions.Ended) and ended.reason == "idle" \
            and request.blueprint != "api":
        limits = web_sessions.LIMITS[ended.kind]
        flash(_("You were signed out after %(minutes)s minutes without activity. Sign in "
                "again to go on.", minutes=int(limits.idle.total_seconds() // 60)), "info")


def init_app(app: Flask) -> None:
    app.before_request(_check_session)


def signed_in_customer_id() -> int | None:
    if current_user.is_authenticated and current_user.kind == "customer":
        return current_user.id
    return None


def customer_viewer() -> Viewer:
    return Viewer(
        customer_id=signed_in_customer_id(),
        order_ids=frozenset(session.get(ORDER_ACCESS_KEY, [])),
    )


def open_from_link(order: dict) -> bool:
    """Open the order an emailed link proves access to in this browser session, unless someone
    else is signed in here: a link (perhaps followed by a page of another site) never adds an
    order to an account that isn't its customer's. Whether the order is open now."""
    if not current_user.is_authenticated:
        remember_order(order["id"])
        return True
    return current_user.kind == "customer" and current_user.id == order["customer_id"]


def remember_order(order_id: int) -> None:
    """An order found by number + email stays open in this browser session."""
    known = [i for i in session.get(ORDER_ACCESS_KEY, []) if i != order_id]
    session[ORDER_ACCESS_KEY] = [order_id, *known][:MAX_REMEMBERED_ORDERS]
