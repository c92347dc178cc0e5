"""The customer's pages: find an order, see what is owed, report and follow a return."""

from . import (  # noqa: F401  (routes attach themselves to bp)
    bank_account_routes,
    calendar_routes,
    email_link_routes,
    money_routes,
    objection_routes,
    routes,
)
from .blueprint import bp

__all__ = ["bp"]
