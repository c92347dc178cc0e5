"""The worker as a real process against the real sandbox provider: killed with SIGKILL in the
middle of paying refunds out, restarted, and through every failure mode the provider has. Each
refund is paid out exactly once, and none is lost.

Leases: the worker reads RETURNS_OUTBOX_LEASE_SECONDS (returns_app/store/outbox.py, default
60); these tests run it with a 2 s lease, shorter than the sandbox's 3 s hang, so a restarted
worker also takes over rows whose first call is still hanging at the provider. Retry backoff
(10 s and up, returns_app/store/outbox.retry_later) is not shortened in the code: while
draining, the test moves `available_at` of rows waiting out a backoff to now, as if that time
had passed."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from returns_app.domain import clock
from returns_app.services import decisions
from returns_app.store.db import select
from returns_app.worker.deliveries import payout_key
from tests.builders import make_merchant, make_order, make_return
from tests.databases import Owned
from tests.store.test_concurrency import JEANS, JEANS_PRICE, accept_jeans, app_env

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
HANG_SECONDS = 3.0  # the sandbox's "timeout" mode: each payout call hangs this long, then executes
KILLS = 10
REFUNDS = 12


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def seed_refunds(database: Owned, n: int) -> list[int]:
    """n card orders (paid at purchase), each with its jeans returned and accepted: n refunds of
    799 kr, ready, each with its payout in the outbox."""
    db = database.connect()
    try:
        merchant, _ = make_merchant(db, "Crash Shop")
        for i in range(n):
            order = make_order(db, merchant["id"], merchant_reference=f"CRASH-{i}",
                               payment_method="card",
                               customer={"email": f"crash{i}@example.se", "name": "Kim Kund"})
            ret = make_return(db, order, {JEANS: 1})
            decisions.register(db, merchant["id"], ret["id"], accept_jeans(ret), actor="test")
        refunds = list(select(db, "SELECT id, status, amount_minor FROM refund ORDER BY id"))
        assert [(r["status"], r["amount_minor"]) for r in refunds] == [("ready", JEANS_PRICE)] * n
        assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout' AND status ="
                          " 'pending'").fetchone()[0] == n
        return [r["id"] for r in refunds]
    finally:
        db.close()


class Worker:
    """`python -m returns_app.worker --interval 0.2` as a subprocess."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "returns_app.worker", "--interval", "0.2"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        # The lease owner the worker writes into the outbox: returns_app.worker.worker_name().
        self.owner = f"{socket.gethostname()}:{self.proc.pid}"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@contextlib.contextmanager
def running_worker(env: dict[str, str], log: Path):
    worker = Worker(env, log)
    try:
        yield worker
    finally:
        worker.stop()


def refunds_by_id(db) -> dict[int, dict]:
    return {r["id"]: dict(r) for r in select(db, "SELECT * FROM refund ORDER BY id")}


def mid_delivery(db, sandbox, owner: str) -> int | None:
    """The refund this worker is paying out right now: its outbox row leased to `owner`, the
    refund marked sending, and a payout request for its key at the provider not yet executed."""
    rows = list(select(db,
        "SELECT refund.* FROM outbox JOIN refund ON refund.id = outbox.subject_id"
        " WHERE outbox.kind = 'payout' AND outbox.status = 'pending'"
        " AND outbox.lease_owner = ? AND refund.status = 'sending'", [owner]))
    if not rows:
        return None
    ledger = sandbox.ledger()
    for refund in rows:
        key = payout_key(refund)
        if ledger["requests_per_key"].get(key) and key not in ledger["executions_per_key"]:
            return refund["id"]
    return None


def fast_forward_backoffs(db) -> None:
    """Rows waiting out a retry backoff become deliverable now (as if the time had passed)."""
    now = clock.now_iso()
    db.execute("UPDATE outbox SET available_at = ? WHERE status = 'pending' AND"
               " lease_owner IS NULL AND available_at > ?", [now, now])


def drained(db) -> bool:
    fast_forward_backoffs(db)
    return db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout' AND status = 'pending'"
                      ).fetchone()[0] == 0


def assert_paid_out_exactly_once(db, sandbox, refund_ids: list[int]) -> dict:
    """Every refund succeeded with one payout at the provider; every outbox row is done."""
    outbox = {r["subject_id"]: (r["status"], r["last_error"])
              for r in select(db, "SELECT * FROM outbox WHERE kind = 'payout'")}
    assert {rid: outbox[rid][0] for rid in refund_ids} == dict.fromkeys(refund_ids, "done"), \
        outbox
    refunds = refunds_by_id(db)
    assert {rid: refunds[rid]["status"] for rid in refund_ids} == \
        dict.fromkeys(refund_ids, "succeeded"), refunds
    ledger = sandbox.ledger()
    assert all(n <= 1 for n in ledger["executions_per_key"].values()), \
        ledger["executions_per_key"]
    for rid in refund_ids:
        refund = refunds[rid]
        key = payout_key(refund)
        assert ledger["money_moved_per_key"].get(key) == 1, (rid, ledger["money_moved_per_key"])
        paid = [e for e in ledger["executions"]
                if e["reference"] == f"refund-{rid}" and e["status"] == "succeeded"]
        assert len(paid) == 1, (rid, paid)
        assert (paid[0]["id"], paid[0]["amount"]) == (refund["provider_payout_id"],
                                                     refund["amount_minor"])
    assert len(ledger["executions"]) == len(refund_ids), ledger["executions"]
    return ledger


