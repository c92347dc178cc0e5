"""The stuck queue ranks and counts in SQL; the rules themselves are the pure functions in
stuck.py. Over a generated database with every kind of stuck item, at moments before and after
each threshold, both must name the same items, the same reasons and the same order."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bench import generate
from returns_app import clock
from returns_app import db as db_module
from returns_app.services import stuck

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)
MOMENTS = [NOW, NOW + timedelta(hours=1, seconds=1), NOW + timedelta(days=2),
           NOW + timedelta(days=4), NOW + timedelta(days=15), NOW - timedelta(days=20)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("stuck") / "generated.sqlite3"
    with time_machine.travel(NOW, tick=False):
        generate.build(path, 10_000, now=NOW, log=lambda *_: None)
    conn = db_module.connect(path)
    # Few generated refunds fail or wait: turn some paid ones into each state, with their
    # returns' deadlines far off, near and passed, so every rule decides some main reason.
    newest = [r[0] for r in conn.execute(
        "SELECT id FROM refund WHERE status = 'succeeded' ORDER BY id DESC LIMIT 30")]
    for offset, (status, changed) in enumerate([
            ("failed", NOW - timedelta(days=1)), ("unknown", NOW - timedelta(hours=3)),
            ("sending", NOW - timedelta(hours=2)), ("needs_details", NOW - timedelta(days=5)),
            ("ready", NOW - timedelta(days=1))]):
        conn.conn.executemany(
            "UPDATE refund SET status = ?, status_changed_at = ?, last_error = 'declined'"
            " WHERE id = ?", [(status, clock.iso(changed), i) for i in newest[offset::5]])
    conn.conn.executemany(
        "UPDATE returns SET refund_due_by = '2025-06-01'"
        " WHERE id = (SELECT return_id FROM refund WHERE id = ?)", [(i,) for i in newest[::2]])
    yield conn
    conn.close()


def _key(item: stuck.StuckItem) -> tuple:
    return item.refund_id, item.return_id, item.order_id, item.reasons


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.isoformat())
def test_the_queue_is_the_rules_applied_to_every_candidate(generated, moment):
    expected = stuck.stuck_items(generated, moment)
    page = stuck.stuck_queue(generated, moment, limit=len(expected) + 10)
    assert [_key(i) for i in page.items] == [_key(i) for i in expected]
    assert page.total == len(expected)
    assert page.counts == {code: Counter(i.reason.code for i in expected)[code]
                           for code in stuck.REASONS}


def test_the_generated_data_has_every_kind_of_stuck_item(generated):
    main = {code for moment in MOMENTS for code, count in
            stuck.stuck_queue(generated, moment, limit=0).counts.items() if count}
    assert main == set(stuck.REASONS)


def test_pages_are_slices_of_the_whole_queue(generated):
    moment = NOW + timedelta(days=4)
    expected = [_key(i) for i in stuck.stuck_items(generated, moment)]
    assert len(expected) > 10
    pages = [stuck.stuck_queue(generated, moment, limit=7, offset=offset)
             for offset in range(0, len(expected), 7)]
    assert [_key(i) for page in pages for i in page.items] == expected
    assert stuck.stuck_queue(generated, moment, limit=7, offset=len(expected)).items == []
    assert stuck.stuck_queue(generated, moment, limit=7, offset=2**70).items == []


def test_a_search_keeps_only_the_items_it_names(generated):
    moment = NOW + timedelta(days=4)
    everything = stuck.stuck_items(generated, moment)
    some = everything[::3]
    query = stuck.Search("x", frozenset(i.order_id for i in some if i.refund_id is None),
                         frozenset(i.refund_id for i in some if i.refund_id is not None))
    page = stuck.stuck_queue(generated, moment, query, limit=1000)
    assert [_key(i) for i in page.items] == [_key(i) for i in everything if query.matches(i)]
    assert stuck.stuck_queue(generated, moment, stuck.Search("x", frozenset(), frozenset())
                             ).total == 0
