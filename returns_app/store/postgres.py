"""The database on PostgreSQL (psycopg 3 over a psycopg-pool pool): the same small surface the
store uses on SQLite's ``Database`` (``execute``, ``conn.execute``, ``conn.in_transaction``,
``close``), so ``select``, ``select_one``, ``insert`` and ``write_transaction`` in db.py work on
either engine. db.connect() hands one of these out for a ``postgresql://`` address.

What differs from SQLite, and how it is bridged (docs/design.md, "Two engines"):

- Placeholders: statements are written with ``?`` (or ``:name``); ``translate`` rewrites them
  to psycopg's ``%s`` / ``%(name)s`` and doubles every other ``%``, leaving quoted text alone.
- Transactions: a statement outside a transaction borrows a pooled connection (autocommit) and
  gives it back at once; ``BEGIN IMMEDIATE`` (write_transaction) keeps one connection until
  COMMIT or ROLLBACK, READ COMMITTED, and ``BEGIN ISOLATION LEVEL SERIALIZABLE``
  (db.run_serializable) the same at SERIALIZABLE. No lock is taken for the whole database:
  each read-then-write locks what it needs (db.lock_rows, db.lock_keys, ``FOR UPDATE``), case
  by case (docs/design.md, "Locking, case by case").
- Errors: psycopg's are raised again as the sqlite3 classes the app already catches
  (IntegrityError for a constraint or a trigger's refusal, OperationalError for a lock or a
  connection that timed out), with the psycopg error as the cause.
- Booleans are sent as 0/1, as SQLite stores them (the schema keeps INTEGER flags).
- sum() of a BIGINT is NUMERIC: it comes back as an int (SQLite's sum of integers is one),
  a fraction (avg) as a float, so money never turns into Decimal above store/.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from functools import lru_cache

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg_pool import ConnectionPool, PoolTimeout

URL_PREFIXES = ("postgresql://", "postgres://")
POOL_SIZE_VARIABLE = "RETURNS_DATABASE_POOL_SIZE"
# A worker process's threads each hold a connection only while a statement or a transaction
# runs, so a few per process go a long way (gunicorn: workers x this, under max_connections).
DEFAULT_POOL_SIZE = 8
# As SQLite's busy timeout (db.BUSY_TIMEOUT_MS): waiting longer for a row lock, a key's lock or
# a free pooled connection fails with OperationalError, which the app answers with a 503.
WAIT_SECONDS = 5

_TRANSACTION_CONTROL = {"BEGIN IMMEDIATE": "BEGIN", "BEGIN": "BEGIN", "BEGIN DEFERRED": "BEGIN",
                        "BEGIN ISOLATION LEVEL SERIALIZABLE":
                            "BEGIN ISOLATION LEVEL SERIALIZABLE",
                        "COMMIT": "commit", "END": "commit", "ROLLBACK": "rollback"}


def is_url(address: str) -> bool:
    return address.startswith(URL_PREFIXES)


# ---- placeholders ------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'              # a string literal
      | "(?:[^"]|"")*"              # a quoted identifier
      | --[^\n]*                    # a line comment
      | /\*.*?\*/                   # a block comment
      | (\$\w*\$).*?\1              # a dollar-quoted body (functions, DO blocks)
      | ::                          # a cast, not a named parameter
      | \?                          # a positional parameter
      | :[A-Za-z_]\w*               # a named parameter
      | %                           # psycopg's own marker, literal here
    """, re.S | re.X)


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """A statement written for sqlite3 (``?`` or ``:name``) in psycopg's form (``%s`` or
    ``%(name)s``). Quoted text, comments and dollar-quoted bodies keep their ``?`` and ``:``;
    every ``%`` is doubled, inside them too, because psycopg reads the whole text for its
    markers whenever parameters are passed."""
    def one(match: re.Match) -> str:
        piece = match.group()
        if piece == "?":
            return "%s"
        if piece.startswith(":") and piece != "::":
            return f"%({piece[1:]})s"
        return piece.replace("%", "%%")
    return _TOKEN.sub(one, sql)


# ---- errors --------------------------------------------------------------------------------

