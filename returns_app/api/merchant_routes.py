"""The merchant's API endpoints for returns and instructions (the portal calls the same
service functions)."""

from __future__ import annotations

from flask import jsonify, request

from ..domain.errors import Invalid
from ..domain.validation import ascii_whole_number
from ..services import inbox, merchants
from ..web.database_session import get_db
from ..web.domain_messages import translate
from . import auth
from .blueprint import bp
from .request_body import accepts


@bp.get("/returns")
def list_returns():
    merchant = auth.merchant()
    limit = ascii_whole_number(request.args.get("limit", str(inbox.MAX_PAGE_SIZE // 4)))
    if limit is None or not 1 <= limit <= inbox.MAX_PAGE_SIZE:
        raise Invalid(fields={"limit": f"Must be a whole number from 1 to "
                                        f"{inbox.MAX_PAGE_SIZE}."})
    # Absent means all; an empty ?status= is a client bug, not a choice (the portal's form
    # may send one, the API's callers may not).
    status = request.args.get("status")
    if status == "":
        inbox.check_filter("not a status")
    cursor = request.args.get("cursor")
    if cursor == "":
        raise Invalid(fields={"cursor": "Not a cursor this list gave out."})
    return jsonify(inbox.api_page(get_db(), merchant["id"], status,
                                  cursor, limit))


@bp.put("/instructions")
@accepts("text/markdown", "text/plain")
def publish_instructions():
    merchant = auth.merchant()
    # "sv-SE" and "en-GB" are Swedish and English; a list names its first language first.
    header = request.headers.get("Content-Language") or "sv"
    language = header.split(",")[0].strip().split("-")[0].lower()
    if language not in ("sv", "en"):
        raise Invalid(fields={"Content-Language": "Must be sv (Swedish, the default) or en."})
    version = merchants.publish_instructions(get_db(), merchant["id"], request.get_data(),
                                             f"merchant:{merchant['id']}:api",
                                             language=language)
    # Raw HTML or script links are published (customers see them as text) and named, with
    # their lines, in the caller's language: a system can't tick "publish anyway".
    return jsonify({"version": version["version"],
                    "warnings": [{**w, "message": translate(w["message"])}
                                 for w in version["warnings"]]}), 201
