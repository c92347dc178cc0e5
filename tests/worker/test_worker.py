"""The worker's round: time-driven work that no request triggers."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from returns_app.domain import clock
from returns_app.worker import rounds as worker
from tests.builders import make_merchant, make_order, make_return
from tests.rows import by_id


def test_a_round_expires_returns_not_sent_in_time(app, db):
    merchant, _ = make_merchant(db)
    ret = make_return(db, make_order(db, merchant["id"]))
    assert worker.run_once(app)["expired_returns"] == 0
    with time_machine.travel(clock.parse(ret["reported_at"]) + timedelta(days=15), tick=False):
        assert worker.run_once(app)["expired_returns"] == 1
        assert worker.run_once(app)["expired_returns"] == 0
    assert by_id(db, "returns", ret["id"])["status"] == "expired"
