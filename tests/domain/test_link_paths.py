"""Emailed links' tokens hidden from log lines (issue 16, item 8), without hiding ids."""

from __future__ import annotations

import logging

import pytest

from returns_app.domain.link_paths import hide_link_tokens
from returns_app.domain.masking import install_log_masking
from returns_app.services import links

TOKEN = links.make_token("k", links.ORDER, 7)


@pytest.mark.parametrize("line, expected", [
    (f"GET /links/order/{TOKEN} HTTP/1.1", "GET /links/order/[token] HTTP/1.1"),
    (f"GET /links/pay/{TOKEN}?a=1", "GET /links/pay/[token]?a=1"),
    (f'"https://x.se/refunds/{TOKEN}"', '"https://x.se/refunds/[token]"'),
    (f"POST /preferences/{TOKEN}", "POST /preferences/[token]"),
    ("POST /api/v1/refunds/12/payout-details", "POST /api/v1/refunds/12/payout-details"),
    ("GET /links/sent", "GET /links/sent"), ("POST /links/new", "POST /links/new"),
])
def test_tokens_are_hidden_and_ids_kept(line, expected):
    assert hide_link_tokens(line) == expected


def test_the_apps_own_log_records_hide_them(caplog):
    install_log_masking()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("returns_app.test").warning("503 for GET %s", f"/refunds/{TOKEN}")
    assert TOKEN not in caplog.text and "/refunds/[token]" in caplog.text
