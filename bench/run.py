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
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from returns_app.store.db import connect
from returns_app.store.migrations import migrate

from . import generate, targets

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
HOST = "127.0.0.1"
MAX_FAILED_SHARE = 0.001
# The targets (bench/README section of the project README).
AT_LEAST_BARE = {"order_page": 0.5, "api_order": 0.5, "report_return": 0.25}
P99_AT_MOST_MS = {"merchant_inbox": 50.0, "support_queue": 50.0}
AT_LEAST_SMALL = 0.9
SECRET_KEY = "bench-" + "x" * 32  # noqa: S105  (the benchmark's throwaway servers)
WRITE_PROBE = 500  # targets the write endpoint's one-second probe may use


def gunicorn_command(app: str, port: int, workers: int) -> list[str]:
    """The production serving command (README, "Serving it in production"), on `port`."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:returns_app.gunicorn_conf",
            "--workers", str(workers), "--bind", f"{HOST}:{port}", app]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, app: str, workers: int, env: dict):
        self.port = free_port()
        # A file, not a pipe: the app logs a line per request on stderr, and a pipe nobody
        # reads fills up and stops the server.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop)
        self.proc = subprocess.Popen(gunicorn_command(app, self.port, workers), cwd=ROOT,
                                     env={**os.environ, **env},
                                     stdout=subprocess.DEVNULL, stderr=self.log)

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn exited: {self.log.read().decode()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@dataclass
class Result:
    endpoint: str
    key: str
    orders: int
    requests: int
    failed: int
    rps: float
    p50_ms: float
    p99_ms: float
    bare_rps: float | None = None  # the bare app's, measured right before this
    # p99 with one connection per worker: what one member of staff waits while every worker
    # is busy, without the queue 32 connections build in front of 4 workers
    staff_p99_ms: float | None = None


def wrk(port: int, target_file: Path, seconds: float, threads: int, connections: int
        ) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s",
         "-s", str(HERE / "load.lua"), f"http://{HOST}:{port}", "--", str(target_file),
         str(threads)], capture_output=True, text=True, check=True).stdout
    match = re.search(r"BENCH_JSON (\{.*\})", out)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    return json.loads(match[1])


def measure(endpoint: targets.Endpoint, orders: int, port: int, args, workdir: Path,
            connections: int | None = None) -> Result:
    connections = connections or args.connections
    seconds = args.duration
    if endpoint.writes:
        endpoint, seconds = _fit_writes(endpoint, port, args, workdir, connections)
    else:
        wrk(port, endpoint.write(workdir), args.warmup, args.threads, connections)
    stats = wrk(port, endpoint.write(workdir), seconds, args.threads, connections)
    failed = sum(stats[k] for k in ("connect_errors", "read_errors", "write_errors",
                                    "status_errors", "timeouts"))
    return Result(endpoint.name, endpoint.key, orders, stats["requests"], failed,
                  stats["requests"] / (stats["duration_us"] / 1e6),
                  stats["p50_us"] / 1000, stats["p99_us"] / 1000)


def _fit_writes(endpoint: targets.Endpoint, port: int, args, workdir: Path, connections: int
                ) -> tuple[targets.Endpoint, int]:
    """Each write uses its target up (a line reported for return can't be reported again), so
    a one-second probe on the first targets tells how long the rest last: the run stops well
    before they run out rather than count refusals."""
    probe = targets.Endpoint(endpoint.name, f"{endpoint.key}-probe", endpoint.lines[:WRITE_PROBE],
                             writes=True)
    rate = wrk(port, probe.write(workdir), 1, args.threads, connections)["requests"]
    rest = targets.Endpoint(endpoint.name, endpoint.key, endpoint.lines[WRITE_PROBE:],
                            writes=True)
    return rest, max(2, min(args.duration, int(0.8 * len(rest.lines) / max(rate, 1))))


def show(result: Result, workers: int) -> None:
    staff = (f"  p99 at {workers} connections {result.staff_p99_ms:.1f} ms"
             if result.staff_p99_ms is not None else "")
    print(f"  {result.endpoint:<34} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms"
          f"  p99 {result.p99_ms:6.1f} ms  failed {result.failed}{staff}", flush=True)


def database(orders: int, rebuild: bool) -> Path:
    path = DATA / f"orders-{orders}.sqlite3"
    if rebuild or not path.exists():
        print(f"Building {path.name} ...", flush=True)
        counts = generate.build(path, orders, log=lambda line: print(line, flush=True))
        print(f"  built in {counts['seconds']} s", flush=True)
    return path


def fresh_copy(source: Path, workdir: Path) -> Path:
    """Each run starts from the same data: POSTs use up their returnable lines."""
    copy = workdir / source.name
    shutil.copyfile(source, copy)
    db = connect(copy)
    # A database built before the newest migration gets it, as production would; and the
    # statistics for its new indexes, as the generator gives every index.
    if migrate(db):
        db.execute("ANALYZE")
    db.close()
    # The copy's 1.3 GB written back to disk now, not while the first endpoint is measured.
    os.sync()
    return copy


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


def prepare(orders: int, args, workdir: Path) -> Scale:
    """A fresh copy of the database at this scale, served, and the requests to load it with."""
    path = fresh_copy(database(orders, args.rebuild), workdir)
    env = {"RETURNS_ENV": "production", "RETURNS_SECRET_KEY": SECRET_KEY,
           "RETURNS_DATABASE": str(path), "RETURNS_SMTP_HOST": "127.0.0.1"}
    server = Server(SERVED, args.workers, env)
    server.wait_ready("/")
    rng = random.Random(orders)
    db = connect(path)
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
                if key in P99_AT_MOST_MS:
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


def check(by_scale: dict[int, dict[str, Result]], large: int, small: int
          ) -> tuple[list[dict], list[str]]:
    """The table's rows and every missed target."""
    rows, missed = [], []
    for key, result in by_scale[large].items():
        ratio = result.rps / result.bare_rps
        base = by_scale.get(small, {}).get(key)
        scale = result.rps / base.rps if base else None
        rows.append({"endpoint": result.endpoint, "key": key, "rps": result.rps,
                     "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
                     "staff_p99_ms": result.staff_p99_ms, "bare_rps": result.bare_rps,
                     "vs_bare": ratio,
                     "vs_small": scale, "small_rps": base.rps if base else None,
                     "failed": result.failed, "requests": result.requests})
        if key in AT_LEAST_BARE and ratio < AT_LEAST_BARE[key]:
            missed.append(f"{result.endpoint}: {_down(ratio)} of the bare app, target "
                          f"{AT_LEAST_BARE[key]}")
        if key in P99_AT_MOST_MS and result.staff_p99_ms > P99_AT_MOST_MS[key]:
            missed.append(f"{result.endpoint}: p99 {result.staff_p99_ms:.1f} ms, target "
                          f"{P99_AT_MOST_MS[key]:.0f} ms")
        if scale is not None and scale < AT_LEAST_SMALL:
            missed.append(f"{result.endpoint}: {_down(scale)} of its throughput at {small:,} "
                          f"orders, target {AT_LEAST_SMALL}")
    for results in by_scale.values():
        for result in results.values():
            if result.failed > MAX_FAILED_SHARE * max(result.requests, 1):
                missed.append(f"{result.endpoint} at {result.orders:,} orders: "
                              f"{result.failed} of {result.requests} requests failed")
    return rows, missed


def _down(ratio: float) -> str:
    """Two decimals, rounded down: a miss never prints as the target itself."""
    return f"{math.floor(ratio * 100) / 100:.2f}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def table(rows: list[dict], large: int, small: int, args) -> str:
    head = (f"| endpoint | req/s | p50 ms | p99 ms | p99 ms at {args.workers} conns |"
            f" bare app's req/s just before | × bare | × at {small:,} |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    body = "".join(
        f"| {r['endpoint']} | {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
        f" {_ms(r['staff_p99_ms'])} | {r['bare_rps']:,.0f} | {r['vs_bare']:.2f} |"
        f" {_ratio(r['vs_small'])} |\n" for r in rows)
    return (f"At {large:,} orders; gunicorn {args.workers} sync workers; wrk {args.threads}"
            f" threads, {args.connections} connections, {args.duration:g} s per endpoint on"
            f" {os.cpu_count()} cores. Each endpoint is measured at {small:,} and {large:,}"
            f" orders right after the bare Flask app. The staff pages' p99 target is checked"
            f" at one connection per worker ({args.workers}).\n\n" + head + body)


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
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is missing: `make bench` installs it (Debian package wrk).")
        return 2
    with tempfile.TemporaryDirectory(dir=DATA if DATA.exists() else None) as tmp:
        workdir = Path(tmp)
        scales = []
        try:
            for orders in dict.fromkeys(o for o in (args.small, args.orders) if o):
                scales.append(prepare(orders, args, workdir))
            same_inbox_pages(scales)
            print(flush=True)
            by_scale = measure_side_by_side(scales, args, workdir)
        finally:
            for scale in scales:
                scale.server.stop()
    rows, missed = check(by_scale, args.orders, args.small)
    text = table(rows, args.orders, args.small, args)
    print("\n" + text)
    args.out.write_text("# Benchmark results\n\n" + text + "\n" + (
        "Missed targets:\n\n" + "".join(f"- {m}\n" for m in missed) if missed
        else "Every target holds.\n"))
    args.out.with_suffix(".json").write_text(json.dumps({
        "rows": rows, "missed": missed,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "all": {str(k): [asdict(r) for r in v.values()] for k, v in by_scale.items()},
    }, indent=2))
    for line in missed:
        print(f"MISSED: {line}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
