"""The customer's pages: find an order, see what is owed, report and follow a return."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from . import email_link_routes, money_routes, objection_routes, routes  # noqa: E402,F401  (routes attach themselves to bp)
