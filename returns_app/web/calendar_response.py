"""The .ics answer for an order, in the request's language: shared by the customer's page, the
signed email link and the API (blueprints don't import each other)."""

from __future__ import annotations

from flask import Response, url_for
from flask_babel import gettext as _

from ..services import calendar_file
from ..store.db import Database


def _texts() -> calendar_file.Texts:
    return calendar_file.Texts(
        due=lambda order: _("Pay %(merchant)s: invoice for order %(number)s is due",
                            merchant=order["merchant_name"], number=order["order_number"]),
        send_by=lambda order, ret: _("Send your return to %(merchant)s (order %(number)s)",
                                     merchant=order["merchant_name"],
                                     number=order["order_number"]),
        description=lambda order: _("See the order, what is owed and how to return: %(url)s",
                                    url=url_for("customer.order", order_id=order["id"],
                                                _external=True)),
    )


def order_calendar(db: Database, order: dict) -> Response:
    body = calendar_file.ics(calendar_file.moments(db, order, _texts()), _("In two days"))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="order-{order["order_number"]}.ics"',
        "Cache-Control": "no-store"})
