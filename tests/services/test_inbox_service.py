"""The inbox queries (plain pytest): indexed, keyset pages without gaps or repeats, counts that
agree with the lists; and marking several returns received at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returns_app.domain.errors import Invalid, NotFound
from returns_app.domain.states import RETURN_STATUSES
from returns_app.services import arrivals, decisions, inbox, returns
from returns_app.services.orders import Viewer
from returns_app.store import inbox as inbox_rows
from returns_app.store.db import connect
from returns_app.store.migrations import migrate
from tests.builders import make_merchant, make_order, make_return


@pytest.fixture
def mem():
    db = connect(":memory:")
    migrate(db)
    return db


def plan(db, sql: str, params) -> str:
    return " | ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.sqlite_only(reason="reads SQLite's query plan (EXPLAIN QUERY PLAN) on a database in"
                                " memory; PostgreSQL plans by its statistics")
@pytest.mark.parametrize("status", inbox.FILTERS)
@pytest.mark.parametrize("search", [None, "123-456-789"])
def test_every_list_and_count_query_uses_a_merchant_index(mem, status, search):
    where, params = inbox_rows.returns_where(1, status, inbox.search_terms(search),
                                             inbox.overdue_date())
    for sql in (f"SELECT returns.id FROM returns WHERE {where}"
                " ORDER BY returns.reported_at DESC, returns.id DESC LIMIT 25",
                f"SELECT returns.status, count(*) FROM returns WHERE {where}"
                " GROUP BY returns.status"):
        found = plan(mem, sql, params)
        assert "SCAN returns" not in found, found
        assert "USING INDEX returns_merchant" in found or "USING COVERING INDEX returns_merchant" \
            in found, found


def test_merchant_id_is_filled_from_the_order_and_cannot_disagree(db):
    merchant, _ = make_merchant(db)
    other, _ = make_merchant(db, "Other")
    ret = make_return(db, make_order(db, merchant["id"]))
    assert db.execute("SELECT merchant_id FROM returns WHERE id = ?",
                      [ret["id"]]).fetchone()[0] == merchant["id"]
    with pytest.raises(Exception, match="must be the order's merchant"):
        db.execute("UPDATE returns SET merchant_id = ? WHERE id = ?", [other["id"], ret["id"]])


@pytest.fixture(scope="module")
def examples(example_databases):
    return example_databases(lambda db: None)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page_size=st.integers(1, 4), statuses=st.lists(
    st.sampled_from(["reported", "sent", "received"]), min_size=0, max_size=7),
    late=st.sets(st.integers(0, 6)))
def test_pages_cover_the_list_exactly_once_and_counts_agree(examples, page_size, statuses,
                                                            late):
    with examples.fresh() as db:
        _pages_cover_the_list(db, page_size, statuses, late)


def _pages_cover_the_list(db, page_size, statuses, late):
    today = datetime.now(UTC).date()  # SQLite's date('now'), which the test was written with
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"], lines=[
        {"sku": f"S{i}", "name": f"Item {i}", "quantity": 2, "unit_price": 100}
        for i in range(max(1, len(statuses)))])
    viewer = Viewer(order_ids=frozenset({order["id"]}))
    for i, status in enumerate(statuses):
        ret = make_return(db, order, {i: 1})
        if status != "reported":
            returns.mark_sent(db, viewer, ret["id"], None)
        if status == "received":
            arrivals.mark_received(db, merchant["id"], [ret["id"]], "test")
        if i in late:  # its refund was due yesterday: overdue
            db.execute("UPDATE returns SET refund_due_by = ? WHERE id = ?",
                       [(today - timedelta(days=1)).isoformat(), ret["id"]])
    for status in inbox.FILTERS:
        seen, cursor = [], None
        while True:
            page = inbox.list_returns(db, merchant["id"], status, None, cursor, page_size)
            seen += [row["id"] for row in page.rows]
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        rows = [(i, st, due is not None and due < today.isoformat()) for i, st, due in db.execute(
            "SELECT id, status, refund_due_by FROM returns"
            " ORDER BY reported_at DESC, id DESC").fetchall()]
        # Every other refund is due 14 days out: only the late ones are overdue.
        expected = {"all": [i for i, _, _ in rows],
                    "overdue": [i for i, _, is_late in rows if is_late],
                    **{s: [i for i, st, _ in rows if st == s] for s in RETURN_STATUSES}}
        assert seen == expected[status]
        assert len(seen) == inbox.counts(db, merchant["id"])[status]


def test_mark_received_skips_what_can_t_arrive_and_names_why(db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    a = make_return(db, order, {0: 1})
    b = make_return(db, order, {1: 1})
    decisions.register(db, merchant["id"], b["id"], {"items": [
        {"return_item_id": b["items"][0]["id"], "accepted_quantity": 1}]}, "test")
    result = arrivals.mark_received(db, merchant["id"], [a["id"], b["id"], a["id"]], "test")
    assert result == {"received": [a["id"]],
                      "skipped": [{"id": b["id"], "why": "it is already resolved"}]}
    actions = [r[0] for r in db.execute(
        "SELECT action FROM audit_event WHERE subject_kind = 'return' AND subject_id = ?"
        " ORDER BY id", [a["id"]])]
    assert actions == ["return.reported", "return.received"]


def test_mark_received_is_all_or_nothing_about_whose_returns(db):
    merchant, _ = make_merchant(db)
    other, _ = make_merchant(db, "Other")
    mine = make_return(db, make_order(db, merchant["id"]))
    theirs = make_return(db, make_order(db, other["id"]))
    with pytest.raises(NotFound):
        arrivals.mark_received(db, merchant["id"], [mine["id"], theirs["id"]], "test")
    assert returns.return_for_merchant(db, merchant["id"], mine["id"])["status"] == "reported"
    with pytest.raises(Invalid):
        arrivals.mark_received(db, merchant["id"], [], "test")


def test_an_expired_return_whose_items_were_reported_again_is_not_received(db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    first = make_return(db, order, {0: 2})
    db.execute("UPDATE returns SET status = 'expired', expired_at = '2026-01-01' WHERE id = ?",
               [first["id"]])
    again = make_return(db, order, {0: 2})
    result = arrivals.mark_received(db, merchant["id"], [first["id"]], "test")
    assert result["received"] == []
    assert f"reported again in return {again['id']}" in result["skipped"][0]["why"]