def test_a_worker_killed_mid_payout_ten_times_pays_every_refund_once(tmp_path, owned_database,
                                                                     sandbox):
    refund_ids = seed_refunds(owned_database, REFUNDS)
    env = app_env(owned_database.address, sandbox.url) | {
        "RETURNS_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS)}
    log = tmp_path / "worker.log"
    sandbox.mode("timeout", delay=HANG_SECONDS)
    db = owned_database.connect()
    kills: list[int] = []
    try:
        started = time.monotonic()
        while len(kills) < KILLS:
            with running_worker(env, log) as worker:
                refund_id = wait_for(lambda w=worker: mid_delivery(db, sandbox, w.owner), 20,
                                     f"kill {len(kills) + 1}: a payout in flight\n"
                                     f"{log.read_text()[-3000:]}")
                worker.kill()
                kills.append(refund_id)
        killing = time.monotonic() - started
        # Every kill left its refund mid-flight: sending (or settled by a takeover meanwhile).
        assert len(kills) == KILLS
        assert {refunds_by_id(db)[rid]["status"] for rid in kills} <= \
            {"sending", "unknown", "succeeded"}

        sandbox.mode("normal")
        with running_worker(env, log):
            wait_for(lambda: drained(db), 60, f"the outbox to drain\n{log.read_text()[-3000:]}",
                     interval=0.1)
        total = time.monotonic() - started
        ledger = assert_paid_out_exactly_once(db, sandbox, refund_ids)
        attempts = [r["attempts"] for r in select(db, "SELECT attempts FROM outbox"
                                                    " WHERE kind = 'payout'")]
        assert max(attempts) < 8, attempts
        assert "worker round failed" not in log.read_text(), log.read_text()[-3000:]
        print(f"\n{KILLS} kills in {killing:.1f}s (refunds hit: {kills}); drained after "
              f"{total:.1f}s; outbox attempts {attempts}; payout requests "
              f"{sum(ledger['requests_per_key'].values())}, lookups "
              f"{sum(ledger['lookups_per_key'].values())}")
    finally:
        db.close()


@pytest.mark.parametrize(("mode", "times", "expected"), [
    ("decline", None, "failed"),
    ("error_500", 2, "succeeded"),
    ("lost_response", 1, "succeeded"),
])
def test_each_provider_failure_through_the_worker_process(tmp_path, owned_database, sandbox,
                                                          mode, times, expected):
    refund_ids = seed_refunds(owned_database, 2)
    log = tmp_path / "worker.log"
    sandbox.mode(mode, times=times)
    db = owned_database.connect()
    try:
        with running_worker(app_env(owned_database.address, sandbox.url), log):
            wait_for(lambda: db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout'"
                                        " AND status = 'pending'").fetchone()[0] == 0, 30,
                     f"the payouts to be delivered\n{log.read_text()[-3000:]}", interval=0.05)
        refunds = refunds_by_id(db)
        outbox = {r["subject_id"]: r["status"]
                  for r in select(db, "SELECT * FROM outbox WHERE kind = 'payout'")}
        ledger = sandbox.ledger()
        if expected == "succeeded":
            assert_paid_out_exactly_once(db, sandbox, refund_ids)
        else:
            assert {rid: (refunds[rid]["status"], outbox[rid]) for rid in refund_ids} == \
                dict.fromkeys(refund_ids, ("failed", "done"))
            assert [(e["reference"], e["status"]) for e in ledger["executions"]] == \
                [(f"refund-{rid}", "declined") for rid in refund_ids]
            assert ledger["money_moved_per_key"] == {}
            assert all(refunds[rid]["last_error"] for rid in refund_ids)
        first_key = payout_key(refunds[refund_ids[0]])
        assert ledger["executions_per_key"] == {payout_key(refunds[rid]): 1
                                                for rid in refund_ids}
        if mode == "error_500":
            # Two 500s (nothing executed), asked each time, then sent again with the same key.
            assert ledger["requests_per_key"][first_key] == 3
            assert ledger["lookups_per_key"][first_key] == 2
        if mode == "lost_response":
            # Executed, the answer lost: asked, found, never sent again.
            assert ledger["requests_per_key"][first_key] == 1
            assert ledger["lookups_per_key"][first_key] >= 1
    finally:
        db.close()
