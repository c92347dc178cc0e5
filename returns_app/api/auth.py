"""Bearer credentials for the API: a merchant's API key, a customer's session token or a
support user's token (or the console's own session)."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from ..domain.errors import Forbidden
from ..services import customers, merchants, support
from ..services.orders import Viewer
from ..web import staff_auth
from ..web.database_session import get_db


def bearer() -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def merchant() -> dict:
    return merchants.merchant_for_api_key(get_db(), bearer())


def customer() -> Viewer:
    return customers.viewer_for_token(get_db(), bearer())


def customer_id() -> int:
    return customers.customer_for_token(get_db(), bearer())


def support_user() -> dict:
    """The support user behind an API request: a support token, or the signed-in console."""
    token = bearer()
    if token or not current_user.is_authenticated:
        return support.user_for_token(get_db(), token)
    if current_user.kind != "support_user":
        raise Forbidden("Only support staff may use this endpoint.")
    if staff_auth.pending_step("support"):
        raise Forbidden("Finish signing in first: choose a new password or set up two-step "
                        "sign-in in the console.")
    return {"id": current_user.id, "email": current_user.email}
