"""The stuck queue ranks and counts in SQL (store/stuck_queue.py, rendered from the rules table
in domain/stuck_rules.py) over its read model; tests/stuck_oracle.py applies the same table in
Python to every row there is. Over a generated database with every kind of stuck item, at
moments before and after each threshold, both must name the same items, the same reasons and
the same order; and the read model's rows, whatever writes them, must be what the table says."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import generate
from returns_app.domain import clock, stuck_rules
from returns_app.services import stuck
from returns_app.store import db as db_module
from tests import stuck_oracle

pytestmark = pytest.mark.sqlite_only(
    reason="over a database bench/generate.py builds, which it writes as a SQLite file only;"
           " the stuck queue's PostgreSQL SQL is tests/services/test_support_stuck.py's")
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
    # Half the unknown ones are past the worker's quick retries: asked about slowly now.
    conn.conn.executemany("UPDATE refund SET provider_silent_since = ? WHERE id = ?",
                          [(clock.iso(NOW - timedelta(minutes=20)), i) for i in newest[6::10]])
    # Customers objected to destinations support chose (issue 16): some waiting, some declined.
    conn.conn.executemany(
        "UPDATE refund SET objected_at = ? WHERE id = ?",
        [(clock.iso(NOW - timedelta(hours=2 + k)), i) for k, i in enumerate(newest[::7])])
    conn.conn.executemany(
        "UPDATE returns SET refund_due_by = '2025-06-01'"
        " WHERE id = (SELECT return_id FROM refund WHERE id = ?)", [(i,) for i in newest[::2]])
    # Unmatched bank payments booked on each of the days around the moments (weekends and
    # Easter 2025 among them), some already dealt with.
    file_id = conn.execute(
        "INSERT INTO bank_file (format, file_key, sha256, account, booked, unmatched,"
        " duplicates, imported_by, imported_at) VALUES ('camt054', 'k', 's', '9912346', 0,"
        " 0, 0, 'test', ?)", [clock.iso(NOW)]).lastrowid
    for day in range(-40, 20):
        booked = (NOW + timedelta(days=day)).date().isoformat()
        conn.execute(
            "INSERT INTO bank_payment (bank_file_id, booking_key, amount_minor, currency,"
            " structured, booking_date, status, unmatched_reason, created_at) VALUES"
            " (?, ?, 100, 'SEK', 0, ?, ?, 'no_reference', ?)",
            [file_id, f"key-{day}", booked, "to_return" if day % 7 == 3 else "unmatched",
             clock.iso(NOW)])
    # Due-date debits (issue 14): some the provider never answered about after the quick
    # retries, some still being tried, some settled after a silence.
    invoices = [r[0] for r in conn.execute(
        "SELECT id FROM orders WHERE payment_method = 'invoice' ORDER BY id LIMIT 12")]
    for k, order_id in enumerate(invoices):
        status = "succeeded" if k % 4 == 3 else "scheduled"
        silent = clock.iso(NOW - timedelta(hours=k)) if k % 3 else None
        conn.execute(
            "INSERT INTO payment (order_id, amount_minor, method, status, idempotency_key,"
            " scheduled_for, provider_silent_since, created_at) VALUES"
            " (?, 100, 'bank_account', ?, ?, '2025-03-11', ?, ?)",
            [order_id, status, f"due-date:test-{k}", silent, clock.iso(NOW)])
    yield conn
    conn.close()


def _key(item: stuck.StuckItem) -> tuple:
    return (item.refund_id, item.return_id, item.unmatched_id, item.debit_id, item.order_id,
            item.reasons)


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.isoformat())
def test_the_queue_is_the_rules_applied_to_every_candidate(generated, moment):
    expected = stuck_oracle.stuck_items(generated, moment)
    page = stuck.stuck_queue(generated, moment, limit=len(expected) + 10)
    assert [_key(i) for i in page.items] == [_key(i) for i in expected]
    assert page.total == len(expected)
    assert page.counts == {code: Counter(i.reason.code for i in expected)[code]
                           for code in stuck_rules.REASONS}


def test_the_generated_data_has_every_kind_of_stuck_item(generated):
    main = {code for moment in MOMENTS for code, count in
            stuck.stuck_queue(generated, moment, limit=0).counts.items() if count}
    assert main == set(stuck_rules.REASONS)


def test_pages_are_slices_of_the_whole_queue(generated):
    moment = NOW + timedelta(days=4)
    expected = [_key(i) for i in stuck_oracle.stuck_items(generated, moment)]
    assert len(expected) > 10
    pages = [stuck.stuck_queue(generated, moment, limit=7, offset=offset)
             for offset in range(0, len(expected), 7)]
    assert [_key(i) for page in pages for i in page.items] == expected
    assert stuck.stuck_queue(generated, moment, limit=7, offset=len(expected)).items == []
    assert stuck.stuck_queue(generated, moment, limit=7, offset=2**70).items == []


def test_a_search_keeps_only_the_items_it_names(generated):
    moment = NOW + timedelta(days=4)
    everything = stuck_oracle.stuck_items(generated, moment)
    some = everything[::3]
    query = stuck.Search("x", frozenset(i.order_id for i in some if i.return_id is not None),
                         frozenset(i.refund_id for i in some if i.refund_id is not None))
    page = stuck.stuck_queue(generated, moment, query, limit=1000)
    assert [_key(i) for i in page.items] == [_key(i) for i in everything if query.matches(i)]
    assert stuck.stuck_queue(generated, moment, stuck.Search("x", frozenset(), frozenset())
                             ).total == 0


# --- stuck_candidate, the rows the ranking reads, is kept by triggers (migration m009) --------

def _kept_and_defined(conn) -> tuple[set, set]:
    kept = set(conn.execute("SELECT * FROM stuck_candidate").fetchall())
    defined = set(conn.execute("SELECT * FROM stuck_refund_source"
                               " UNION ALL SELECT * FROM stuck_return_source"
                               " UNION ALL SELECT * FROM stuck_unmatched_source"
                               " UNION ALL SELECT * FROM stuck_debit_source").fetchall())
    return kept, defined


def test_the_kept_rows_are_what_the_views_define(generated):
    kept, defined = _kept_and_defined(generated)
    assert len(kept) > 20
    assert kept == defined


def test_the_read_model_is_what_the_rules_table_says(generated):
    """The views spell the table's clock-free conditions in released migration text (not
    generated from the table: docs/design.md, "The stuck queue"); this holds the two equal."""
    assert stuck_oracle.read_model(generated) == stuck_oracle.kept_rows(generated)


_CHANGES = st.one_of(
    st.tuples(st.just("refund_status"), st.sampled_from(
        ["needs_details", "ready", "sending", "succeeded", "failed", "unknown"]),
        st.integers(0, 10**6)),
    st.tuples(st.just("refund_clock"), st.sampled_from(
        ["status_changed_at", "unknown_since", "created_at", "provider_silent_since",
         "objected_at"]),
        st.integers(0, 10**6)),
    st.tuples(st.just("refund_objection_settled"), st.just(""), st.integers(0, 10**6)),
    st.tuples(st.just("refund_return"), st.sampled_from(["another", "none"]),
              st.integers(0, 10**6)),
    st.tuples(st.just("return_status"), st.sampled_from(
        ["reported", "sent", "received", "resolved", "cancelled", "expired"]),
        st.integers(0, 10**6)),
    st.tuples(st.just("return_clock"), st.sampled_from(
        ["sent_at", "refund_due_by", "reported_at"]), st.integers(0, 10**6)),
    st.tuples(st.just("payment"), st.just(""), st.integers(0, 10**6)),
    st.tuples(st.just("new_refund"), st.sampled_from(["needs_details", "failed"]),
              st.integers(0, 10**6)),
    st.tuples(st.just("delete_refund"), st.just(""), st.integers(0, 10**6)),
    st.tuples(st.just("debit_status"), st.sampled_from(
        ["scheduled", "succeeded", "failed", "cancelled"]), st.integers(0, 10**6)),
    st.tuples(st.just("debit_silence"), st.sampled_from(["since", "answered"]),
              st.integers(0, 10**6)),
)


_KEYS = itertools.count()  # a payment's idempotency key is unique per order


def _pick(conn, sql: str, n: int):
    rows = conn.execute(sql).fetchall()
    return rows[n % len(rows)][0]


def _apply(conn, change: tuple) -> None:
    what, value, n = change
    moment = clock.iso(NOW - timedelta(minutes=n % 50_000))
    refund = _pick(conn, "SELECT id FROM refund ORDER BY id", n)
    ret = _pick(conn, "SELECT id FROM returns WHERE status IN ('sent', 'received', 'reported')"
                      " ORDER BY id", n)
    if what == "refund_status":
        conn.execute("UPDATE refund SET status = ? WHERE id = ?", [value, refund])
    elif what == "refund_clock":
        conn.execute(f"UPDATE refund SET {value} = ? WHERE id = ?", [moment, refund])
    elif what == "refund_objection_settled":
        conn.execute("UPDATE refund SET objected_at = NULL WHERE id = ?", [refund])
    elif what == "refund_return":
        conn.execute("UPDATE refund SET return_id = ? WHERE id = ?",
                     [ret if value == "another" else None, refund])
    elif what == "return_status":
        conn.execute("UPDATE returns SET status = ?, sent_at = coalesce(sent_at, ?)"
                     " WHERE id = ?", [value, moment, ret])
    elif what == "return_clock":
        conn.execute(f"UPDATE returns SET {value} = ? WHERE id = ?",
                     [moment[:10] if value == "refund_due_by" else moment, ret])
    elif what == "payment":
        conn.execute("INSERT INTO ledger_entry (order_id, kind, amount_minor, idempotency_key,"
                     " created_at) SELECT order_id, 'payment', 100, ?, ? FROM returns"
                     " WHERE id = ?", [f"hypothesis-{next(_KEYS)}", moment, ret])
    elif what == "new_refund":
        conn.execute("INSERT INTO refund (order_id, return_id, amount_minor, status, reason,"
                     " created_at, status_changed_at) SELECT order_id, id, 100, ?, 'return', ?,"
                     " ? FROM returns WHERE id = ?", [value, moment, moment, ret])
    elif what == "debit_status":
        conn.execute("UPDATE payment SET status = ? WHERE id = ?", [value, _debit(conn, n)])
    elif what == "debit_silence":
        conn.execute("UPDATE payment SET provider_silent_since = ? WHERE id = ?",
                     [moment if value == "since" else None, _debit(conn, n)])
    else:
        conn.execute("DELETE FROM refund WHERE id = ?", [refund])


def _debit(conn, n: int) -> int:
    return _pick(conn, "SELECT id FROM payment WHERE method = 'bank_account' ORDER BY id", n)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_CHANGES, min_size=1, max_size=6))
def test_every_write_a_rule_reads_keeps_the_rows_in_step(generated, changes):
    """Whatever moves a refund, a return or a payment, the kept rows stay the views' rows, and
    the rows the rules table says they must be."""
    generated.execute("SAVEPOINT changes")
    try:
        for change in changes:
            _apply(generated, change)
        kept, defined = _kept_and_defined(generated)
        assert kept == defined
        assert stuck_oracle.read_model(generated) == stuck_oracle.kept_rows(generated)
    finally:
        generated.execute("ROLLBACK TO changes")
        generated.execute("RELEASE changes")
