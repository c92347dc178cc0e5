"""Calendar reminders (.ics) for an order's due and send-by dates."""

from __future__ import annotations

from flask import current_app

from ..services import links
from ..services.orders import get_order, order_for_viewer
from ..web import auth
from ..web.calendar_response import order_calendar
from ..web.database_session import get_db
from .blueprint import bp
from .email_link_routes import expired_link_page


@bp.get("/orders/<id:order_id>/calendar.ics")
def order_calendar_file(order_id: int):
    db = get_db()
    return order_calendar(db, order_for_viewer(db, auth.customer_viewer(), order_id))


@bp.get("/links/calendar/<token>")
def email_calendar(token: str):
    """From an email: the file itself, no sign-in (the link is signed for this one order)."""
    try:
        order_id = links.read_token(current_app.secret_key, links.CALENDAR, token)
    except links.LinkExpired:
        return expired_link_page(links.CALENDAR, token)
    return order_calendar(get_db(), get_order(get_db(), order_id))
