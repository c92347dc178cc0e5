"""Emailed links carry a bearer token in their path (/links/order/<token>, /refunds/<token>,
/preferences/<token>): whoever holds the URL holds the access. No log may keep one, so every
log line hides them: gunicorn's access log (gunicorn_conf.AccessLog) and everything logged through
Python's logging (masking.install_log_masking)."""

from __future__ import annotations

import re

# The segment after a link route's prefix, unless it is a number (the API's /refunds/<id>/...).
_TOKEN_IN_PATH = re.compile(r"(/(?:links/[a-z-]+|refunds|preferences)/)(?!\d+(?:[/?#\s\"']|$))"
                            r"[^/?#\s\"']+")
HIDDEN = "[token]"


def hide_link_tokens(text: str) -> str:
    return _TOKEN_IN_PATH.sub(rf"\g<1>{HIDDEN}", text)

