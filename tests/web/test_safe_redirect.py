"""`next` parameters: a path on this site inside its own area, nothing else (safe_redirect.py)."""

from __future__ import annotations

import pytest

from returns_app.web.safe_redirect import local_path
from tests.builders import make_merchant
from tests.support_helpers import PASSWORD, make_merchant_user, make_support_user, pass_code_step

HOSTILE = [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example", "",
    "http:/evil.example", " //evil.example", None,
]
CONTROL = ["/support/\x00", "/support/\r\nSet-Cookie: a=b", "/support/\x7f", "/support/\x85x",
           "/support/a b"]


@pytest.mark.parametrize("target", HOSTILE + CONTROL)
def test_anything_but_a_plain_local_path_is_refused(target):
    assert local_path(target) is None
    assert local_path(target, "/support/") is None


@pytest.mark.parametrize("target", ["/", "/orders/5?x=1", "/support/refunds/3#history"])
def test_a_plain_local_path_is_kept(target):
    assert local_path(target) == target


def test_a_path_outside_the_area_is_refused():
    assert local_path("/orders/5", "/support/") is None
    assert local_path("/merchant/returns", "/merchant/") == "/merchant/returns"


@pytest.mark.parametrize("target", CONTROL)
def test_support_sign_in_with_a_control_character_in_next_goes_to_the_queue(client, db, target):
    make_support_user(db)
    response = pass_code_step(client, client.post(
        "/support/signin", query_string={"next": target},
        data={"email": "agent@example.se", "password": PASSWORD}))
    assert (response.status_code, response.headers["Location"]) == (302, "/support/")


def test_merchant_sign_in_with_a_control_character_in_next_goes_to_the_inbox(client, db):
    merchant, _ = make_merchant(db)
    make_merchant_user(db, merchant["id"])
    response = client.post("/merchant/signin", query_string={"next": "/merchant/\r\nx"},
                           data={"email": "shop@example.se", "password": "x"})
    assert response.status_code == 302 and "\n" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/merchant/")

