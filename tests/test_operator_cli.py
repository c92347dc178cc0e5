"""The operator's commands: disable and enable staff, reset a staff password, revoke a support
token, back up the live database and restore it."""

from __future__ import annotations

import os
import re
import sqlite3
import threading

import pytest
from flask import g

from returns_app.services import merchants, support
from returns_app.store import backups
from returns_app.store.db import connect, write_transaction
from tests.api_helpers import bearer
from tests.merchant_fixtures import STAFF_PASSWORD
from tests.merchant_fixtures import sign_in as merchant_sign_in
from tests.support_helpers import PASSWORD as AGENT_PASSWORD
from tests.support_helpers import make_support_user, pass_code_step

AGENT = "agent@example.se"
STUCK = "/api/v1/support/stuck-refunds"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def run(cli, *args, ok: bool = True) -> str:
    result = cli.invoke(args=list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def next_request(client, path: str):
    # pytest-flask keeps one app context for the whole test, where Flask-Login caches the user
    # it loaded; a real request starts without it.
    g.pop("_login_user", None)
    return client.get(path)


def support_sign_in(client, password=AGENT_PASSWORD):
    return pass_code_step(client, client.post("/support/signin", data={"email": AGENT,
                                                                      "password": password}))


# --- disable and enable -----------------------------------------------------------------------

def test_a_disabled_merchant_user_is_signed_out_and_cant_sign_in_until_enabled(cli, client, db,
                                                                               shop):
    email = shop["user"]["email"]
    assert merchant_sign_in(client, email).status_code == 302
    assert next_request(client, "/merchant/returns").status_code == 200

    assert "Disabled merchant user" in run(cli, "disable-user", "merchant", email)
    gone = next_request(client, "/merchant/returns")
    assert gone.headers["Location"].startswith("/merchant/signin")
    refused = merchant_sign_in(client, email)
    assert refused.status_code == 422  # the same answer as a wrong password: nothing revealed
    assert "match a merchant account" in refused.get_data(as_text=True)

    assert "Enabled merchant user" in run(cli, "enable-user", "merchant", email)
    assert merchant_sign_in(client, email).status_code == 302
    actions = [row[0] for row in db.execute(
        "SELECT action FROM audit_event WHERE actor = 'cli' ORDER BY id")]
    assert actions == ["merchant_user.disabled", "merchant_user.enabled"]


def test_a_disabled_support_user_loses_console_and_tokens(cli, client, db):
    make_support_user(db)
    token = support.create_token(db, AGENT)
    assert support_sign_in(client).status_code == 302
    assert client.get(STUCK, headers=bearer(token)).status_code == 200

    run(cli, "disable-user", "support", AGENT)
    assert next_request(client, "/support/").headers["Location"].startswith("/support/signin")
    assert client.get(STUCK, headers=bearer(token)).status_code == 401
    assert support_sign_in(client).status_code == 422

    run(cli, "enable-user", "support", AGENT)
    assert client.get(STUCK, headers=bearer(token)).status_code == 200
    assert support_sign_in(client).status_code == 302


def test_disabling_twice_or_nobody_says_so(cli, db):
    make_support_user(db)
    run(cli, "disable-user", "support", AGENT)
    assert "already disabled" in run(cli, "disable-user", "support", AGENT)
    assert "There is no support user nobody@example.se" in run(
        cli, "disable-user", "support", "nobody@example.se", ok=False)
    assert "'customer' is not one of 'merchant', 'support'" in run(
        cli, "disable-user", "customer", AGENT, ok=False)


# --- passwords and tokens ---------------------------------------------------------------------

def test_reset_password_prints_a_new_one_and_the_old_stops_working(cli, client, db, shop):
    email = shop["user"]["email"]
    output = run(cli, "reset-password", "merchant", email)
    password = re.search(r"\(shown once\): (\S+)", output)[1]
    assert output.count(password) == 1
    assert merchant_sign_in(client, email, STAFF_PASSWORD).status_code == 422
    assert merchant_sign_in(client, email, password).status_code == 302
    assert password not in str([tuple(row) for row in db.execute("SELECT * FROM audit_event")])


def test_reset_password_of_a_support_user(cli, client, db, cheap_hashing):
    make_support_user(db)
    password = re.search(r"\(shown once\): (\S+)",
                         run(cli, "reset-password", "support", AGENT))[1]
    assert support_sign_in(client).status_code == 422
    assert support_sign_in(client, password).status_code == 302


@pytest.mark.parametrize("how", ["token", "id", "user"])
def test_revoke_a_support_token(cli, client, db, how):
    make_support_user(db)
    token, other = support.create_token(db, AGENT), support.create_token(db, AGENT)
    token_id = db.execute("SELECT id FROM support_token ORDER BY id").fetchone()[0]
    args = {"token": [token], "id": ["--id", str(token_id)], "user": ["--user", AGENT]}[how]
    assert f"Revoked {2 if how == 'user' else 1} support token(s)." in run(
        cli, "revoke-support-token", *args)
    assert client.get(STUCK, headers=bearer(token)).status_code == 401
    assert client.get(STUCK, headers=bearer(other)).status_code == (401 if how == "user"
                                                                    else 200)
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'support_token.revoked'"
                      ).fetchone()[0] == (2 if how == "user" else 1)


