"""The benchmark's verdict (bench/report.py): which targets a run missed, and its table."""

from __future__ import annotations

import argparse

import pytest

from bench.report import check, table
from bench.wrk_load import Result


def result(key: str, orders: int, rps: float, p99: float = 10.0, staff_p99=None,
           failed: int = 0) -> Result:
    return Result(key.replace("_", " "), key, orders, 10_000, failed, rps, 5.0, p99,
                  staff_p99_ms=staff_p99,
                  bare_rps=4000.0)


def scales(large: dict[str, Result], small: dict[str, Result]) -> dict:
    return {1_000_000: large, 10_000: small}


def test_a_run_that_meets_every_target_misses_nothing():
    large = {"order_page": result("order_page", 1_000_000, 2000),
             "report_return": result("report_return", 1_000_000, 1000),
             "merchant_inbox": result("merchant_inbox", 1_000_000, 500, p99=120, staff_p99=40)}
    small = {k: result(k, 10_000, r.rps) for k, r in large.items()}
    rows, missed = check(scales(large, small), 1_000_000, 10_000)
    assert missed == []
    assert [r["key"] for r in rows] == list(large)


def test_each_kind_of_target_is_reported_when_missed():
    large = {"order_page": result("order_page", 1_000_000, 1999),
             "report_return": result("report_return", 1_000_000, 999),
             "merchant_inbox": result("merchant_inbox", 1_000_000, 500, staff_p99=50.1),
             "support_queue": result("support_queue", 1_000_000, 80, staff_p99=20,
                                     failed=11)}
    small = {**{k: result(k, 10_000, r.rps) for k, r in large.items()},
             "support_queue": result("support_queue", 10_000, 100)}
    _rows, missed = check(scales(large, small), 1_000_000, 10_000)
    assert missed == [
        "order page: 0.49 of the bare app, target 0.5",
        "report return: 0.24 of the bare app, target 0.25",
        "merchant inbox: p99 50.1 ms, target 50 ms",
        "support queue: 0.80 of its throughput at 10,000 orders, target 0.9",
        "support queue at 1,000,000 orders: 11 of 10000 requests failed",
    ]


def test_the_table_shows_every_figure_and_the_staff_latency_column():
    large = {"merchant_inbox": result("merchant_inbox", 1_000_000, 500, p99=120, staff_p99=40)}
    rows, _ = check(scales(large, {}), 1_000_000, 10_000)
    args = argparse.Namespace(workers=4, threads=2, connections=32, duration=10)
    text = table(rows, 1_000_000, 10_000, args)
    assert "| merchant inbox | 500 | 5.0 | 120.0 | 40.0 | 4,000 | 0.12 |  |" in text
    assert "p99 ms at 4 conns" in text and "bare app's req/s just before" in text


def test_each_figure_is_compared_with_the_bare_app_measured_next_to_it():
    slow_minute = result("order_page", 1_000_000, 1000)
    slow_minute.bare_rps = 1900.0
    rows, missed = check(scales({"order_page": slow_minute}, {}), 1_000_000, 10_000)
    assert missed == [] and rows[0]["vs_bare"] == pytest.approx(1000 / 1900)


def test_only_the_inbox_pages_full_at_every_scale_are_loaded():
    from bench.run import Scale, same_inbox_pages
    from bench.targets import Endpoint

    def inbox(*pages):
        endpoint = Endpoint("merchant returns inbox", "merchant_inbox")
        for rank, status, number in pages:
            endpoint.add("GET", f"/merchant/returns?status={status}&n={number}",
                         f"session={rank}", page=(rank, status, number))
        return endpoint

    small = Scale(10_000, {}, None, {"merchant_inbox": inbox((1, "all", 1), (1, "all", 2))})
    large = Scale(1_000_000, {}, None, {"merchant_inbox": inbox(
        (1, "all", 1), (1, "overdue", 1), (1, "all", 2), (2, "all", 1))})
    same_inbox_pages([small, large])
    for scale in (small, large):
        assert scale.endpoints["merchant_inbox"].pages == [(1, "all", 1), (1, "all", 2)]
        assert len(scale.endpoints["merchant_inbox"].lines) == 2
