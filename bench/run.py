"""The load benchmark, one command: `python -m bench.run` (or `make bench`).

Builds (or reuses) databases of 10,000 and 1,000,000 orders under bench/data/, serves the app
from a fresh copy of each with gunicorn and the production settings the README documents, and
loads six endpoints with wrk from loopback; in the same run it serves a bare Flask app under the
same gunicorn settings, measured again right before each endpoint, which is then measured at both
scales back to back. Prints requests per second and p50/p99 latency per endpoint, each as a
ratio to the bare app and (at 1,000,000 orders) to its own figure at 10,000 orders; also the
order page with nothing kept and the app's stack answering an empty page; writes
bench/results.md and bench/results.json; exits 1 if a target is missed or more than a tiny
fraction of the requests failed.

With `--engine postgresql` the app is served from a throwaway PostgreSQL cluster instead
(scripts/postgres_cluster.py, durable): each generated database is loaded into a template there
(bench/postgres_load.py, its rows checked equal), each scale served from a copy of it, and the
results go to bench/results-postgresql.md and .json.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from returns_app.store.db import connect

from . import report, targets
from .served_data import DATA, WEB_POOL_SIZE, PostgresCopies, SqliteCopies
from .servers import HOST, Server
from .wrk_load import WRITE_PROBE, Result, measure, show

HERE = Path(__file__).resolve().parent
RESULTS = {"sqlite": "results.md", "postgresql": "results-postgresql.md"}
SECRET_KEY = "bench-" + "x" * 32  # noqa: S105  (the benchmark's throwaway servers)


SERVED = "returns_app:create_app()"
# In the order they are measured; the support queue signs in right before its turn (the
# console ends a session idle for 15 minutes).
MEASURED = ("order_page", "api_order", "return_page", "merchant_inbox", "support_queue",
            "report_return")


@dataclass
class Scale:
    orders: int
    env: dict
    server: Server
    endpoints: dict[str, targets.Endpoint]


def prepare(orders: int, args, workdir: Path, data: SqliteCopies | PostgresCopies) -> Scale:
    """A fresh copy of the database at this scale, served, and the requests to load it with."""
    served = data.fresh(orders, args.rebuild, workdir)
    env = {"RETURNS_ENV": "production", "RETURNS_SECRET_KEY": SECRET_KEY,
           "RETURNS_SMTP_HOST": "127.0.0.1", **served.env}
    server = Server(SERVED, args.workers, env)
    server.wait_ready("/")
    rng = random.Random(orders)
    db = connect(served.rows_from)
    print(f"{orders:,} orders: signing in and picking targets ...", flush=True)
    order_page, return_page = targets.customer_pages(db, HOST, server.port, rng)
    endpoints = [order_page, targets.api_order(db, HOST, server.port, rng, args.spread),
                 return_page, targets.merchant_inbox(db, HOST, server.port),
                 targets.report_return(db, HOST, server.port, rng, args.post_targets)]
    db.close()
    return Scale(orders, env, server, {e.key: e for e in endpoints})


def same_inbox_pages(scales: list[Scale]) -> None:
    """The inbox pages full at every scale, and only those: at 10,000 orders only the busiest
    filters fill a page, and the others (overdue, to receive: rows with more on them) would
    otherwise be measured at 1,000,000 only."""
    inboxes = [scale.endpoints["merchant_inbox"] for scale in scales]
    common = set.intersection(*(set(inbox.pages) for inbox in inboxes))
    for inbox in inboxes:
        inbox.only_pages(common)
    print(f"merchant inbox: {len(common)} pages full at every scale", flush=True)


def measure_side_by_side(scales: list[Scale], args, workdir: Path) -> dict[int, dict]:
    """Each endpoint at every scale back to back, right after the bare app: the machine's
    speed drifts over a run by more than the differences the targets are about, so each figure
    is compared with neighbours measured within the same half minute."""
    # The same gunicorn configuration refuses to start without a secret, whatever it serves.
    bare = Server("bench.bare_app:app", args.workers, {"RETURNS_SECRET_KEY": SECRET_KEY})
    by_scale: dict[int, dict] = {scale.orders: {} for scale in scales}
    try:
        bare.wait_ready("/")
        for key in MEASURED:
            baseline = _bare(bare.port, args, workdir)
            for scale in scales:
                endpoint = (targets.support_queue(HOST, scale.server.port)
                            if key == "support_queue" else scale.endpoints[key])
                result = measure(endpoint, scale.orders, scale.server.port, args, workdir)
                if key in report.P99_AT_MOST_MS:
                    result.staff_p99_ms = measure(endpoint, scale.orders, scale.server.port,
                                                  args, workdir, args.workers).p99_ms
                _note_refusals(endpoint, result)
                result.bare_rps = baseline.rps
                show(result, args.workers)
                by_scale[scale.orders][key] = result
        for scale in scales:
            scale.server.stop()
        for key, app, env_extra, make in (
                ("order_page_first", SERVED, {"RETURNS_PAGE_CACHE_SIZE": "0"}, first_views),
                ("stack_floor", "bench.floor_app:app", {}, stack_floor)):
            baseline = _bare(bare.port, args, workdir)
            for scale in scales:
                result = served_alone(app, {**scale.env, **env_extra},
                                      make(scale.endpoints["order_page"]), scale.orders, args,
                                      workdir)
                result.bare_rps = baseline.rps
                by_scale[scale.orders][key] = result
    finally:
        bare.stop()  # the scales' servers: main() stops them, however this ends
    return by_scale


def _bare(port: int, args, workdir: Path) -> Result:
    endpoint = targets.Endpoint("bare Flask app", "bare")
    endpoint.add("GET", "/")
    result = measure(endpoint, 0, port, args, workdir)
    show(result, args.workers)
    return result


def _note_refusals(endpoint: targets.Endpoint, result: Result) -> None:
    if endpoint.writes and result.requests > len(endpoint.lines) - WRITE_PROBE:
        print(f"  {endpoint.name}: only {len(endpoint.lines) - WRITE_PROBE} targets for "
              f"{result.requests} requests: the rest were refused", flush=True)


def first_views(order_page: targets.Endpoint) -> targets.Endpoint:
    """The order page with nothing kept (RETURNS_PAGE_CACHE_SIZE=0): every view rendered, as
    the first view of an order is. The replay above shows each page many times over."""
    return targets.Endpoint("customer order page, nothing kept", "order_page_first",
                            order_page.lines)


def stack_floor(order_page: targets.Endpoint) -> targets.Endpoint:
    """bench/floor_app.py with the order page's signed-in cookies: what any signed-in page of
    this stack can reach at best."""
    endpoint = targets.Endpoint("the app's stack, empty page (signed in)", "stack_floor")
    for line in order_page.lines:
        method, _path, cookie, *_rest = line.split("\t")
        endpoint.add(method, "/_floor", cookie)
    return endpoint


def served_alone(app: str, env: dict, endpoint: targets.Endpoint, orders: int, args,
                 workdir: Path) -> Result:
    """`endpoint` measured on a server of its own running `app`."""
    server = Server(app, args.workers, env)
    try:
        server.wait_ready("/")
        result = measure(endpoint, orders, server.port, args, workdir)
    finally:
        server.stop()
    show(result, args.workers)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000,
                        help="the scale each endpoint is compared with (0: skip)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--spread", type=int, default=500,
                        help="orders the API GET is spread over")
    parser.add_argument("--post-targets", type=int, default=8000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: served from a throwaway PostgreSQL cluster the"
                             " generated databases are loaded into")
    parser.add_argument("--pg-ports", help="the cluster's port from this range, e.g."
                                           " 55400-55499 (default: any free port)")
    parser.add_argument("--out", type=Path, help="default bench/results.md (sqlite),"
                                                 " bench/results-postgresql.md (postgresql)")
    args = parser.parse_args(argv)
    args.out = args.out or HERE / RESULTS[args.engine]
    if not shutil.which("wrk"):
        print("wrk is missing: `make bench` installs it (Debian package wrk).")
        return 2
    with contextlib.ExitStack() as stack:
        data = _engine(args, stack)
        workdir = Path(stack.enter_context(
            tempfile.TemporaryDirectory(dir=DATA if DATA.exists() else None)))
        scales = []
        try:
            for orders in dict.fromkeys(o for o in (args.small, args.orders) if o):
                scales.append(prepare(orders, args, workdir, data))
            same_inbox_pages(scales)
            print(flush=True)
            by_scale = measure_side_by_side(scales, args, workdir)
        finally:
            for scale in scales:
                scale.server.stop()
        engine = _on_postgres(data) if isinstance(data, PostgresCopies) else ""
    rows, missed = report.check(by_scale, args.orders, args.small)
    text = engine + report.table(rows, args.orders, args.small, args)
    print("\n" + text)
    report.write(args.out, text, rows, missed, args, by_scale)
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


def _engine(args, stack: contextlib.ExitStack) -> SqliteCopies | PostgresCopies:
    """Where the scales are served from; a PostgreSQL cluster started for the run, stopped
    and removed with it."""
    if args.engine == "sqlite":
        return SqliteCopies()
    from scripts import postgres_cluster

    # Durable, as production: fsync and synchronous commits on (the test cluster has them off).
    url = stack.enter_context(postgres_cluster.cluster(
        postgres_cluster.parse_ports(args.pg_ports), durable=True))
    return PostgresCopies(url)


def _on_postgres(data: PostgresCopies) -> str:
    loads = ", ".join(f"{orders:,} orders in {seconds:g} s"
                      for orders, seconds in data.load_seconds.items())
    return (f"On PostgreSQL {data.server_version()} (a throwaway cluster with the server's"
            f" default settings, durable), {WEB_POOL_SIZE} pooled connections per worker;"
            f" loaded from the generated SQLite files ({loads}). ")


if __name__ == "__main__":
    sys.exit(main())
