"""JSON API v1, exactly as DESIGN.md's contract; the mobile app and merchants' systems use it."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import bank_account_routes, calendar_routes, merchant_routes, routes, support_routes  # noqa: E402,F401  (routes attach themselves to bp)
