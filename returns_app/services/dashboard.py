"""The support dashboard's numbers: refunds by state, what is stuck, and how long customers waited
from reporting a return to having their money (median and 90th percentile, last 30 days), with
the distribution as bars for a small chart drawn on the server."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import clock
from ..domain.states import REFUND_STATUSES
from ..store import dashboard as dashboard_rows
from ..store.db import Database
from . import stuck

WINDOW = timedelta(days=30)
# Days from report to refund, in bins; the last one is past the legal 14 days.
BINS = ((0, 2), (2, 4), (4, 7), (7, 10), (10, 14), (14, None))


@dataclass(frozen=True)
class Bin:
    low: int
    high: int | None  # None: open-ended
    count: int


@dataclass(frozen=True)
class Dashboard:
    refunds_by_state: dict[str, int]
    stuck_by_reason: dict[str, int]
    stuck_total: int
    refunded_in_window: int
    median_days: float | None
    p90_days: float | None
    over_14_days: int
    bins: list[Bin]


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest rank: the smallest value with at least `fraction` of them at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report_to_refund_days(db: Database, now: datetime) -> list[float]:
    """For each refund of a return that succeeded in the window: days from the report."""
    rows = dashboard_rows.report_and_refund_times(db, clock.iso(now - WINDOW), clock.iso(now))
    return [(clock.parse(done) - clock.parse(reported)).total_seconds() / 86400
            for reported, done in rows]


def refunds_by_state(db: Database) -> dict[str, int]:
    """Every state, those without refunds at 0 (the dashboard and the metrics)."""
    counts = dict.fromkeys(REFUND_STATUSES, 0)
    counts.update(dashboard_rows.refund_counts_by_status(db))
    return counts


def build(db: Database, now: datetime) -> Dashboard:
    counts = refunds_by_state(db)
    page = stuck.stuck_queue(db, now, limit=0)
    days = report_to_refund_days(db, now)
    bins = [Bin(low, high, sum(1 for d in days if d >= low and (high is None or d < high)))
            for low, high in BINS]
    median = statistics.median(days) if days else None
    p90 = percentile(days, 0.9)
    return Dashboard(
        refunds_by_state=counts,
        stuck_by_reason=page.counts,
        stuck_total=page.total,
        refunded_in_window=len(days),
        median_days=round(median, 1) if median is not None else None,
        p90_days=round(p90, 1) if p90 is not None else None,
        over_14_days=sum(1 for d in days if d > 14),
        bins=bins,
    )
