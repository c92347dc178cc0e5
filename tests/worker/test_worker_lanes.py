"""The outbox is worked in lanes, one per kind of partner: a merchant's webhook server that
never answers holds up its own lane, not the customer's email queued in the same moment."""

from __future__ import annotations

import threading
import time

import pytest

from returns_app.worker import rounds as worker
from tests.builders import make_merchant, make_order, make_return
from tests.notification_helpers import smtp  # noqa: F401  (a fixture)
from tests.webhook_support import Receiver, hang, set_webhook

PATIENCE = 15  # seconds to wait for the email before calling it held up


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def outbox_status(db, kind: str) -> str:
    return db.execute("SELECT status FROM outbox WHERE kind = ?", [kind]).fetchone()[0]


@pytest.fixture
def frozen_receiver():
    """A merchant's server that takes the request and does not answer until the test ends."""
    with Receiver() as receiver:
        receiver.answer(hang(PATIENCE * 4))
        yield receiver


def test_a_hanging_webhook_endpoint_does_not_hold_up_the_customers_email(
        app, db, smtp, frozen_receiver):  # noqa: F811
    app.config["WEBHOOK_TIMEOUT"] = (1.0, PATIENCE * 2)
    merchant, _ = make_merchant(db, "Frozen Shop")
    set_webhook(db, merchant["id"], frozen_receiver.url + "/hooks")
    make_return(db, make_order(db, merchant["id"]))  # a webhook and an email, webhook first
    round_ = threading.Thread(target=worker.run_once, args=(app, "lanes-test"), daemon=True)
    round_.start()
    try:
        assert wait_for(lambda: outbox_status(db, "email") == "done", PATIENCE), \
            "the email waited for the webhook"
        assert len(smtp.messages) == 1
        assert len(frozen_receiver.received) == 1  # ... which is still waiting for an answer
        assert outbox_status(db, "webhook") == "pending"
    finally:
        frozen_receiver._stopping.set()  # let the endpoint answer, so the round can end
        round_.join(PATIENCE * 4)


def test_a_worker_works_only_the_lanes_it_is_given(app, db, smtp):  # noqa: F811
    with Receiver() as receiver:
        merchant, _ = make_merchant(db, "Split Shop")
        set_webhook(db, merchant["id"], receiver.url + "/hooks")
        make_return(db, make_order(db, merchant["id"]))
        assert worker.deliver_lanes(app, "emails-only", lanes=("emails",)) == {"email_sent": 1}
        assert receiver.received == [] and outbox_status(db, "webhook") == "pending"
        assert worker.deliver_lanes(app, "hooks-only", lanes=("webhooks",),
                                    threads={"webhooks": 2}) == {"delivered": 1}
        assert len(receiver.received) == 1


@pytest.mark.parametrize("argv", [["--lanes", "payouts,parcels"], ["--lanes", ""],
                                  ["--threads", "webhooks=0"], ["--threads", "mail=2"],
                                  ["--threads", "webhooks"]])
def test_unknown_lanes_and_bad_thread_counts_are_refused(argv):
    with pytest.raises(SystemExit) as stopped:
        worker.main([*argv, "--once"])
    assert stopped.value.code == 2
