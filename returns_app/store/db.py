"""The one way into the database: connections and the write transaction (the schema is
store/migrations/).

Every other module receives a ``Database`` from here and never opens one itself.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlite_utils

# Other modules name the type through here, so this stays the only importer of sqlite_utils.
Database = sqlite_utils.Database

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def is_postgres(db) -> bool:
    """Whether ``db`` is PostgreSQL's (store/postgres.py) rather than SQLite's."""
    return getattr(db, "engine", None) == "postgresql"


def is_server_address(address: str | Path) -> bool:
    """Whether DATABASE names a PostgreSQL server's database (RETURNS_DATABASE_URL) rather than
    a SQLite file: then it is no path, and local files (kept pages, the sandbox's records) go
    in the instance folder."""
    return str(address).startswith(("postgresql://", "postgres://"))


def connect(path: str | Path) -> Database:
    """Open a connection with the pragmas every connection needs; a ``postgresql://`` address
    (RETURNS_DATABASE_URL) opens PostgreSQL's instead (store/postgres.py, docs/design.md).

    ``isolation_level=None`` stops the sqlite3 module from opening transactions behind our back:
    the only transactions are the explicit ones in ``write_transaction`` and sqlite-utils' own.
    """
    if is_server_address(path):
        from . import postgres  # only then: a SQLite run never loads psycopg
        return postgres.connect(str(path))
    memory = str(path) == ":memory:"
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a customer told "paid" stays paid after a power cut, even in WAL mode.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # A worker keeps its connection (database_session.py): reads through a memory map and a
    # 32 MB page cache instead of a system call per page: 13 % of the order page's reads at a
    # million orders (README, "What each piece of speed machinery buys").
    conn.execute("PRAGMA mmap_size=1073741824")
    conn.execute("PRAGMA cache_size=-32000")
    return Database(conn)


class KeptConnections(threading.local):
    """One connection per thread and process, opened on first use and handed out again after:
    opening costs more than an indexed read (1.5 ms against 0.015 ms at a million orders:
    README, "What each piece of speed machinery buys"), and a kept connection keeps its page
    cache warm.
    Opened anew in a forked child (SQLite connections must not cross a fork) and for another
    path."""

    def __init__(self, open_connection: Callable[[str], T]):
        self._open = open_connection
        self._owner: tuple[int, str] | None = None
        self._connection: T | None = None

    def get(self, path: str) -> T:
        owner = (os.getpid(), path)
        if self._owner != owner:
            self._connection, self._owner = self._open(path), owner
        return self._connection


@contextmanager
def write_transaction(db: Database, *, serializable: bool = False) -> Iterator[Database]:
    """Run a read-then-write unit of work atomically.

    On SQLite, BEGIN IMMEDIATE takes the database's write lock before the first read, so two
    processes can't both read the old state and both write (a plain deferred BEGIN loses updates
    or fails with "locked" under concurrency; see docs/decisions.md). sqlite-utils table methods
    called inside use savepoints.

    On PostgreSQL there is no such lock: the transaction is READ COMMITTED, and a read-then-write
    takes the locks its case needs first (`lock_rows`, `lock_keys`, `for_update`), or runs
    SERIALIZABLE through `run_serializable` (docs/design.md, "Locking, case by case").
    """
    if db.conn.in_transaction:
        raise RuntimeError("write_transaction does not nest; pass the open transaction down")
    db.conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE" if serializable and is_postgres(db)
                    else "BEGIN IMMEDIATE")
    try:
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        # Also when COMMIT itself failed (a deferred foreign key, a full disk, SQLITE_BUSY):
        # the transaction is still open then, and a kept connection would carry it into the
        # next request.
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def lock_rows(db: Database, table: str, *row_ids: int) -> None:
    """Inside a write transaction: hold these rows of `table` (by id) until it ends, so every
    other transaction that locks one of them waits (PostgreSQL's SELECT ... FOR UPDATE, in
    ascending id order so two lockers of the same rows never deadlock). Nothing on SQLite, whose
    BEGIN IMMEDIATE already holds the whole database."""
    if row_ids and is_postgres(db):
        db.conn.execute(f"SELECT id FROM {table} WHERE id = ANY(?) ORDER BY id FOR UPDATE",
                        [sorted(set(row_ids))])


def lock_keys(db: Database, *names: str) -> None:
    """Inside a write transaction: hold these names until it ends, for a case that has no row to
    lock (a sign-in bucket's attempts, the migrations' record): a transaction-level advisory
    lock per name on PostgreSQL (its 64-bit hash: two names that share one merely wait for each
    other), taken in sorted order; nothing on SQLite (BEGIN IMMEDIATE)."""
    for name in sorted(set(names)) if is_postgres(db) else ():
        db.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name])


def for_update(db: Database) -> str:
    """The clause that locks what a SELECT reads, for the engine: " FOR UPDATE" on PostgreSQL,
    nothing on SQLite (which has none, and needs none inside BEGIN IMMEDIATE)."""
    return " FOR UPDATE" if is_postgres(db) else ""


# SQLSTATEs that say "this transaction lost a race with another: run it again".
RETRYABLE = ("40001", "40P01")  # serialization_failure, deadlock_detected
TRANSACTION_ATTEMPTS = 5


def lost_a_race(error: BaseException) -> bool:
    """Whether PostgreSQL rolled the transaction back to let another one through (it was a
    deadlock's victim, or lost a serializable race): the same work run again may succeed."""
    return getattr(error, "sqlstate", None) in RETRYABLE


def run_transaction(db: Database, work: Callable[[Database], T], *, serializable: bool = False,
                    attempts: int = TRANSACTION_ATTEMPTS) -> T:
    """`work(db)` in a write transaction, run again when PostgreSQL rolled it back for another
    transaction (`lost_a_race`: a deadlock's victim at READ COMMITTED; also a serialization
    failure with ``serializable``), `attempts` times in all, after a short random pause. The
    whole body is run again, so `work` must do nothing but database work. A ``with
    write_transaction`` block can't be run again by anyone but its caller: a deadlock there is
    a 503 with Retry-After (nothing was stored). On SQLite it runs once (BEGIN IMMEDIATE holds
    the database: no deadlock, no lost race)."""
    for attempt in range(1, attempts + 1):
        try:
            with write_transaction(db, serializable=serializable):
                return work(db)
        except sqlite3.OperationalError as error:
            if not lost_a_race(error) or attempt == attempts:
                raise
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")


def run_serializable(db: Database, work: Callable[[Database], T],
                     attempts: int = TRANSACTION_ATTEMPTS) -> T:
    """`work(db)` in a write transaction, SERIALIZABLE on PostgreSQL: for a case no row lock
    can express (a row that may not exist yet, found by what it holds). PostgreSQL aborts one
    of two transactions whose reads and writes overlap (serialization_failure, or
    deadlock_detected); it is run again as `run_transaction` runs a deadlock's victim."""
    return run_transaction(db, work, serializable=True, attempts=attempts)


def select(db: Database, sql: str, params=()) -> list[dict]:
    """The rows of a read as dicts.

    Not ``db.query``: that wraps every statement in a SAVEPOINT and a RELEASE, three round
    trips where a read needs one, and hot pages run dozens of reads.
    """
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert(db: Database, table: str, row: dict) -> int:
    """Insert one row; its id.

    Not ``db[table].insert``: it asks sqlite_master whether the table is a view, twice per
    row, and a reported return writes four rows while holding the write lock.
    """
    if is_postgres(db):
        return db.insert(table, row)  # INSERT ... RETURNING id
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    return db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                           list(row.values())).lastrowid


def select_one(db: Database, sql: str, params=()) -> dict | None:
    """The first row of a read as a dict, or None when there is none."""
    found = select(db, sql, params)
    return found[0] if found else None
