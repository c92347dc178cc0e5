"""Faults of the moment answer truthfully: a full disk or a database locked past the busy
timeout is a 503 with Retry-After (the API's error shape, a friendly page elsewhere), never a
bare 500, and nothing is stored; any other database error stays a 500."""

from __future__ import annotations

import sqlite3

import pytest

from returns_app.services import customers
from returns_app.store.db import connect
from returns_app.web.database_session import get_db
from tests.api_helpers import bearer
from tests.builders import INSTRUCTIONS, make_merchant, make_order

EMAIL = "kund@example.se"
FULL = "database or disk is full"
LOCKED = "database is locked"


def look_up_page(client, number="123-456-789"):
    return client.post("/", data={"order_number": number, "email": EMAIL})


def look_up_api(client, number="123-456-789"):
    return client.post("/api/v1/customer/session", json={"order_number": number, "email": EMAIL})


def assert_api_unavailable(response, retry_after: int) -> None:
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert response.get_json()["error"]["message"]
    assert response.headers["Retry-After"] == str(retry_after)


def assert_page_unavailable(response, retry_after: int) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<h1>Try again shortly</h1>" in page
    assert "Nothing was changed; please try again in a minute." in page
    assert response.headers["Retry-After"] == str(retry_after)


@pytest.mark.parametrize("message, retry_after", [(FULL, 60), (LOCKED, 5)])
def test_an_injected_fault_is_503_on_the_api_and_on_pages(client, monkeypatch, message,
                                                          retry_after):
    def fail(*args, **kwargs):
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(customers, "find_order", fail)
    assert_api_unavailable(look_up_api(client), retry_after)
    assert_page_unavailable(look_up_page(client), retry_after)


def postgres_error(sqlstate: str | None) -> sqlite3.OperationalError:
    """As store/postgres.py raises PostgreSQL's: sqlite3's class with the SQLSTATE on it (None:
    the pool had no connection in time)."""
    error = sqlite3.OperationalError(f"PostgreSQL {sqlstate}")
    error.sqlstate = sqlstate
    return error


@pytest.mark.parametrize("sqlstate, retry_after", [
    ("53100", 60), ("55P03", 5), ("40P01", 5), (None, 5), ("08006", 5), ("57P01", 5)],
    ids=["disk full", "lock timeout", "deadlock", "no pooled connection", "connection lost",
         "server shutting down"])
def test_postgresqls_faults_of_the_moment_are_503_too(client, monkeypatch, sqlstate,
                                                      retry_after):
    def fail(*args, **kwargs):
        raise postgres_error(sqlstate)

    monkeypatch.setattr(customers, "find_order", fail)
    assert_api_unavailable(look_up_api(client), retry_after)
    assert_page_unavailable(look_up_page(client), retry_after)


@pytest.mark.parametrize("sqlstate", ["42P01", "42601"], ids=["no such table", "syntax error"])
def test_postgresqls_other_errors_are_still_a_500(app, client, monkeypatch, sqlstate):
    def fail(*args, **kwargs):
        raise postgres_error(sqlstate)

    monkeypatch.setattr(customers, "find_order", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert look_up_api(client).status_code == 500


def test_any_other_database_error_is_still_a_500(app, client, monkeypatch):
    def fail(*args, **kwargs):
        raise sqlite3.OperationalError("no such table: orders")

    monkeypatch.setattr(customers, "find_order", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = look_up_api(client)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"
    assert "Retry-After" not in response.headers


@pytest.mark.sqlite_only(reason="fills the database with SQLite's PRAGMA max_page_count")
def test_a_really_full_database_is_503_and_stores_nothing(app, client, db):
    merchant, key = make_merchant(db)
    versions = db.execute("SELECT count(*) FROM instructions_version").fetchone()[0]
    # The app's own connection may not grow the file past what it is now: SQLite then
    # answers SQLITE_FULL exactly as on a full disk.
    app_db = get_db()
    pages = app_db.execute("PRAGMA page_count").fetchone()[0]
    app_db.execute(f"PRAGMA max_page_count = {pages}")
    # ~80 KB in 400 short lines: big enough to need new pages, well inside the parser's limits
    paragraph = "Pack every item in its own bag, please. " * 10
    document = INSTRUCTIONS + ("\n" + paragraph + "\n") * 200
    response = client.put("/api/v1/instructions", data=document.encode(),
                          headers={**bearer(key), "Content-Type": "text/markdown",
                                   "Content-Language": "en"})
    assert_api_unavailable(response, 60)
    assert db.execute("SELECT count(*) FROM instructions_version").fetchone()[0] == versions
    # Room again: the same request goes through.
    app_db.execute(f"PRAGMA max_page_count = {pages * 100}")
    response = client.put("/api/v1/instructions", data=document.encode(),
                          headers={**bearer(key), "Content-Type": "text/markdown",
                                   "Content-Language": "en"})
    assert response.status_code == 201


@pytest.mark.sqlite_only(reason="holds SQLite's file lock past a PRAGMA busy_timeout")
@pytest.mark.parametrize("api", [True, False], ids=["api", "page"])
def test_a_database_locked_past_the_busy_timeout_is_503(app, client, db, api):
    merchant, _key = make_merchant(db)
    order = make_order(db, merchant["id"])
    get_db().execute("PRAGMA busy_timeout = 50")
    other = connect(app.config["DATABASE"])
    other.conn.execute("BEGIN IMMEDIATE")  # another writer holds the lock throughout
    try:
        # A look-up records its attempt in a write transaction: it can't get the lock.
        response = (look_up_api if api else look_up_page)(client, order["order_number"])
    finally:
        other.conn.execute("ROLLBACK")
        other.conn.close()
    if api:
        assert_api_unavailable(response, 5)
    else:
        assert_page_unavailable(response, 5)
    assert db.execute("SELECT count(*) FROM lookup_attempt").fetchone()[0] == 0


@pytest.mark.parametrize("sqlstate", ["55P03", "40001", "40P01"],
                         ids=["lock_timeout", "serialization_failure", "deadlock"])
def test_postgresqls_lost_races_and_lock_waits_are_503_too(client, monkeypatch, sqlstate):
    """store/postgres.py raises these as OperationalError carrying the SQLSTATE: nothing was
    written, and the same request a moment later succeeds (docs/design.md, "Locking, case by
    case")."""
    def fail(*args, **kwargs):
        error = sqlite3.OperationalError("canceling statement due to lock timeout")
        error.sqlstate = sqlstate
        raise error

    monkeypatch.setattr(customers, "find_order", fail)
    assert_api_unavailable(look_up_api(client), 5)
    assert_page_unavailable(look_up_page(client), 5)
