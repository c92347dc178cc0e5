"""The merchant portal: sign in, publish return instructions, handle returns, manage API keys."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

from . import (  # noqa: E402,F401  (routes attach themselves to bp)
    api_key_routes,
    auth_routes,
    instructions_routes,
    returns_routes,
    template_helpers,
)
