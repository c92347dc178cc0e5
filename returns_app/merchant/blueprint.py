"""The merchant blueprint itself, which every routes module attaches to (the package's
__init__ imports them all, so the blueprint comes with its routes)."""

from flask import Blueprint

bp = Blueprint("merchant", __name__, url_prefix="/merchant")
