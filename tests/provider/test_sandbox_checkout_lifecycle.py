"""The sandbox's checkout sessions end: after 30 minutes unpaid they expire, and the shop can
cancel one that is still open (never one that is paid)."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from tests.provider.test_sandbox_provider import get, new_session, pay, post

THIRTY_MINUTES = 30 * 60


def state(sandbox, session: dict) -> dict:
    return get(sandbox, f"/v1/checkout-sessions/{session['id']}").json()


def cancel(sandbox, session_id: str, key: str | None = "cancel-1"):
    return post(sandbox, f"/v1/checkout-sessions/{session_id}/cancel", {}, key)


def test_a_session_says_when_it_expires_thirty_minutes_after_it_was_opened(sandbox):
    session = new_session(sandbox)
    found = state(sandbox, session)
    opened = datetime.fromisoformat(found["created_at"])
    assert datetime.fromisoformat(found["expires_at"]) - opened == timedelta(minutes=30)


def test_an_unpaid_session_expires_and_can_no_longer_be_paid(sandbox):
    session = new_session(sandbox)
    sandbox.advance_clock(THIRTY_MINUTES - 5)
    assert state(sandbox, session)["status"] == "open"
    sandbox.advance_clock(5)
    assert state(sandbox, session)["status"] == "expired"
    refused = pay(session)
    assert refused.status_code == 409
    assert "expired" in refused.text and "Nothing was charged" in refused.text
    assert state(sandbox, session) == {**state(sandbox, session), "status": "expired",
                                       "payment": None}
    assert "expired" in requests.get(session["url"], timeout=5).text


def test_the_shop_cancels_an_open_session_once_and_it_can_no_longer_be_paid(sandbox):
    session = new_session(sandbox)
    first = cancel(sandbox, session["id"])
    assert first.status_code == 200
    assert first.json()["status"] == "cancelled"
    again = cancel(sandbox, session["id"], key="cancel-2")
    assert (again.status_code, again.json()) == (200, first.json())
    assert pay(session).status_code == 409
    assert state(sandbox, session)["status"] == "cancelled"


def test_cancelling_an_expired_session_answers_that_it_expired(sandbox):
    session = new_session(sandbox)
    sandbox.advance_clock(THIRTY_MINUTES + 1)
    answer = cancel(sandbox, session["id"])
    assert (answer.status_code, answer.json()["status"]) == (200, "expired")


def test_a_paid_session_cannot_be_cancelled_and_the_answer_says_it_is_paid(sandbox):
    session = new_session(sandbox)
    assert pay(session).status_code == 303
    refused = cancel(sandbox, session["id"])
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"]["code"] == "checkout_session_paid"
    assert "refund" in body["error"]["message"]
    assert body["error"]["session"]["status"] == "paid"
    assert body["error"]["session"]["payment"]["card_last4"] == "4242"
    assert state(sandbox, session)["status"] == "paid"


def test_cancelling_an_unknown_session_is_404(sandbox):
    assert cancel(sandbox, "cs_nope").status_code == 404


def test_reset_puts_the_clock_back(sandbox):
    sandbox.advance_clock(THIRTY_MINUTES + 1)
    sandbox.reset()
    session = new_session(sandbox)
    assert state(sandbox, session)["status"] == "open"
