"""The outbox lease (issue #17, item 11): settling a row needs the lease the caller claimed, and a
lease outlasts the slowest call the provider client can make."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine

from returns_app.domain import clock
from returns_app.provider.client import ProviderClient, longest_call_seconds
from returns_app.store import outbox
from returns_app.store.db import BUSY_TIMEOUT_MS, write_transaction


@pytest.fixture
def row_id(db):
    with write_transaction(db):
        return outbox.enqueue(db, "email", 1)


def stolen(db):
    """Worker A's claim, and worker B's after A's lease ran out: (A's row, B's row)."""
    mine = outbox.claim(db, "worker-a")
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(seconds=1), tick=False):
        theirs = outbox.claim(db, "worker-b")
    assert (mine["id"], theirs["id"]) == (theirs["id"], mine["id"])
    return mine, theirs


def state(db, row_id):
    return db.execute("SELECT status, lease_owner, attempts, available_at, last_error FROM outbox"
                      " WHERE id = ?", [row_id]).fetchone()


@pytest.mark.parametrize("settle", [
    lambda db, row: outbox.complete(db, row),
    lambda db, row: outbox.retry_later(db, row, "timeout"),
    lambda db, row: outbox.give_up(db, row, "gone"),
], ids=["complete", "retry_later", "give_up"])
def test_a_stolen_lease_settles_nothing_and_says_so(db, row_id, settle):
    mine, theirs = stolen(db)
    before = state(db, row_id)
    with pytest.raises(outbox.LeaseLost), write_transaction(db):
        db.execute("INSERT INTO audit_event (at, actor, action, subject_kind, subject_id)"
                   " VALUES ('2026-01-01T00:00:00Z', 'worker-a', 'email.sent', 'email', 1)")
        settle(db, mine)
    assert state(db, row_id) == before
    assert before[:3] == ("pending", "worker-b", 2)
    # What A meant to record with it is gone too.
    assert db.execute("SELECT count(*) FROM audit_event WHERE actor = 'worker-a'"
                      ).fetchone()[0] == 0
    with write_transaction(db):
        outbox.complete(db, theirs)
    assert state(db, row_id)[:2] == ("done", None)


def test_the_holder_settles_its_row(db, row_id):
    row = outbox.claim(db, "worker-a")
    with write_transaction(db):
        assert outbox.retry_later(db, row, "timeout") is True
    assert state(db, row_id)[:2] == ("pending", None)


def test_a_lease_that_ran_out_unclaimed_is_still_the_callers(db, row_id):
    row = outbox.claim(db, "worker-a")
    with time_machine.travel(clock.now() + outbox.LEASE * 2, tick=False), \
            write_transaction(db):
        outbox.complete(db, row)
    assert state(db, row_id)[0] == "done"


def test_a_row_settled_once_cant_be_settled_again(db, row_id):
    row = outbox.claim(db, "worker-a")
    with write_transaction(db):
        outbox.complete(db, row)
    with pytest.raises(outbox.LeaseLost), write_transaction(db):
        outbox.give_up(db, row, "replayed")
    assert state(db, row_id)[0] == "done"


def test_the_same_worker_name_claiming_again_is_another_lease(db, row_id):
    """Threads of one process share a worker name: the attempt tells their claims apart."""
    first = outbox.claim(db, "host:1")
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(seconds=1), tick=False):
        second = outbox.claim(db, "host:1")
    with pytest.raises(outbox.LeaseLost), write_transaction(db):
        outbox.complete(db, first)
    with write_transaction(db):
        outbox.complete(db, second)


# --- how long a lease is ------------------------------------------------------------------------

def test_the_lease_outlasts_the_slowest_provider_call_and_its_transactions():
    assert longest_call_seconds() == outbox.PROVIDER_LONGEST_CALL_SECONDS
    assert outbox.LEASE.total_seconds() > (
        longest_call_seconds() + 2 * BUSY_TIMEOUT_MS / 1000)
    assert ProviderClient("http://127.0.0.1:9").longest_call_seconds == longest_call_seconds()


class Answer:
    def __init__(self, status: int, body: dict | None = None):
        self.status_code, self._body, self.reason = status, body or {}, ""

    def json(self):
        return self._body


class ScriptedProvider:
    """A session whose every request takes its whole timeout and then ends as the script says:
    "fail" (a timeout), "unsure" (409), "none" (the ask finds nothing), "found", "ok"."""

    def __init__(self, script: list[str]):
        self.script, self.used, self.elapsed, self.headers = script, 0, 0.0, {}

    def request(self, method, url, timeout, **kwargs):
        self.elapsed += sum(timeout)
        if self.used == len(self.script):
            raise LookupError(method)  # the explorer branches here
        outcome = self.script[self.used]
        self.used += 1
        if outcome == "fail":
            raise requests.Timeout()
        if method == "GET":
            return Answer(404) if outcome == "none" else Answer(200, {
                "status": "succeeded", "id": "p1", "amount": 100, "currency": "SEK",
                "reference": "r"})
        return Answer(409) if outcome == "unsure" else Answer(201, {"status": "succeeded",
                                                                     "id": "p1"})


class Slowest:
    """Full jitter at its top: every backoff as long as it can be."""

    def uniform(self, low, high):
        return high


def every_path(ask_first: bool):
    """The time of every way a payout call can go, found by trying each outcome per request."""
    pending, seen = [[]], []
    while pending:
        script = pending.pop()
        session = ScriptedProvider(script)
        slept = []
        client = ProviderClient("http://provider", session=session, sleep=slept.append,
                                rng=Slowest())
        try:
            client.send_payout("k", 100, "SEK", "r", {"kind": "swish"}, ask_first=ask_first)
        except LookupError as exc:
            choices = ("fail", "none", "found") if str(exc) == "GET" else ("fail", "unsure",
                                                                           "ok")
            pending.extend(script + [choice] for choice in choices)
            continue
        seen.append(session.elapsed + sum(slept))
    return seen


@pytest.mark.parametrize("ask_first", [False, True])
def test_no_way_a_payout_call_can_go_takes_longer_than_computed(ask_first):
    times = every_path(ask_first)
    assert len(times) > 20
    assert max(times) <= longest_call_seconds()
    # ...and the bound is not far off the real worst case.
    assert max(times) > 0.8 * longest_call_seconds()
