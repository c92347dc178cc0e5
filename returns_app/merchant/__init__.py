"""The merchant portal: sign in, instructions, returns, API keys and webhooks."""

from . import (  # noqa: F401  (routes attach themselves to bp)
    account_routes,
    api_key_routes,
    auth_routes,
    instructions_routes,
    returns_routes,
    template_helpers,
    webhook_routes,
)
from .blueprint import bp

__all__ = ["bp"]
