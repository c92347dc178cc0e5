"""Bearer credentials for the API: a merchant's API key or a customer's session token."""

from __future__ import annotations

from flask import request

from ..services import customers, merchants
from ..services.orders import Viewer
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
