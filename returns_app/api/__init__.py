"""JSON API v1, exactly as the contract in docs/api.md: the mobile app and merchants' systems
use it."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import merchant_routes, routes, support_routes, webhook_routes  # noqa: E402,F401  (routes attach themselves to bp)
