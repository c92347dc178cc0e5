"""Timing for bench/machinery.py: medians of runs taking turns, rounds to show the spread, and
a piece of the schema taken away for one measurement only."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from returns_app.store.db import Database

Timing = Callable[[], object]


def median_ms(run: Timing, repeat: int) -> float:
    return interleaved({"": run}, repeat)[""]


def interleaved(runs: dict[str, Timing], repeat: int) -> dict[str, float]:
    """Each run's median over `repeat` turns, the runs taking turns (the machine's speed drifts
    within a measurement by more than some of the differences measured)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(found) * 1000 for name, found in times.items()}


def rounds_of(measure: Callable[[], dict[str, float]], rounds: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, value in measure().items():
            found.setdefault(name, []).append(value)
    return found


def without(db: Database, statements: list[str], run: Callable[[], object]):
    """`run` with `statements` (drops) applied on `db`, all rolled back afterwards. Another
    connection still sees the database whole meanwhile (WAL: the drops are not committed)."""
    db.conn.execute("BEGIN")
    try:
        for statement in statements:
            db.conn.execute(statement)
        return run()
    finally:
        db.conn.execute("ROLLBACK")

