"""Prometheus metrics: requests and their latency counted per process, and the state of the
outbox, the refunds and the stuck queue read from the database when scraped.

Under gunicorn every worker process counts its own requests; prometheus-client's multiprocess
mode keeps them in files under PROMETHEUS_MULTIPROC_DIR, which a scrape of any worker adds up
(gunicorn_conf.py makes the folder and tells the library when a worker died). Which mode the
library is in is fixed when it is first imported, so this module is imported by create_app,
never at import time of the package: gunicorn's master imports the package (for
gunicorn_conf) before its on_starting hook has set the folder.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import Flask, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from ..domain import clock, stuck_rules
from ..services import dashboard, stuck
from ..store import heartbeat, outbox
from ..store.db import Database
from . import request_log

CONTENT_TYPE = CONTENT_TYPE_LATEST
NO_ROUTE = "(no route)"

REQUESTS = Counter("returns_http_requests", "HTTP requests answered, by endpoint and status",
                   ["endpoint", "method", "status"])
# Kept pages answer in a few ms, report writes in tens, the support queue under load in hundreds.
LATENCY = Histogram("returns_http_request_duration_seconds",
                    "Time from the request's arrival in the app to its answer, by endpoint",
                    ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


# Any token is a method to HTTP: a label per made-up one would let a client grow the metrics
# without end.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _observe(response):
    endpoint = request.endpoint or NO_ROUTE
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    LATENCY.labels(endpoint).observe(request_log.elapsed_seconds())
    return response


def init_app(app: Flask) -> None:
    app.after_request(_observe)


class DatabaseGauges:
    """The gauges a scrape reads from the database: the same reads the support dashboard and
    queue make, so the numbers agree with what support sees."""

    def __init__(self, db: Database, now: datetime) -> None:
        self.db = db
        self.now = now

    def collect(self):
        pending = outbox.pending_by_kind(self.db)
        failed = outbox.failed_by_kind(self.db)
        depth = GaugeMetricFamily("returns_outbox_pending",
                                  "Outbox rows waiting to be delivered, by kind", labels=["kind"])
        oldest = GaugeMetricFamily("returns_outbox_oldest_pending_age_seconds",
                                   "Age of the oldest outbox row waiting, by kind (0: none)",
                                   labels=["kind"])
        given_up = GaugeMetricFamily("returns_outbox_failed",
                                     "Outbox rows given up on after every attempt, by kind",
                                     labels=["kind"])
        for kind in sorted({*outbox.KINDS, *pending, *failed}):
            count, first = pending.get(kind, (0, None))
            depth.add_metric([kind], count)
            oldest.add_metric([kind], 0 if first is None else max(
                0.0, (self.now - clock.parse(first)).total_seconds()))
            given_up.add_metric([kind], failed.get(kind, 0))
        yield from (depth, oldest, given_up)

        refunds = GaugeMetricFamily("returns_refunds", "Refunds by state", labels=["state"])
        for state, count in dashboard.refunds_by_state(self.db).items():
            refunds.add_metric([state], count)
        yield refunds

        queue = stuck.stuck_queue(self.db, self.now, limit=0)
        yield GaugeMetricFamily("returns_stuck", "Cases in support's stuck queue",
                                value=queue.total)
        by_reason = GaugeMetricFamily("returns_stuck_by_reason",
                                      "Cases in support's stuck queue, by their main reason",
                                      labels=["reason"])
        for reason in stuck_rules.REASONS:
            by_reason.add_metric([reason], queue.counts.get(reason, 0))
        yield by_reason

        age = heartbeat.age_seconds(self.db, self.now)
        if age is not None:
            yield GaugeMetricFamily("returns_worker_heartbeat_age_seconds",
                                    "Seconds since a worker last began a round", value=age)


class _ThisProcess:
    """The default registry's metrics, when there is no multiprocess folder to read."""

    def collect(self):
        yield from REGISTRY.collect()


def exposition(db: Database) -> bytes:
    """Every metric in Prometheus' text format: all processes' counts (multiprocess mode) or this
    process's (in-process tests, `flask run`), and the database's gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseGauges(db, clock.now()))
    return generate_latest(registry)
