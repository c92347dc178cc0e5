"""The support console: the stuck-refund queue, the actions that unstick refunds, every action on
record, and a dashboard. Only signed-in support users get past `access.guard`."""

from flask import Blueprint

bp = Blueprint("support", __name__)

from . import access, routes  # noqa: E402,F401  (routes attach themselves to bp)

bp.before_request(access.guard)