def test_revoke_needs_exactly_one_way_to_name_the_token(cli, db):
    make_support_user(db)
    assert "exactly one" in run(cli, "revoke-support-token", ok=False)
    assert "no such support token" in run(cli, "revoke-support-token", "st_nope", ok=False)


# --- backup and restore -----------------------------------------------------------------------

FILE_BACKUP = pytest.mark.sqlite_only(reason="the backup is SQLite's online backup of the database"
                                    " file; on PostgreSQL backup and restore refuse (below)")


@FILE_BACKUP
def test_backup_while_writes_go_on_then_restore(app, cli, db, tmp_path):
    """A writer keeps adding merchants (each in its own transaction: merchant, API key, audit)
    while the backup runs; the backup is one consistent moment, and a restore brings exactly
    that moment back."""
    stop, written = threading.Event(), []

    def writer():
        conn = connect(app.config["DATABASE"])
        while not stop.is_set():
            merchant, _key = merchants.create_merchant(conn, f"Shop {len(written)}", actor="t")
            written.append(merchant["id"])
        conn.conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        backup = tmp_path / "backup.sqlite3"
        assert "Backed up" in run(cli, "backup", str(backup))
        after = len(written)
        while len(written) < after + 5:  # more writes after the backup's moment
            threading.Event().wait(0.01)
    finally:
        stop.set()
        thread.join()

    copy = sqlite3.connect(backup)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [row[0] for row in copy.execute("SELECT id FROM merchant ORDER BY id")]
    # Consistent: whole merchants (each with its key and audit row), the first N written.
    assert 20 <= len(ids) < len(written)
    assert ids == written[:len(ids)]
    assert copy.execute("SELECT count(*) FROM merchant_api_key").fetchone()[0] == len(ids)
    assert copy.execute("SELECT count(*) FROM audit_event WHERE action = 'merchant.created'"
                        ).fetchone()[0] == len(ids)
    copy.close()
    assert "exists" in run(cli, "backup", str(backup), ok=False)

    # More happens after the backup; a restore without --yes changes nothing.
    with write_transaction(db):
        db.execute("DELETE FROM merchant_api_key")
    shelf = f"{app.config['DATABASE']}-pages"
    open(shelf, "wb").close()
    assert "--yes" in run(cli, "restore", str(backup), ok=False)
    assert db.execute("SELECT count(*) FROM merchant_api_key").fetchone()[0] == 0

    assert "Restored" in run(cli, "restore", str(backup), "--yes")
    db.conn.close()
    restored = connect(app.config["DATABASE"])
    assert [row[0] for row in restored.execute("SELECT id FROM merchant ORDER BY id")] == ids
    assert restored.execute("SELECT count(*) FROM merchant_api_key").fetchone()[0] == len(ids)
    assert not os.path.exists(shelf)  # kept pages of other contents are gone
    restored.conn.close()


@FILE_BACKUP
def test_restore_refuses_what_is_not_a_backup_of_this_app(cli, tmp_path):
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert "not a returns assistant database" in run(cli, "restore", str(other), "--yes",
                                                     ok=False)


def test_backup_and_restore_of_a_postgresql_database_point_to_its_own_tools(tmp_path):
    for attempt in (lambda: backups.backup("postgresql://db.example/returns", tmp_path / "b"),
                    lambda: backups.restore(tmp_path / "b", "postgresql://db.example/returns")):
        with pytest.raises(backups.BackupError, match="pg_dump"):
            attempt()
    assert not list(tmp_path.iterdir())