class IntegrityError(sqlite3.IntegrityError):
    """A constraint, or a trigger refusing a change (append-only tables), on PostgreSQL."""


class OperationalError(sqlite3.OperationalError):
    """A lock, a pooled connection or the server not there in time, on PostgreSQL."""


class DatabaseError(sqlite3.DatabaseError):
    """Any other error PostgreSQL reports."""


def _as_sqlite_error(error: Exception) -> sqlite3.Error:
    if isinstance(error, psycopg.errors.IntegrityError | psycopg.errors.RaiseException):
        kind = IntegrityError
    elif isinstance(error, psycopg.OperationalError | PoolTimeout) \
            or (getattr(error, "sqlstate", None) or "").startswith("42"):
        # Class 42 (no such table or column, a syntax error) is SQLite's OperationalError too:
        # heartbeat.age_seconds reads a table migrations may not have made yet.
        kind = OperationalError
    else:
        kind = DatabaseError
    raised = kind(str(error).strip())
    raised.sqlstate = getattr(error, "sqlstate", None)
    return raised


# ---- the pool, one per process -------------------------------------------------------------

class _BooleanAsInteger(Dumper):
    """True and False as 1 and 0: the schema's flags are INTEGER with CHECK (x IN (0, 1)), as on
    SQLite, and the app passes Python booleans for them."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class _NumericAsNumber(Loader):
    """NUMERIC (only ever sum() or avg() of BIGINT columns: the schema has no NUMERIC column)
    as SQLite returns those: an int when whole, else a float."""

    def load(self, data) -> int | float:
        text = bytes(data).decode()
        return int(text) if text.lstrip("-").isdigit() else float(text)


def _configure(conn: psycopg.Connection) -> None:
    conn.adapters.register_dumper(bool, _BooleanAsInteger)
    conn.adapters.register_loader("numeric", _NumericAsNumber)
    conn.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")


def pool_size() -> int:
    raw = os.environ.get(POOL_SIZE_VARIABLE, "").strip() or str(DEFAULT_POOL_SIZE)
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{POOL_SIZE_VARIABLE} must be a whole number of 1 or more, not {raw!r}.")
    return int(raw)


class _Pools:
    """One ConnectionPool per address and process, opened on first use. A forked child (gunicorn
    forks its workers) opens its own: the parent's connections are sockets it shares, and the
    pools holding them are kept referenced, never closed, so no finaliser in the child sends
    the server a goodbye on the parent's behalf."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._open: dict[str, ConnectionPool] = {}
        self._inherited: list[ConnectionPool] = []

    def get(self, url: str) -> ConnectionPool:
        with self._lock:
            if self._pid != os.getpid():
                self._inherited.extend(self._open.values())
                self._open, self._pid = {}, os.getpid()
            if url not in self._open:
                self._open[url] = ConnectionPool(
                    url, min_size=1, max_size=pool_size(), timeout=WAIT_SECONDS,
                    kwargs={"autocommit": True}, configure=_configure, open=True,
                    name=f"returns-{os.getpid()}")
            return self._open[url]

    def close(self, url: str) -> None:
        """Close this process's pool for ``url``, if it opened one (a test done with a database
        of its own, before dropping it)."""
        with self._lock:
            pool = self._open.pop(url, None) if self._pid == os.getpid() else None
        if pool is not None:
            pool.close()

    def close_all(self) -> None:
        """Close this process's pools (tests, and a command that is done with the database)."""
        with self._lock:
            pools, self._open = list(self._open.values()), {}
        for pool in pools:
            pool.close()


POOLS = _Pools()


# ---- the Database surface ------------------------------------------------------------------

class Result:
    """A statement's outcome, read in full before its connection goes back to the pool: the
    part of sqlite3's cursor the store uses."""

    def __init__(self, cursor: psycopg.Cursor | None = None):
        self.description = cursor.description if cursor is not None else None
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self._rows = cursor.fetchall() if self.description else []
        self._next = 0

    @property
    def lastrowid(self):
        raise DatabaseError("PostgreSQL has no lastrowid: insert through store.db.insert "
                            "(INSERT ... RETURNING id)")

    def fetchone(self):
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple]:
        rows, self._next = self._rows[self._next:], len(self._rows)
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._next:self._next + size]
        self._next += len(rows)
        return rows

    def __iter__(self):
        return iter(self.fetchall())


