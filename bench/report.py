"""The benchmark's verdict: which targets a run missed, its table, and the results files
(bench/results.md and .json)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict
from pathlib import Path

from .wrk_load import Result

MAX_FAILED_SHARE = 0.001
# The targets (bench/README section of the project README).
AT_LEAST_BARE = {"order_page": 0.5, "api_order": 0.5, "report_return": 0.25}
P99_AT_MOST_MS = {"merchant_inbox": 50.0, "support_queue": 50.0}
AT_LEAST_SMALL = 0.9


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


def write(out: Path, text: str, rows: list[dict], missed: list[str], args,
          by_scale: dict[int, dict[str, Result]]) -> None:
    """`out` (markdown) and the same name with .json beside it."""
    out.write_text("# Benchmark results\n\n" + text + "\n" + (
        "Missed targets:\n\n" + "".join(f"- {m}\n" for m in missed) if missed
        else "Every target holds.\n"))
    out.with_suffix(".json").write_text(json.dumps({
        "rows": rows, "missed": missed,
        "settings": {k: str(v) for k, v in vars(args).items()},
        "all": {str(k): [asdict(r) for r in v.values()] for k, v in by_scale.items()},
    }, indent=2))
