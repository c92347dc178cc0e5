"""How the API reads a request body: its media type, checked per endpoint before the view
runs, and JSON parsed once, here, with limits that hostile input can't get past.

An endpoint names the media types it reads with `@accepts(...)`; without one it reads
application/json. A request that carries a body of another type (or of none) is 415 before
anything else happens: a browser can send text/plain or a form to any site without asking, so a
JSON endpoint that read those would run cross-site posts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from flask import current_app, request

from ..domain.errors import Malformed, UnsupportedMediaType

JSON = "application/json"
# Our bodies nest three levels (an order's lines); deeper is an attack on whatever walks it.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def accepts(*media_types: str) -> Callable:
    """Declare the media types an endpoint reads, e.g. `@accepts("text/markdown")`."""
    def mark(view):
        view.accepts = tuple(media_types)
        return view
    return mark


def check_media_type() -> None:
    """Before an API view: a body must be of a type the view reads (no body needs no type)."""
    if not request.content_length and "Transfer-Encoding" not in request.headers:
        return
    view = current_app.view_functions.get(request.endpoint)
    wanted = getattr(view, "accepts", (JSON,))
    if request.mimetype not in wanted:
        sent = request.mimetype or "no Content-Type"
        raise UnsupportedMediaType(
            f"Send the body as {' or '.join(wanted)}, not as {sent}.")


def json_object(required: bool = True) -> dict:
    """The body as a JSON object; {} for no body when `required` is False."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    # RecursionError: an array nested thousands of levels deep outruns the parser's stack.
    except (ValueError, RecursionError):
        raise Malformed("The body must be a JSON object.") from None
    _check_readable(data)
    if not isinstance(data, dict):
        raise Malformed("The body must be a JSON object.")
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _check_readable(data) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings with a lone surrogate (a "\\ud800"
    escape with no pair: no UTF-8 form, so it could be neither stored nor sent back). Walked
    with a list, not recursion, so the walk itself can't run out of stack."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise Malformed("The body has a string that is not valid Unicode text "
                                "(a lone surrogate escape such as \\ud800).")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise Malformed(f"The body nests deeper than {MAX_DEPTH} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    pending.append((key, depth))
                pending.append((item, depth + 1))
