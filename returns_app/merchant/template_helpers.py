"""What every portal page shows: whose portal it is."""

from __future__ import annotations

from flask_login import current_user

from ..store import merchants as merchant_rows
from ..web.database_session import get_db
from .blueprint import bp


@bp.context_processor
def _portal_merchant() -> dict:
    if getattr(current_user, "kind", None) != "merchant_user":
        return {"portal_merchant": None}
    return {"portal_merchant": merchant_rows.merchant_name(get_db(), current_user.merchant_id)}
