"""One endpoint loaded with wrk (bench/load.lua replays its target file) and what wrk printed,
read back as requests per second, p50/p99 latency and failures."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import targets
from .servers import HOST

HERE = Path(__file__).resolve().parent
WRITE_PROBE = 500  # targets the write endpoint's one-second probe may use


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
