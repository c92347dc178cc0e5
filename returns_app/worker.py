"""The background worker: `python -m returns_app.worker`. run.py starts it beside the web app.

Each round: end returns not sent in time, weigh the day's reminders, deliver what the outbox
holds (payouts, scheduled bank payments, emails), and settle card checkouts whose customer never
came back to us."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import time
from datetime import timedelta

from . import clock, create_app, deliveries, outbox
from .database_session import get_db
from .notifications import reminders
from .provider_access import provider
from .services import due_date_debits, payments, returns

log = logging.getLogger("returns_app.worker")
MAX_DELIVERIES_PER_ROUND = 200
CHECKOUT_GRACE = timedelta(seconds=60)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_outbox(app, owner: str, limit: int = MAX_DELIVERIES_PER_ROUND,
                   kinds: tuple[str, ...] | None = None) -> dict[str, int]:
    done: dict[str, int] = {}
    with app.app_context():
        db = get_db()
        for _ in range(limit):
            row = outbox.claim(db, owner, kinds)
            if row is None:
                break
            outcome = deliveries.deliver(db, provider(app), row)
            done[outcome] = done.get(outcome, 0) + 1
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
    with app.app_context():
        expired = returns.expire_overdue(get_db())
        reminded = reminders.scan(get_db())
        due_date_debits.schedule_new_invoices(get_db())
    if expired:
        log.info("expired returns not sent in time: %s", expired)
    if reminded:
        log.info("reminders weighed: %s", dict(reminded))
    delivered = deliver_outbox(app, owner or worker_name())
    return {"expired_returns": len(expired), "checkouts_settled": settle_open_checkouts(app),
            **{f"reminders_{k}": v for k, v in reminded.items()},
            **{f"delivered_{k}": v for k, v in delivered.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--once", action="store_true", help="run one round and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="worker: %(message)s")
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
