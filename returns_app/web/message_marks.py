"""`N_`, the mark that puts an English message into the catalog without translating it there:
the message tables (domain, API, instruction messages) list every message a service may raise,
and `domain_messages.translate` translates it when it is shown."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction (pybabel's default keywords); translated when shown."""
    return message
