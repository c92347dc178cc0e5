"""The sandbox provider keeps its records in its own SQLite file: a restart (clean, or a crash)
forgets no payout, debit, checkout session or idempotent answer, so the app's "ask the provider"
path means the same before and after."""

from __future__ import annotations

import signal

import pytest
import requests

from returns_app.provider.sandbox.store import default_path
from tests.provider.test_sandbox_provider import get, new_session, pay, payout_body, post
from tests.sandbox_fixtures import free_port, start_sandbox, stop_sandbox


@pytest.fixture
def restartable(tmp_path):
    """start(): the sandbox on one port and one database file; it may be stopped and started
    again. Everything started is stopped at the end."""
    port, database, procs = free_port(), tmp_path / "sandbox.sqlite3", []

    def start():
        proc, server = start_sandbox(tmp_path / "sandbox.log", port=port, database=database)
        procs.append(proc)
        return proc, server

    yield start
    for proc in procs:
        stop_sandbox(proc)


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_a_restart_forgets_nothing(restartable, how):
    proc, sandbox = restartable()
    payout = post(sandbox, "/v1/payouts", payout_body(), "refund-1").json()
    debit = post(sandbox, "/v1/debits", {"amount": 50_000, "currency": "SEK",
                                         "reference": "order-1",
                                         "bank_account": {"clearing_number": "8327",
                                                     "account_number": "9412345678"}},
                 "debit-1")
    assert debit.status_code == 201, debit.text
    session = new_session(sandbox, "cs-1")
    assert pay(session).status_code == 303
    before = sandbox.ledger()

    if how == "sigkill":
        proc.send_signal(signal.SIGKILL)  # a crash: nothing is flushed on the way out
        proc.wait(timeout=5)
    else:
        assert stop_sandbox(proc) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(sandbox.url + "/_sandbox/mode", timeout=2)
    _proc, sandbox = restartable()

    assert get(sandbox, f"/v1/payouts/{payout['id']}").json() == payout
    assert get(sandbox, "/v1/payouts", idempotency_key="refund-1").json() == payout
    assert get(sandbox, f"/v1/debits/{debit.json()['id']}").json() == debit.json()
    assert get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()["status"] == "paid"
    # A retry with the same key after the restart is answered from the record: not paid twice.
    again = post(sandbox, "/v1/payouts", payout_body(), "refund-1")
    assert again.status_code == 201 and again.json() == payout
    after = sandbox.ledger()
    assert after["executions"] == before["executions"]
    assert after["money_moved_per_key"] == {"refund-1": 1, "debit-1": 1}
    assert after["requests_per_key"]["refund-1"] == before["requests_per_key"]["refund-1"] + 1


def test_reset_empties_the_file_too(restartable):
    proc, sandbox = restartable()
    payout = post(sandbox, "/v1/payouts", payout_body(), "refund-1").json()
    sandbox.reset()
    stop_sandbox(proc)
    _proc, sandbox = restartable()
    assert get(sandbox, f"/v1/payouts/{payout['id']}").status_code == 404
    assert sandbox.ledger()["executions"] == []


def test_where_the_records_are_kept_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("RETURNS_SANDBOX_DATABASE", raising=False)
    monkeypatch.delenv("RETURNS_DATABASE", raising=False)
    assert str(default_path()) == "instance/sandbox-provider.sqlite3"
    monkeypatch.setenv("RETURNS_DATABASE", str(tmp_path / "returns.sqlite3"))
    assert default_path() == tmp_path / "sandbox-provider.sqlite3"
    monkeypatch.setenv("RETURNS_SANDBOX_DATABASE", str(tmp_path / "elsewhere.sqlite3"))
    assert default_path() == tmp_path / "elsewhere.sqlite3"
