"""Merchants' return instructions: parse, validate, sanitize, version and select them.

Deliberately free of Flask and of database code, so it can be tested and reused alone.
"""

from .decoding import MAX_DOCUMENT_BYTES
from .document import Instructions, NonReturnable, parse
from .problems import DocumentTooLarge, InstructionsInvalid, Problem
from .rendering import render_html
from .selection import select
from .settings import LANGUAGES, SEND_METHOD_LABELS, SEND_METHODS

__all__ = [
    "LANGUAGES",
    "MAX_DOCUMENT_BYTES",
    "SEND_METHODS",
    "SEND_METHOD_LABELS",
    "DocumentTooLarge",
    "Instructions",
    "InstructionsInvalid",
    "NonReturnable",
    "Problem",
    "parse",
    "render_html",
    "select",
]
