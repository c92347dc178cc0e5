"""The background worker: `python -m returns_app.worker`. run.py starts it beside the web app.

Each round: end returns not sent in time, weigh the day's reminders, and settle card checkouts
whose customer never came back to us. The outbox is worked in lanes, one per kind of partner
(payouts and debits: the provider; emails: the SMTP server; webhooks: merchants' servers), each
lane in its own threads claiming only its own kinds: a frozen provider or a merchant's server
that never answers holds up only its own lane, never a customer's email. `--lanes` picks the
lanes a process works (`--lanes payouts,debits` beside another `--lanes emails,webhooks`),
`--threads webhooks=8` how many threads a lane gets. Every round and every few seconds of a
long run of deliveries it notes that it is alive (heartbeat.py, for /readyz). Its log lines are
JSON (json_logs.py), a delivery's carrying the id of the request that asked for it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
from collections import Counter
from datetime import timedelta

from .. import create_app
from ..domain import clock, request_ids
from ..notifications import reminders
from ..provider.access import provider
from ..services import due_date_debits, payments, returns
from ..store import heartbeat, outbox
from ..store import payments as payment_rows
from ..web import json_logs
from ..web.database_session import get_db
from . import deliveries

log = logging.getLogger("returns_app.worker")
MAX_DELIVERIES_PER_ROUND = 200
CHECKOUT_GRACE = timedelta(seconds=60)
# lane -> the outbox kinds it claims
LANES: dict[str, tuple[str, ...]] = {
    "payouts": ("payout",),
    "debits": ("debit", "checkout_cancel"),  # money in: debits, and card checkouts to close
    "emails": ("email",),
    "webhooks": ("webhook",),
}
# Threads per lane: a webhook endpoint can hold a thread for its whole timeout, and one
# merchant's slow server should not hold up the others' events.
DEFAULT_THREADS = {"payouts": 1, "debits": 1, "emails": 2, "webhooks": 4}


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
                except outbox.LeaseLost as exc:
                    # Another worker took the row over; what this one found out is its to
                    # record.
                    log.warning("%s", exc)
                    outcome = "lease_lost"
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


def beat(app, owner: str) -> None:
    with app.app_context():
        heartbeat.beat(get_db(), owner, clock.now())


def settle_open_checkouts(app) -> int:
    settled = 0
    with app.app_context():
        db = get_db()
        cutoff = clock.iso(clock.now() - CHECKOUT_GRACE)
        for session_id in payment_rows.stale_checkouts(db, cutoff):
            try:
                if payments.confirm_checkout(db, provider(app), session_id)["status"] != \
                        "pending":
                    settled += 1
            except Exception:  # noqa: BLE001  (the provider is down: try next round)
                log.exception("could not settle checkout %s", session_id)
    return settled


def housekeeping(app) -> dict[str, int]:
    with app.app_context():
        expired = returns.expire_overdue(get_db())
        reminded = reminders.scan(get_db())
        due_date_debits.schedule_new_invoices(get_db())
    if expired:
        log.info("expired returns not sent in time: %s", expired)
    if reminded:
        log.info("reminders weighed: %s", dict(reminded))
    return {"expired_returns": len(expired), "checkouts_settled": settle_open_checkouts(app),
            **{f"reminders_{k}": v for k, v in reminded.items()}}


def deliver_lanes(app, owner: str, lanes=tuple(LANES),
                  threads: dict[str, int] | None = None) -> dict[str, int]:
    """One round of every lane at once, a thread per lane slot; returns when all are done.
    Every thread leases as the process (`owner`): a lease outlives any one delivery, so only
    another process can ever take a row over."""
    threads = {**DEFAULT_THREADS, **(threads or {})}
    done: Counter = Counter()
    lock = threading.Lock()

    def work(lane: str, slot: int) -> None:
        try:
            outcomes = deliver_outbox(app, owner, kinds=LANES[lane])
        except Exception:  # noqa: BLE001  (one lane's failure must not stop the others)
            log.exception("outbox lane %s failed", lane)
            return
        with lock:
            done.update(outcomes)

    workers = [threading.Thread(target=work, args=(lane, slot), name=f"lane-{lane}-{slot}",
                                daemon=True)
               for lane in lanes for slot in range(threads[lane])]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return dict(done)


def run_once(app, owner: str | None = None, lanes=tuple(LANES),
             threads: dict[str, int] | None = None) -> dict[str, int]:
    owner = owner or worker_name()
    beat(app, owner)
    delivered = deliver_lanes(app, owner, lanes, threads)
    return {**housekeeping(app), **{f"delivered_{k}": v for k, v in delivered.items()}}


def _lane_loop(app, owner: str, lane: str, slot: int, interval: float,
               stopping: threading.Event) -> None:
    """A lane's thread: work its kinds until there is nothing due, then wait a little."""
    while not stopping.is_set():
        try:
            busy = deliver_outbox(app, owner, kinds=LANES[lane])
        except Exception:  # noqa: BLE001  (one bad round must not stop the lane)
            log.exception("outbox lane %s failed", lane)
            busy = {}
        if not busy:
            stopping.wait(interval)


def _lanes_arg(text: str) -> tuple[str, ...]:
    lanes = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = set(lanes) - set(LANES)
    if unknown or not lanes:
        raise argparse.ArgumentTypeError(f"lanes are {', '.join(LANES)}")
    return lanes


def _threads_arg(text: str) -> dict[str, int]:
    try:
        pairs = dict(pair.split("=") for pair in text.split(","))
        counts = {lane: int(n) for lane, n in pairs.items()}
    except ValueError:
        raise argparse.ArgumentTypeError("write it as lane=count,lane=count") from None
    if set(counts) - set(LANES) or any(n < 1 for n in counts.values()):
        raise argparse.ArgumentTypeError(f"lanes are {', '.join(LANES)}; counts at least 1")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between rounds")
    parser.add_argument("--once", action="store_true", help="run one round and exit")
    parser.add_argument("--lanes", type=_lanes_arg, default=tuple(LANES),
                        help="outbox lanes to work, comma-separated (default: all of "
                             + ", ".join(LANES) + ")")
    parser.add_argument("--threads", type=_threads_arg, default={},
                        help="threads per lane, e.g. webhooks=8,emails=2")
    parser.add_argument("--no-housekeeping", action="store_true",
                        help="only work the outbox (when another worker process does the rest)")
    args = parser.parse_args(argv)
    json_logs.configure(logging.INFO)
    app = create_app()
    owner = worker_name()
    if args.once:
        beat(app, owner)
        delivered = deliver_lanes(app, owner, args.lanes, args.threads)
        if not args.no_housekeeping:
            housekeeping(app)
        log.info("delivered: %s", delivered)
        return 0
    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = {**DEFAULT_THREADS, **args.threads}
    lane_threads = [threading.Thread(target=_lane_loop, name=f"lane-{lane}-{slot}",
                                     args=(app, owner, lane, slot, args.interval, stopping))
                    for lane in args.lanes for slot in range(threads[lane])]
    for thread in lane_threads:
        thread.start()
    while not stopping.is_set():
        try:
            beat(app, owner)
        except Exception:  # noqa: BLE001  (a busy database: beat next round)
            log.exception("heartbeat failed")
        if not args.no_housekeeping:
            try:
                housekeeping(app)
            except Exception:  # noqa: BLE001  (one bad round must not stop the worker)
                log.exception("worker round failed")
        stopping.wait(args.interval)
    for thread in lane_threads:
        thread.join()
    return 0
