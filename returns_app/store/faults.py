"""The database's errors as the app catches them, on either engine, and which of them are faults
of the moment: sqlite3's classes, as PostgreSQL's errors are raised as their subclasses
(store/postgres.py), so ``Error`` and ``OperationalError`` here catch both engines'.

A fault of the moment is not the request's: the disk is full, or a lock or a connection wasn't
had in time. Nothing was stored (the transaction rolled back), so the same request may be sent
again; ``fault_of_the_moment`` says which kind, web/http_errors.py when to retry.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from ..domain.errors import Conflict

Error = sqlite3.Error
OperationalError = sqlite3.OperationalError
IntegrityError = sqlite3.IntegrityError

FULL = "full"  # the disk, or SQLite's size limit
BUSY = "busy"  # a lock, or a pooled connection, not had within the wait

_SQLITE_CODES = {sqlite3.SQLITE_FULL: FULL, sqlite3.SQLITE_BUSY: BUSY, sqlite3.SQLITE_LOCKED: BUSY}
_SQLITE_TEXTS = {"database or disk is full": FULL, "database is locked": BUSY,
                 "database table is locked": BUSY}
# PostgreSQL's SQLSTATEs: disk full and out of memory; a lock not had within lock_timeout, a
# deadlock or a serialization failure (the transaction was rolled back), too many connections;
# the server shutting down or the connection lost (classes 08 and 57P0x).
_POSTGRES_STATES = {"53100": FULL, "53200": FULL, "55P03": BUSY, "40P01": BUSY, "40001": BUSY,
                    "53300": BUSY, "57P01": BUSY, "57P02": BUSY, "57P03": BUSY}


def fault_of_the_moment(exc: OperationalError) -> str | None:
    """FULL or BUSY for a fault of the moment, None for anything else (a bug: a 500)."""
    if hasattr(exc, "sqlstate"):  # PostgreSQL's (store/postgres.py sets it, None or a state)
        state = exc.sqlstate
        if state is None:  # no answer from the server: the pool had no connection in time
            return BUSY
        return _POSTGRES_STATES.get(state) or (BUSY if state.startswith("08") else None)
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # raised by hand (or by an older driver): only the text says which
        return _SQLITE_TEXTS.get(str(exc))
    # The primary code: SQLITE_BUSY_SNAPSHOT is a SQLITE_BUSY.
    return _SQLITE_CODES.get(code & 0xFF)


# A UNIQUE constraint or primary key refusing a second row: SQLite's extended codes, PostgreSQL's
# unique_violation.
_SQLITE_UNIQUE = {2067, 1555}  # SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
_POSTGRES_UNIQUE = "23505"


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a unique constraint refused the row (another has the same key), on either
    engine: a name taken at the same instant by a concurrent creation, whose check for it
    couldn't see the other's uncommitted row."""
    if hasattr(exc, "sqlstate"):
        return exc.sqlstate == _POSTGRES_UNIQUE
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return str(exc).startswith("UNIQUE constraint failed")
    return code in _SQLITE_UNIQUE


@contextmanager
def taken_is_a_conflict(message: str) -> Iterator[None]:
    """Around the insert of a unique name inside a write transaction, after the check that it
    is free: a creation of the same name at the same instant, which that check could not see
    (READ COMMITTED on PostgreSQL), is refused by the constraint; that refusal is
    Conflict(message), as the check's is, not a 500 (the transaction rolls back either way)."""
    try:
        yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise Conflict(message) from exc
