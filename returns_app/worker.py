"""The background worker: `python -m returns_app.worker`. run.py starts it beside the web app.

Each round: note that it is alive (heartbeat.py, for /readyz), end returns not sent in time,
weigh the day's reminders, deliver what the outbox holds (payouts, scheduled bank payments,
emails, webhooks), and settle card checkouts whose customer never came back to us. Its log lines
are JSON (json_logs.py), a delivery's carrying the id of the request that asked for it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import time
from datetime import timedelta

from . import clock, create_app, deliveries, heartbeat, json_logs, outbox, request_ids
from .database_session import get_db
from .notifications import reminders
from .provider_access import provider
from .services import payments, returns

log = logging.getLogger("returns_app.worker")
MAX_DELIVERIES_PER_ROUND = 200
CHECKOUT_GRACE = timedelta(seconds=60)
# Well inside heartbeat.STALE_AFTER, even with one delivery's worst case (the provider client's
# timeouts and retries, under 45 s) on top.
BEAT_DURING_ROUND_SECONDS = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_outbox(app, owner: str, limit: int = MAX_DELIVERIES_PER_ROUND,
                   kinds: tuple[str, ...] | None = None) -> dict[str, int]:
    done: dict[str, int] = {}
    with app.app_context():
        db = get_db()
        last_beat = time.monotonic()
        for _ in range(limit):
            row = outbox.claim(db, owner, kinds)
            if row is None:
                break
            # On behalf of the request that wrote the row: its id goes into these log lines,
            # the provider's calls and any row this delivery writes.
            with request_ids.bound(row["request_id"]):
                try:
                    outcome = deliveries.deliver(db, provider(app), row)
                except Exception:
                    log.exception("outbox %s %s (attempt %s) failed", row["kind"], row["id"],
                                  row["attempts"])
                    raise
                log.info("outbox %s %s (attempt %s): %s", row["kind"], row["id"],
                         row["attempts"], outcome)
            done[outcome] = done.get(outcome, 0) + 1
            # A round of many slow deliveries is still a live worker, not a stuck one.
            if time.monotonic() - last_beat > BEAT_DURING_ROUND_SECONDS:
                heartbeat.beat(db, owner, clock.now())
                last_beat = time.monotonic()
    return done


def settle_open_checkouts(app) -> int:
    settled = 0
    with app.app_context():
        db = get_db()
        cutoff = clock.iso(clock.now() - CHECKOUT_GRACE)
        for (session_id,) in db.execute(
                "SELECT provider_ref FROM payment WHERE method = 'card' AND status = 'pending'"
                " AND created_at < ? ORDER BY id LIMIT 100", [cutoff]).fetchall():
            try:
                if payments.confirm_checkout(db, provider(app), session_id)["status"] != \
                        "pending":
                    settled += 1
            except Exception:  # noqa: BLE001  (the provider is down: try next round)
                log.exception("could not settle checkout %s", session_id)
    return settled


def run_once(app, owner: str | None = None) -> dict[str, int]:
    owner = owner or worker_name()
    with app.app_context():
        heartbeat.beat(get_db(), owner, clock.now())
        expired = returns.expire_overdue(get_db())
        reminded = reminders.scan(get_db())
    if expired:
        log.info("expired returns not sent in time: %s", expired)
    if reminded:
        log.info("reminders weighed: %s", dict(reminded))
    delivered = deliver_outbox(app, owner)
    return {"expired_returns": len(expired), "checkouts_settled": settle_open_checkouts(app),
            **{f"reminders_{k}": v for k, v in reminded.items()},
            **{f"delivered_{k}": v for k, v in delivered.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--once", action="store_true", help="run one round and exit")
    args = parser.parse_args(argv)
    json_logs.configure(logging.INFO)
    app = create_app()
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    owner = worker_name()
    while True:
        try:
            run_once(app, owner)
        except Exception:  # noqa: BLE001  (one bad round must not stop the worker)
            log.exception("worker round failed")
        if args.once:
            return 0
        deadline = time.monotonic() + args.interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
