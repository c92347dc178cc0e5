"""The order's calendar reminders (.ics) for the app."""

from __future__ import annotations

from ..services.orders import order_for_viewer
from ..web.calendar_response import order_calendar
from ..web.database_session import get_db
from . import auth
from .blueprint import bp


@bp.get("/orders/<id:order_id>/calendar.ics")
def order_calendar_file(order_id: int):
    db = get_db()
    return order_calendar(db, order_for_viewer(db, auth.customer(), order_id))
