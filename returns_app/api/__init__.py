"""JSON API v1, exactly as the contract in docs/api.md: the mobile app and merchants' systems
use it."""

from . import (  # noqa: F401  (routes attach themselves to bp)
    bank_account_routes,
    calendar_routes,
    merchant_routes,
    routes,
    support_routes,
    webhook_routes,
)
from .blueprint import bp

__all__ = ["bp"]
