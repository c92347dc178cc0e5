"""The database module: schema from migrations, pragmas, the write transaction, append-only."""

from __future__ import annotations

import sqlite3

import pytest

from returns_app.store.db import Database, connect, insert, select_one, write_transaction
from returns_app.store.migrations import MIGRATIONS, migrate

# tests/postgres/ holds the same guarantees on PostgreSQL (test_guarantees.py, test_connections.py);
# the constraints below run on the engine under test.
SQLITE_ITSELF = pytest.mark.sqlite_only(reason="SQLite's connections, pragmas, file lock and"
                                        " schema (sqlite-utils' column types)")


def columns(db: Database, table: str) -> dict[str, str]:
    return {c.name: c.type for c in db[table].columns}


@SQLITE_ITSELF
def test_migrations_build_the_schema_on_an_in_memory_database():
    db = Database(sqlite3.connect(":memory:", isolation_level=None))
    applied = migrate(db)
    assert applied == [fn.__name__ for fn in MIGRATIONS]
    assert columns(db, "order_line")["unit_price_minor"] == "INTEGER"
    assert columns(db, "ledger_entry") == {
        "id": "INTEGER", "order_id": "INTEGER", "kind": "TEXT", "amount_minor": "INTEGER",
        "idempotency_key": "TEXT", "memo": "TEXT", "created_at": "TEXT",
    }
    assert {"instructions_version_id", "send_by", "refund_due_by", "status"} <= set(
        columns(db, "returns"))
    assert {"received_quantity", "accepted_quantity", "rejected_quantity"} <= set(
        columns(db, "return_item"))
    assert "disabled_at" in columns(db, "merchant_user")  # m011: operators disable staff
    assert "disabled_at" in columns(db, "support_user")
    assert columns(db, "worker_heartbeat") == {"worker": "TEXT", "beat_at": "TEXT"}
    assert columns(db, "outbox")["request_id"] == "TEXT"
    assert columns(db, "web_session") == {  # m016: sessions kept on the server
        "id": "INTEGER", "token_hash": "TEXT", "principal_kind": "TEXT", "principal_id": "INTEGER",
        "created_at": "TEXT", "last_seen_at": "TEXT", "idle_seconds": "INTEGER",
        "expires_at": "TEXT", "ended_at": "TEXT"}
    assert "revoked_at" in columns(db, "customer_token")
    assert columns(db, "merchant_user")["language"] == "TEXT"  # m020: the portal's language
    assert migrate(db) == []  # applied once only


@SQLITE_ITSELF
def test_file_connections_use_wal_full_sync_and_foreign_keys(tmp_path):
    db = connect(tmp_path / "x.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def count(db, table: str) -> int:
    return select_one(db, f"SELECT count(*) AS n FROM {table}")["n"]


def test_write_transaction_rolls_back_everything_on_error(db):
    with pytest.raises(RuntimeError), write_transaction(db):
        insert(db, "merchant", {"slug": "a", "name": "A", "created_at": "2026-01-01"})
        raise RuntimeError("boom")
    assert count(db, "merchant") == 0


@SQLITE_ITSELF
def test_write_transaction_commits_and_takes_the_write_lock(tmp_path):
    path = tmp_path / "lock.sqlite3"
    first, second = connect(path), connect(path)
    migrate(first)
    second.conn.execute("PRAGMA busy_timeout=50")
    with write_transaction(first):
        first["merchant"].insert({"slug": "a", "name": "A", "created_at": "2026-01-01"})
        # BEGIN IMMEDIATE holds the write lock from the start: a second writer must wait.
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            second.conn.execute("BEGIN IMMEDIATE")
    assert second["merchant"].count == 1


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO order_line (order_id, position, sku, name, quantity,"
                   " unit_price_minor) VALUES (999, 1, 'X', 'X', 1, 100)")


@pytest.mark.parametrize("table", ["ledger_entry", "audit_event"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET id = id", "DELETE FROM {t}"])
def test_ledger_and_audit_are_append_only(db, table, statement):
    db.execute("INSERT INTO merchant (slug, name, created_at) VALUES ('m', 'M', 'now')")
    db.execute("INSERT INTO customer (email, name, created_at) VALUES ('a@b.se', 'A', 'now')")
    db.execute("INSERT INTO orders (merchant_id, customer_id, order_number, merchant_reference,"
               " currency, payment_method, purchased_at, created_at)"
               " VALUES (1, 1, '111-111-111', 'r', 'SEK', 'invoice', 'now', 'now')")
    db.execute("INSERT INTO ledger_entry (order_id, kind, amount_minor, idempotency_key,"
               " created_at) VALUES (1, 'charge', 100, 'k', 'now')")
    db.execute("INSERT INTO audit_event (at, actor, action, subject_kind, subject_id)"
               " VALUES ('now', 'me', 'x', 'order', 1)")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement.format(t=table))
    assert count(db, table) == 1


def test_money_columns_refuse_negative_and_zero_amounts(db):
    with pytest.raises(sqlite3.IntegrityError, match="(?i)check constraint"):
        db.execute("INSERT INTO ledger_entry (order_id, kind, amount_minor, idempotency_key,"
                   " created_at) VALUES (1, 'payment', 0, 'k', 'now')")


def test_a_merchant_user_is_swedish_until_set_and_only_sv_or_en(db):
    merchant = insert(db, "merchant", {"slug": "a", "name": "A", "created_at": "2026-01-01"})
    user = insert(db, "merchant_user", {"merchant_id": merchant, "email": "a@a.se",
                                        "password_hash": "x", "created_at": "2026-01-01"})
    assert select_one(db, "SELECT language FROM merchant_user WHERE id = ?",
                      [user])["language"] == "sv"
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE merchant_user SET language = 'de'")
