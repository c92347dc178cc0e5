"""The customer's pages: find an order, see what is owed, report and follow a return."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from . import (  # noqa: E402,F401  (routes attach themselves to bp)
    bank_account_routes,
    calendar_routes,
    email_link_routes,
    money_routes,
    objection_routes,
    routes,
)
