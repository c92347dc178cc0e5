"""Append-only against every statement form, and a failed COMMIT that leaves nothing open
(issue #17, items 9 and 10)."""

from __future__ import annotations

import sqlite3

import pytest

from returns_app.store.db import connect, write_transaction
from tests.builders import make_merchant, make_order

APPEND_ONLY = ["ledger_entry", "audit_event"]
# SQLite's own statement forms and connections: PostgreSQL has no REPLACE and its triggers fire
# for every client (tests/postgres/test_guarantees.py holds its append-only tables).
SQLITE_PLAIN = pytest.mark.sqlite_only(reason="the sqlite3 module's plain connection, without"
                                       " the recursive triggers sqlite-utils turns on")
SQLITE_REPLACE = pytest.mark.sqlite_only(reason="REPLACE is SQLite's statement; PostgreSQL has"
                                         " none")


@pytest.fixture(params=["app connection", pytest.param("plain connection", marks=SQLITE_PLAIN)])
def history(request, app, db):
    """A merchant and an order: audit events and a charge in the ledger; seen through the app's
    own connection, or through a plain one such as the sqlite3 shell or a script opens, which
    has no recursive triggers (sqlite-utils turns them on for ours)."""
    merchant, _ = make_merchant(db)
    make_order(db, merchant["id"])
    if request.param == "app connection":
        yield db
        return
    plain = sqlite3.connect(app.config["DATABASE"], isolation_level=None)
    assert plain.execute("PRAGMA recursive_triggers").fetchone()[0] == 0
    yield plain
    plain.close()


def first_row(db, table: str) -> dict:
    cursor = db.execute(f"SELECT * FROM {table} ORDER BY id LIMIT 1")
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))


def changed(row: dict) -> dict:
    """The same row with one value rewritten, as an attacker (or a bug) would."""
    text = "memo" if "memo" in row else "why"
    return {**row, text: "rewritten"}


def rows(db, table: str) -> list[tuple]:
    return db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def statements(table: str, row: dict) -> dict[str, tuple[str, list]]:
    new = changed(row)
    names = ", ".join(new)
    marks = ", ".join("?" * len(new))
    text = "memo" if "memo" in row else "why"
    return {
        "REPLACE INTO": (f"REPLACE INTO {table} ({names}) VALUES ({marks})", list(new.values())),
        "INSERT OR REPLACE": (f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})",
                              list(new.values())),
        "UPSERT DO UPDATE": (f"INSERT INTO {table} ({names}) VALUES ({marks})"
                             f" ON CONFLICT (id) DO UPDATE SET {text} = excluded.{text}",
                             list(new.values())),
        "UPDATE": (f"UPDATE {table} SET {text} = 'rewritten' WHERE id = ?", [row["id"]]),
        "UPDATE OR REPLACE": (f"UPDATE OR REPLACE {table} SET {text} = 'rewritten'"
                              f" WHERE id = ?", [row["id"]]),
        "DELETE": (f"DELETE FROM {table} WHERE id = ?", [row["id"]]),
    }


FORMS = [pytest.param("REPLACE INTO", marks=SQLITE_REPLACE),
         pytest.param("INSERT OR REPLACE", marks=SQLITE_REPLACE), "UPSERT DO UPDATE", "UPDATE",
         pytest.param("UPDATE OR REPLACE", marks=SQLITE_REPLACE), "DELETE"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_no_statement_form_rewrites_an_append_only_table(history, table, form):
    before = rows(history, table)
    sql, params = statements(table, first_row(history, table))[form]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        history.execute(sql, params)
    assert rows(history, table) == before


@SQLITE_REPLACE
def test_replace_that_collides_on_the_ledgers_unique_key_is_refused_too(history):
    """A new id, but the same order, kind and idempotency key: REPLACE would delete the old
    entry to make room."""
    before = rows(history, "ledger_entry")
    row = {**first_row(history, "ledger_entry"), "amount_minor": 1}
    del row["id"]
    names, marks = ", ".join(row), ", ".join("?" * len(row))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        history.execute(f"REPLACE INTO ledger_entry ({names}) VALUES ({marks})",
                        list(row.values()))
    assert rows(history, "ledger_entry") == before


def test_appending_still_works(history):
    count = len(rows(history, "audit_event"))
    history.execute("INSERT INTO audit_event (at, actor, action, subject_kind, subject_id)"
                    " VALUES ('2026-01-01T00:00:00Z', 'test', 'x', 'order', 1)")
    assert len(rows(history, "audit_event")) == count + 1


# --- item 10: a failed COMMIT ---------------------------------------------------------------------

# PRAGMA defer_foreign_keys is SQLite's: PostgreSQL's foreign keys are not deferrable, and a
# COMMIT it refuses ends the transaction itself (store/postgres.py, _finish).
DEFERRED_FOREIGN_KEYS = pytest.mark.sqlite_only(
    reason="a COMMIT failed by SQLite's PRAGMA defer_foreign_keys and its file lock")


def commit_that_fails(db) -> None:
    """A unit of work whose COMMIT fails: the foreign key check is deferred to it."""
    with write_transaction(db):
        db.execute("PRAGMA defer_foreign_keys=ON")
        db.execute("INSERT INTO merchant_api_key (merchant_id, prefix, key_hash, created_at)"
                   " VALUES (999999, 'rk_x', 'hash-of-nothing', '2026-01-01T00:00:00Z')")


@DEFERRED_FOREIGN_KEYS
def test_a_failed_commit_rolls_back_and_the_next_unit_of_work_starts_clean(db):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        commit_that_fails(db)
    assert not db.conn.in_transaction
    assert db.execute("SELECT count(*) FROM merchant_api_key").fetchone()[0] == 0
    # The kept connection serves the next request: it can begin again, and what it writes stays.
    make_merchant(db)
    other = sqlite3.connect(db.conn.execute("PRAGMA database_list").fetchone()[2])
    assert other.execute("SELECT count(*) FROM merchant").fetchone()[0] == 1
    other.close()


@DEFERRED_FOREIGN_KEYS
def test_a_failed_commit_does_not_hold_the_write_lock(app, db):
    with pytest.raises(sqlite3.IntegrityError):
        commit_that_fails(db)
    other = connect(app.config["DATABASE"])
    other.conn.execute("PRAGMA busy_timeout=50")
    with write_transaction(other):
        other.execute("INSERT INTO merchant (slug, name, created_at) VALUES ('s', 'S', 'now')")
    other.conn.close()
