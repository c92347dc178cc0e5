"""JSON API v1, exactly as the contract in docs/api.md: the mobile app and merchants' systems
use it."""

from flask import Blueprint

from .request_body import check_media_type

bp = Blueprint("api", __name__)
# Before credentials are looked at: a body of the wrong type is refused whoever sends it.
bp.before_request(check_media_type)

from . import (  # noqa: E402,F401  (routes attach themselves to bp)
    bank_account_routes,
    calendar_routes,
    merchant_routes,
    routes,
    support_routes,
    webhook_routes,
)