class PostgresConnection:
    """What ``db.conn`` is on PostgreSQL: statements run on a pooled connection, borrowed per
    statement, or kept from BEGIN to COMMIT/ROLLBACK (see the module docstring)."""

    def __init__(self, pool: ConnectionPool):
        self._pool = pool
        self._held: psycopg.Connection | None = None
        self._id_tables: dict[str, bool] = {}

    @property
    def in_transaction(self) -> bool:
        return self._held is not None

    def execute(self, sql: str, params=None) -> Result:
        control = _TRANSACTION_CONTROL.get(" ".join(sql.upper().split()).rstrip(";"))
        if control is not None and control.startswith("BEGIN"):
            self._begin(control)
            return Result()
        if control == "commit":
            self._finish("COMMIT")
            return Result()
        if control == "rollback":
            if self._held is not None:
                self._finish("ROLLBACK")
            return Result()
        if self._held is not None:
            return self._run(self._held, sql, params)
        try:
            with self._pool.connection() as conn:
                # A lone statement is atomic by itself: autocommit, waiting only for the rows
                # it changes.
                return self._run(conn, sql, params)
        except (psycopg.Error, PoolTimeout) as error:
            raise _as_sqlite_error(error) from error

    def _run(self, conn: psycopg.Connection, sql: str, params) -> Result:
        try:
            if params is None or len(params) == 0:
                cursor = conn.execute(sql)
            else:
                cursor = conn.execute(translate(sql), params)
            return Result(cursor)
        except psycopg.Error as error:
            raise _as_sqlite_error(error) from error

    def _begin(self, begin: str) -> None:
        if self._held is not None:
            raise DatabaseError("cannot start a transaction within a transaction")
        try:
            self._held = self._pool.getconn()
        except PoolTimeout as error:
            raise _as_sqlite_error(error) from error
        try:
            self._held.execute(begin)
        except psycopg.Error as error:
            self._release()
            raise _as_sqlite_error(error) from error

    def _finish(self, statement: str) -> None:
        if self._held is None:
            raise DatabaseError(f"cannot {statement.lower()} - no transaction is active")
        try:
            self._held.execute(statement)
        except psycopg.Error as error:
            # A COMMIT refused (a deferred constraint): the transaction is over either way, as
            # PostgreSQL rolls it back; SQLite would still hold it open for our ROLLBACK.
            raise _as_sqlite_error(error) from error
        finally:
            self._release()

    def _release(self) -> None:
        conn, self._held = self._held, None
        if conn is not None:
            self._pool.putconn(conn)  # the pool rolls back anything left open

    def has_id(self, table: str) -> bool:
        """Whether ``table`` has an ``id`` column (insert returns it), asked once per table."""
        if table not in self._id_tables:
            self._id_tables[table] = self.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = ? AND column_name = 'id'", [table]).fetchone() is not None
        return self._id_tables[table]

    def close(self) -> None:
        if self._held is not None:
            self._finish("ROLLBACK")


class PostgresDatabase:
    """A thread's handle on the database (db.KeptConnections keeps one per thread, as for
    SQLite); the connections underneath belong to the process's pool."""

    engine = "postgresql"

    def __init__(self, pool: ConnectionPool):
        self.conn = PostgresConnection(pool)

    def execute(self, sql: str, params=None) -> Result:
        return self.conn.execute(sql, params)

    def insert(self, table: str, row: dict) -> int | None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        returning = " RETURNING id" if self.conn.has_id(table) else ""
        found = self.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}){returning}",
                                  list(row.values())).fetchone()
        return found[0] if found else None

    def __getitem__(self, table: str):
        raise TypeError(f'db["{table}"]: sqlite-utils\' table methods exist only on SQLite;'
                        " use the store's functions (store.db.select / insert)")

    def close(self) -> None:
        self.conn.close()


def connect(url: str) -> PostgresDatabase:
    return PostgresDatabase(POOLS.get(url))
