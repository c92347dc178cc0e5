"""Shared fixtures: an app on a fresh database file per test, and a direct connection to it."""

from __future__ import annotations

import os

import pytest

# Production is the app's default (config.py); the suite runs as a developer's machine does, and
# the tests of production's behaviour set RETURNS_ENV themselves.
os.environ["RETURNS_ENV"] = "development"

from returns_app import create_app
from returns_app.store.db import connect
from returns_app.store.migrations import migrate
from tests.chromium import browser  # noqa: F401  (one Chromium for every tier)

# `sandbox`: the real sandbox provider; `smtp`: a real SMTP server the app's emails go to;
# `shop`, `staff`, ...: merchant portal users
pytest_plugins = ["tests.sandbox_fixtures", "tests.notification_helpers", "tests.merchant_fixtures"]


@pytest.fixture
def app(tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE": str(tmp_path / "returns.sqlite3"),
        "WTF_CSRF_ENABLED": False,
        # Tests read English pages unless they send Accept-Language (the product's default is sv).
        "BABEL_DEFAULT_LOCALE": "en_GB",
    })
    conn = connect(app.config["DATABASE"])
    migrate(conn)
    conn.close()
    return app


@pytest.fixture
def db(app):
    conn = connect(app.config["DATABASE"])
    yield conn
    conn.close()
