"""The support console: the stuck-refund queue, the actions that unstick refunds, every action on
record, and a dashboard. Only signed-in support users get past `access.guard`."""

from . import access, routes  # noqa: F401  (routes attach themselves to bp)
from .blueprint import bp

bp.before_request(access.guard)
