"""The support API: the stuck queue for support's own tools, with a support token (or the
signed-in console). Customers' and merchants' credentials are refused with 403."""

from __future__ import annotations

from flask import current_app, jsonify, request

from ..domain import clock
from ..domain.errors import Invalid
from ..domain.validation import ascii_whole_number
from ..services import bank_payments, stuck, support_actions
from ..web.database_session import get_db
from ..web.http_errors import api_error
from . import auth
from .blueprint import bp
from .request_body import accepts


@bp.get("/support/stuck-refunds")
def support_stuck_refunds():
    auth.support_user()
    db = get_db()
    limit = _whole_number("limit", stuck.API_LIMIT)
    offset = _whole_number("offset", 0)
    problems = {}
    if limit is None or not 1 <= limit <= stuck.API_MAX_LIMIT:
        problems["limit"] = f"Must be a whole number from 1 to {stuck.API_MAX_LIMIT}."
    if offset is None:
        problems["offset"] = "Must be a whole number from 0 up."
    if problems:
        raise Invalid(fields=problems)
    query = request.args.get("q", "").strip()
    now = clock.now()
    page = stuck.stuck_queue(db, now, stuck.search(db, query) if query else None,
                             limit=limit, offset=offset)
    return jsonify({"stuck_refunds": [stuck.as_api(item, now) for item in page.items]})


def _whole_number(name: str, default: int) -> int | None:
    """The query parameter as an int, `default` when absent, None when it is no whole number
    (`type=int` would silently take the default for `?offset=abc`)."""
    raw = request.args.get(name)
    if raw is None:
        return default
    return ascii_whole_number(raw)


@bp.post("/bank-files")
@accepts(*bank_payments.MEDIA_TYPES)
def import_bank_file():
    """The bank's file as the body: camt.054 (application/xml) or BgMax (text/plain)."""
    user = auth.support_user()
    if request.mimetype not in bank_payments.MEDIA_TYPES:  # no body at all: @accepts lets it by
        return api_error(415, "unsupported_media_type",
                         "Send a camt.054 file as application/xml or a BgMax file as "
                         "text/plain.")
    config = current_app.config
    response = bank_payments.import_file(
        get_db(), request.get_data(), request.mimetype, config["BANKGIRO"],
        support_actions.actor(user["id"]), iban=config["BANK_IBAN"],
        key=request.headers.get("Idempotency-Key", ""))
    return jsonify(response.body), response.status


@bp.get("/support/unmatched-payments")
def support_unmatched_payments():
    auth.support_user()
    return jsonify({"payments": [bank_payments.as_api(row)
                                 for row in bank_payments.unmatched(get_db())]})
