"""The merchant portal: sign in, instructions, returns, API keys and webhooks."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

from . import (  # noqa: E402,F401  (routes attach themselves to bp)
    account_routes,
    api_key_routes,
    auth_routes,
    instructions_routes,
    returns_routes,
    template_helpers,
    webhook_routes,
)
