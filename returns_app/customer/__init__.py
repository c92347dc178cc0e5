"""The customer's pages: find an order, see what is owed, report and follow a return."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from . import bank_account_routes, calendar_routes, email_link_routes, money_routes, routes  # noqa: E402,F401  (routes attach themselves to bp)
