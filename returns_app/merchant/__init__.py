"""The merchant portal's pages (signed-in merchant staff only)."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")

from . import webhook_routes  # noqa: E402,F401
