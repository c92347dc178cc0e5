"""store/postgres.py's connection: parameters as sqlite3 takes them, ids from insert, and a pool
of its own in a forked child (its locking: test_locking.py)."""

from __future__ import annotations

import os

import pytest

from returns_app.store.db import insert, select, select_one, write_transaction

pytestmark = pytest.mark.postgres


def test_positional_and_named_parameters_and_literal_percent(pg):
    assert select_one(pg, "SELECT ? AS a, 'x%y' AS b", [7]) == {"a": 7, "b": "x%y"}
    assert select_one(pg, "SELECT :n AS a, :n + 1 AS b", {"n": 1}) == {"a": 1, "b": 2}
    assert select_one(pg, "SELECT 'no params: %' AS c") == {"c": "no params: %"}


def test_booleans_are_stored_as_sqlite_stores_them(pg):
    assert select_one(pg, "SELECT ? + 0 AS yes, ? + 0 AS no", [True, False]) == {
        "yes": 1, "no": 0}


def test_insert_returns_the_new_id_and_none_for_a_table_without_one(pg):
    first = insert(pg, "lookup_attempt", {"bucket": "b", "at": "2026-01-01"})
    assert insert(pg, "lookup_attempt", {"bucket": "b", "at": "2026-01-01"}) == first + 1
    assert insert(pg, "worker_heartbeat", {"worker": f"w{first}", "beat_at": "now"}) is None


def test_write_transactions_do_not_nest(pg):
    with pytest.raises(RuntimeError, match="does not nest"), write_transaction(pg), \
            write_transaction(pg):
        pass
    assert not pg.conn.in_transaction


def test_a_forked_child_opens_its_own_pool_and_leaves_the_parents_alone(pg):
    assert select(pg, "SELECT 1 AS one") == [{"one": 1}]
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        try:
            ok = select(pg, "SELECT 2 AS two") == [{"two": 2}]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert select(pg, "SELECT 3 AS three") == [{"three": 3}]


def test_a_database_error_is_one_the_app_already_catches(pg):
    import sqlite3
    with pytest.raises(sqlite3.Error):
        pg.execute("SELECT * FROM no_such_table")
