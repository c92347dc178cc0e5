"""What every portal page shows: whose portal it is, and moments as Stockholm time."""

from __future__ import annotations

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_login import current_user

from ..domain import clock
from ..web.database_session import get_db
from . import bp


@bp.context_processor
def _portal_merchant() -> dict:
    if getattr(current_user, "kind", None) != "merchant_user":
        return {"portal_merchant": None}
    row = get_db().execute("SELECT name FROM merchant WHERE id = ?",
                           [current_user.merchant_id]).fetchone()
    return {"portal_merchant": row[0] if row else None}


@bp.app_template_filter("local_time")
def local_time(value: str | None) -> str:
    """'2026-05-12T12:03:00+00:00' -> '12 May 2026, 14:03' (Europe/Stockholm), in the page's
    language ('12 maj 2026, 14:03')."""
    if not value:
        return ""
    return format_datetime(clock.parse(value), "d MMM y, HH:mm", tzinfo=clock.LOCAL_ZONE,
                           locale=get_locale())
