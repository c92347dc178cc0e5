"""Whether a merchant's webhook endpoint is answering. An event given up on after the whole
retry schedule marks its endpoint failing (once per failing spell), which the notifications
subscriber turns into an email to the merchant's staff; any delivered event marks it active."""

from __future__ import annotations

from ..domain import clock
from ..services import audit
from ..store import webhooks as webhook_rows
from ..store.db import Database

FAILING = "webhook.endpoint_failing"


def answered(db: Database, endpoint_id: int) -> None:
    """Inside the transaction that records a delivered event."""
    webhook_rows.mark_answering(db, endpoint_id)


def exhausted(db: Database, endpoint_id: int) -> None:
    """Inside the transaction that gives up on an event. Compare-and-set: only the first event
    given up on in a failing spell marks it (and emails)."""
    now = clock.now_iso()
    if webhook_rows.mark_failing(db, endpoint_id, now):
        audit.record(db, "worker", FAILING, "webhook_endpoint", endpoint_id,
                     after={"failing_since": now})
