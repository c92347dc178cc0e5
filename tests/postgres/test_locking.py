"""PostgreSQL's locking (docs/design.md, "Locking, case by case"): no lock for the whole
database, a row lock or a key's lock only for the transactions that take the same one, and
SERIALIZABLE transactions run again, a bounded number of times, when they lose a race."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from returns_app.store import db as store_db
from returns_app.store import faults
from returns_app.store.db import (
    connect,
    insert,
    lock_keys,
    lock_rows,
    lost_a_race,
    run_serializable,
    run_transaction,
    select_one,
    write_transaction,
)

pytestmark = pytest.mark.postgres

HOLD = 0.4


def waited_for(url: str, first_locks, second_locks) -> float:
    """How long a second transaction taking `second_locks` waits while a first one holding
    `first_locks` sleeps HOLD seconds."""
    first, second = connect(url), connect(url)
    entered = threading.Event()
    waited = []

    def other():
        entered.wait()
        began = time.monotonic()
        with write_transaction(second):
            second_locks(second)
            waited.append(time.monotonic() - began)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        with write_transaction(first):
            first_locks(first)
            entered.set()
            time.sleep(HOLD)
    finally:
        thread.join()
        second.close()
        first.close()
    return waited[0]


def two_attempt_rows(pg) -> tuple[int, int]:
    return (insert(pg, "lookup_attempt", {"bucket": "lock-test", "at": "2026-01-01"}),
            insert(pg, "lookup_attempt", {"bucket": "lock-test", "at": "2026-01-01"}))


def test_writers_no_longer_wait_for_each_other(migrated_url):
    assert waited_for(migrated_url, lambda db: None, lambda db: None) < HOLD / 2


def test_a_locked_row_makes_the_next_locker_of_it_wait_and_no_one_else(pg, migrated_url):
    one, two = two_attempt_rows(pg)
    assert waited_for(migrated_url, lambda db: lock_rows(db, "lookup_attempt", one),
                      lambda db: lock_rows(db, "lookup_attempt", one)) >= HOLD * 0.75
    assert waited_for(migrated_url, lambda db: lock_rows(db, "lookup_attempt", one),
                      lambda db: lock_rows(db, "lookup_attempt", two)) < HOLD / 2


def test_a_locked_key_makes_the_next_locker_of_it_wait_and_no_one_else(migrated_url):
    assert waited_for(migrated_url, lambda db: lock_keys(db, "sign-in:a"),
                      lambda db: lock_keys(db, "sign-in:a", "sign-in:b")) >= HOLD * 0.75
    assert waited_for(migrated_url, lambda db: lock_keys(db, "sign-in:a"),
                      lambda db: lock_keys(db, "sign-in:b")) < HOLD / 2


def test_the_same_rows_locked_in_any_order_never_deadlock(pg, migrated_url):
    one, two = two_attempt_rows(pg)
    waited = waited_for(migrated_url, lambda db: lock_rows(db, "lookup_attempt", two, one),
                        lambda db: lock_rows(db, "lookup_attempt", one, two))
    assert waited >= HOLD * 0.75  # queued behind, not aborted


def crosswise(url: str, one: int, two: int, transact) -> tuple[dict, dict]:
    """Two transactions on two connections lock rows `one` and `two` in opposite orders, each
    holding its first before either asks for its second: a real deadlock, which PostgreSQL
    ends (after deadlock_timeout, 1 s) by rolling one back. `transact(db, work)` runs each;
    what each returned or raised, and how often each body ran."""
    both_hold = threading.Barrier(2)
    runs = {"a": 0, "b": 0}
    outcomes: dict = {}

    def side(name: str, first: int, second: int):
        def work(db):
            runs[name] += 1
            lock_rows(db, "lookup_attempt", first)
            if runs[name] == 1:
                both_hold.wait(timeout=5)
            lock_rows(db, "lookup_attempt", second)
            return name
        db = connect(url)
        try:
            outcomes[name] = transact(db, work)
        except sqlite3.Error as error:
            outcomes[name] = error
        finally:
            db.close()

    threads = [threading.Thread(target=side, args=("a", one, two)),
               threading.Thread(target=side, args=("b", two, one))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes, runs


def in_a_with_block(db, work):
    with write_transaction(db):
        return work(db)


def test_a_deadlocks_victim_in_run_transaction_is_run_again_and_both_finish(pg, migrated_url):
    outcomes, runs = crosswise(migrated_url, *two_attempt_rows(pg), run_transaction)
    assert outcomes == {"a": "a", "b": "b"}
    assert sorted(runs.values()) == [1, 2]  # the victim's body ran again, the other's once


def test_a_deadlocks_victim_in_a_with_block_is_a_fault_of_the_moment(pg, migrated_url):
    """Not run again (only its caller holds its body): the 503 with Retry-After, nothing of it
    stored (web/http_errors.py)."""
    outcomes, runs = crosswise(migrated_url, *two_attempt_rows(pg), in_a_with_block)
    [victim] = [outcome for outcome in outcomes.values() if isinstance(outcome, Exception)]
    assert isinstance(victim, faults.OperationalError) and victim.sqlstate == "40P01"
    assert lost_a_race(victim) and faults.fault_of_the_moment(victim) == faults.BUSY
    assert runs == {"a": 1, "b": 1}


def test_write_skew_is_caught_and_run_again(migrated_url):
    """The textbook race a row lock can't stop (both read that no row is there, both insert
    one): SERIALIZABLE aborts one of the two, run_serializable runs it again, and the second
    run sees the first's row."""
    bucket = f"skew-{time.monotonic_ns()}"
    both_read = threading.Barrier(2)
    runs: list[str] = []
    outcomes: dict[str, int] = {}

    def work(name: str):
        def once(db):
            runs.append(name)
            seen = select_one(db, "SELECT count(*) AS n FROM lookup_attempt WHERE bucket = ?",
                              [bucket])["n"]
            if runs.count(name) == 1:
                both_read.wait(timeout=5)  # the first run of each reads before either writes
            insert(db, "lookup_attempt", {"bucket": bucket, "at": f"{seen}"})
            return seen
        db = connect(migrated_url)
        try:
            outcomes[name] = run_serializable(db, once)
        finally:
            db.close()

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == [0, 1]  # one saw nothing, the other saw its row
    assert len(runs) == 3


def test_a_transaction_that_keeps_losing_is_given_up_after_its_attempts(pg, monkeypatch):
    monkeypatch.setattr(store_db.time, "sleep", lambda seconds: None)
    calls = []

    def always_loses(db):
        calls.append(1)
        error = sqlite3.OperationalError("could not serialize access")
        error.sqlstate = "40001"
        raise error

    with pytest.raises(sqlite3.OperationalError, match="serialize"):
        run_serializable(pg, always_loses, attempts=3)
    assert len(calls) == 3
    assert not pg.conn.in_transaction


def test_any_other_error_is_not_run_again(pg):
    calls = []

    def fails(db):
        calls.append(1)
        raise sqlite3.IntegrityError("a constraint")

    with pytest.raises(sqlite3.IntegrityError):
        run_serializable(pg, fails)
    assert len(calls) == 1
