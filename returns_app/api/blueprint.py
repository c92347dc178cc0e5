"""The api blueprint itself, which every routes module attaches to (the package's
__init__ imports them all, so the blueprint comes with its routes)."""

from flask import Blueprint

from .request_body import check_media_type

bp = Blueprint("api", __name__)
# Before credentials are looked at: a body of the wrong type is refused whoever sends it.
bp.before_request(check_media_type)
