"""Merchants with staff accounts, and a browser session signed in as their staff."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from returns_app.domain import passwords
from returns_app.services import merchant_users
from tests.builders import make_merchant

STAFF_PASSWORD = "correct horse battery"
# Real scrypt (OWASP parameters) costs about a second per check on this machine; the tests
# check the sign-in logic, so their accounts use the same scheme with a small work factor.
CHEAP_SCRYPT = "scrypt:1024:8:1"


@pytest.fixture
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "SCRYPT_METHOD", CHEAP_SCRYPT)
    dummy = generate_password_hash("not-a-real-password", method=CHEAP_SCRYPT)
    monkeypatch.setattr(passwords, "DUMMY_HASH", dummy)


def make_shop(db, name: str, email: str) -> dict:
    """{"merchant", "key", "user"}: a merchant with instructions, an API key and one staff
    member, reading English, whose password is STAFF_PASSWORD (their own: chosen after the
    one-time one)."""
    merchant, key = make_merchant(db, name)
    user, _ = merchant_users.create_merchant_user(db, merchant["slug"], email,
                                                  password=STAFF_PASSWORD, actor="test",
                                                  must_change_password=False)
    # Staff are Swedish until they choose; the tests read English pages, as the app's
    # BABEL_DEFAULT_LOCALE there says (tests/merchant/test_merchant_language.py covers the default).
    merchant_users.set_language(db, user["id"], "en", "test")
    return {"merchant": merchant, "key": key, "user": user}


@pytest.fixture
def shop(db, cheap_hashing) -> dict:
    return make_shop(db, "Test Shop", "staff@testshop.se")


@pytest.fixture
def other_shop(db, cheap_hashing) -> dict:
    return make_shop(db, "Other Shop", "staff@othershop.se")


def sign_in(client, email: str, password: str = STAFF_PASSWORD, **kwargs):
    return client.post("/merchant/signin", data={"email": email, "password": password},
                       **kwargs)


@pytest.fixture
def staff(client, shop) -> dict:
    """`client` signed in as the staff of `shop`; returns `shop`."""
    response = sign_in(client, shop["user"]["email"])
    assert response.status_code == 302, response.get_data(as_text=True)
    return shop
