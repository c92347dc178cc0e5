"""The background worker: `python -m returns_app.worker`. run.py starts it beside the web app.

It does the time-driven work no request triggers, each job in its own transaction so a crash
between jobs loses nothing.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time

from . import create_app
from .database_session import get_db
from .services import returns

log = logging.getLogger("returns_app.worker")


def run_once(app) -> dict[str, int]:
    with app.app_context():
        expired = returns.expire_overdue(get_db())
    if expired:
        log.info("expired returns not sent in time: %s", expired)
    return {"expired_returns": len(expired)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between rounds")
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
    while True:
        run_once(app)
        if args.once:
            return 0
        deadline = time.monotonic() + args.interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
        if stopping:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
