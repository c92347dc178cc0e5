"""Two workers claiming from one outbox at once (two hosts, or two threads of one): every row is
claimed by exactly one of them, on either engine. On PostgreSQL the claim skips a row another
claimer holds instead of waiting for it (FOR UPDATE SKIP LOCKED, store/outbox.py)."""

from __future__ import annotations

import threading
import time

import pytest

from returns_app.store import outbox
from returns_app.store.db import connect, select, write_transaction

ROWS = 300


def fill(db, n: int) -> list[int]:
    with write_transaction(db):
        return [outbox.enqueue(db, "email", subject) for subject in range(1, n + 1)]


def claim_all(address: str, owner: str, start: threading.Barrier, claimed: list[int]) -> None:
    db = connect(address)
    try:
        start.wait(timeout=10)
        while (row := outbox.claim(db, owner)) is not None:
            claimed.append(row["id"])
    finally:
        db.close()


def test_two_claimers_at_once_take_disjoint_rows_and_all_of_them(app, db):
    ids = fill(db, ROWS)
    address = app.config["DATABASE"]
    start = threading.Barrier(2)
    claimed = {"a": [], "b": []}
    threads = [threading.Thread(target=claim_all, args=(address, f"worker-{name}", start, rows))
               for name, rows in claimed.items()]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began

    assert not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == ids
    owners = {row["id"]: row["lease_owner"] for row in select(
        db, "SELECT id, lease_owner, attempts FROM outbox WHERE attempts = 1")}
    assert len(owners) == ROWS
    assert all(owners[i] == "worker-a" for i in claimed["a"])
    print(f"\n{ROWS} rows claimed by two claimers in {took:.2f}s ({ROWS / took:.0f} claims/s;"
          f" {len(claimed['a'])} + {len(claimed['b'])})")


@pytest.mark.postgres
def test_a_claimer_passes_over_a_row_another_is_taking_without_waiting(app, db):
    from returns_app.store.db import is_postgres

    if not is_postgres(db):
        pytest.skip("SQLite's claim holds the whole database: there is nothing to pass over")
    first, second = fill(db, 2)
    other = connect(app.config["DATABASE"])
    try:
        with write_transaction(other):
            # Another host's claim of the oldest row, caught between its lock and its commit.
            other.execute("SELECT id FROM outbox WHERE id = ? FOR UPDATE", [first])
            began = time.monotonic()
            row = outbox.claim(db, "worker-b")
            waited = time.monotonic() - began
        assert row["id"] == second and waited < 1.0
        assert outbox.claim(db, "worker-b")["id"] == first  # free again once it let go
    finally:
        other.close()
