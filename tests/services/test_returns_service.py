"""The return rules, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict, Invalid, NotFound
from returns_app.services import orders, returns
from returns_app.services.orders import Viewer
from returns_app.store.db import select, select_one
from tests.builders import make_merchant, make_order, make_return, viewer_for


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"])


def report(db, order, *items, viewer=None):
    return returns.report_return(db, viewer or viewer_for(order), order["id"],
                                 {"items": list(items)})


def item(order, index=0, quantity=1, reason="too_small", **extra):
    return {"line_id": order["lines"][index]["id"], "quantity": quantity, "reason": reason,
            **extra}


def test_report_records_items_dates_and_the_instructions_version_shown(db, order):
    ret = report(db, order, item(order, 0, 2), item(order, 1, 1, "other", comment="Too long"))
    assert ret["status"] == "reported"
    assert [(i["order_line_id"], i["quantity"]) for i in ret["items"]] == [
        (order["lines"][0]["id"], 2), (order["lines"][1]["id"], 1)]
    today = clock.today()
    assert ret["send_by"] == (today + timedelta(days=14)).isoformat()
    assert ret["refund_due_by"] == (today + timedelta(days=14)).isoformat()
    assert ret["instructions"]["version"] == 1
    assert "Test Shop AB" in ret["instructions"]["return_address_lines"]
    assert "<h2>How to return</h2>" in ret["instructions"]["html"]


def test_a_return_keeps_the_version_it_was_reported_under(db, shop, order):
    from returns_app.services import merchants
    from tests.builders import INSTRUCTIONS

    first = report(db, order, item(order, 0))
    merchants.publish_instructions(db, shop["id"], INSTRUCTIONS.replace("Box 1", "Box 2"),
                                   published_by="test")
    second = report(db, order, item(order, 1))
    again = returns.return_details(db, viewer_for(order), first["id"])
    assert again["instructions"]["version"] == 1
    assert "Box 1" in again["instructions"]["return_address"]
    assert second["instructions"]["version"] == 2


def test_open_return_pauses_its_value(db, order):
    report(db, order, item(order, 1))  # jeans, 799 kr
    amounts = orders.amounts(db, order["id"])
    assert amounts.paused == 79900
    assert amounts.payable_now == amounts.total - 79900


def test_no_item_chosen(db, order):
    with pytest.raises(Invalid) as exc:
        report(db, order)
    assert exc.value.fields == {"items": "Choose at least one item to return."}


@pytest.mark.parametrize("bad, field, message", [
    ({"quantity": 3}, "items[0].quantity", "at most 2"),
    ({"quantity": 0}, "items[0].quantity", "from 1 to 10000 items"),
    ({"reason": "because"}, "items[0].reason", "Choose why"),
    ({"reason": "other"}, "items[0].comment", "why it goes back"),
    ({"line_id": 999999}, "items[0].line_id", "not on this order"),
    ({"index": 2}, "items[0].quantity", "can't take this item back: Gift cards"),
])
def test_bad_items_are_refused_with_a_message_on_the_item(db, order, bad, field, message):
    raw = item(order, bad.pop("index", 0))
    raw.update(bad)
    with pytest.raises(Invalid) as exc:
        report(db, order, raw)
    assert message in exc.value.fields[field]
    assert select_one(db, "SELECT count(*) AS n FROM returns")["n"] == 0


def test_the_same_item_twice_in_one_report(db, order):
    with pytest.raises(Invalid) as exc:
        report(db, order, item(order, 1), item(order, 1))
    assert "listed twice" in exc.value.fields["items[1].line_id"]


def test_reporting_the_same_items_again_links_the_existing_return(db, order):
    first = report(db, order, item(order, 1))
    with pytest.raises(Invalid) as exc:
        report(db, order, item(order, 1))
    assert "already reported" in exc.value.fields["items[0].quantity"]
    assert exc.value.details["existing_return_id"] == first["id"]


def test_partial_quantities_add_up_across_returns(db, order):
    report(db, order, item(order, 0, 1))
    report(db, order, item(order, 0, 1))
    with pytest.raises(Invalid):
        report(db, order, item(order, 0, 1))


def test_return_window_closed_names_the_window_and_the_date(db, order):
    delivered = clock.parse(order["delivered_at"])
    with time_machine.travel(delivered + timedelta(days=31), tick=False), \
            pytest.raises(Invalid) as exc:
        report(db, order, item(order, 0))
    closes = clock.local_date(delivered + timedelta(days=30)).isoformat()
    assert exc.value.fields["items"] == (
        f"The 30-day return window for this order closed on {closes}, 30 days after delivery.")


def test_last_day_of_the_window_is_still_open(db, order):
    delivered = clock.parse(order["delivered_at"])
    with time_machine.travel(delivered + timedelta(days=30), tick=False):
        assert report(db, order, item(order, 0))["status"] == "reported"


def test_without_instructions_the_legal_14_days_apply(db):
    merchant, _ = make_merchant(db, "Bare Shop", instructions=None)
    order = make_order(db, merchant["id"])
    delivered = clock.parse(order["delivered_at"])
    with time_machine.travel(delivered + timedelta(days=15), tick=False), \
            pytest.raises(Invalid) as exc:
        report(db, order, item(order, 0))
    assert "14-day return window" in exc.value.fields["items"]


def test_undelivered_order_can_be_returned(db, shop):
    order = make_order(db, shop["id"], delivered_at=None)
    assert report(db, order, item(order, 0))["status"] == "reported"


def test_another_customers_order_is_not_found(db, shop, order):
    other = make_order(db, shop["id"], customer={"email": "other@example.se", "name": "O"})
    with pytest.raises(NotFound):
        report(db, order, item(order, 0), viewer=viewer_for(other))
    signed_in = Viewer(customer_id=other["id"] + 1000)
    with pytest.raises(NotFound):
        orders.order_for_viewer(db, signed_in, order["id"])


def test_signed_in_customer_sees_all_own_orders(db, shop, order):
    customer_id = orders.get_order(db, order["id"])["customer_id"]
    second = make_order(db, shop["id"])
    viewer = Viewer(customer_id=customer_id)
    assert orders.order_for_viewer(db, viewer, second["id"])["id"] == second["id"]


def test_sent_then_cannot_cancel(db, order):
    ret = make_return(db, order)
    sent = returns.mark_sent(db, viewer_for(order), ret["id"], "  AB-123 456  ")
    assert (sent["status"], sent["tracking_number"]) == ("sent", "AB-123 456")
    with pytest.raises(Conflict):
        returns.cancel_return(db, viewer_for(order), ret["id"])
    with pytest.raises(Conflict):
        returns.mark_sent(db, viewer_for(order), ret["id"], None)


@pytest.mark.parametrize("tracking", ["<script>", "x" * 65, "AB;12"])
def test_bad_tracking_numbers(db, order, tracking):
    ret = make_return(db, order)
    with pytest.raises(Invalid) as exc:
        returns.mark_sent(db, viewer_for(order), ret["id"], tracking)
    assert "tracking_number" in exc.value.fields
    assert select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])["status"] == "reported"


def test_cancel_ends_the_pause_and_frees_the_items(db, order):
    ret = make_return(db, order, {1: 1})
    cancelled = returns.cancel_return(db, viewer_for(order), ret["id"])
    assert cancelled["status"] == "cancelled"
    assert [s["status"] for s in cancelled["timeline"]] == ["reported", "cancelled"]
    assert orders.amounts(db, order["id"]).paused == 0
    assert orders.lines_with_returnable(db, order["id"])[1]["returnable_quantity"] == 1


def test_unsent_returns_expire_after_the_send_by_date(db, order):
    ret = make_return(db, order)
    with time_machine.travel(clock.parse(ret["reported_at"]) + timedelta(days=14), tick=False):
        assert returns.expire_overdue(db) == []
    with time_machine.travel(clock.parse(ret["reported_at"]) + timedelta(days=15), tick=False):
        assert returns.expire_overdue(db) == [ret["id"]]
    assert select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])["status"] == "expired"
    assert orders.amounts(db, order["id"]).paused == 0


def test_every_change_is_audited(db, order):
    ret = make_return(db, order)
    returns.mark_sent(db, viewer_for(order), ret["id"], None)
    actions = [r["action"] for r in select(db,
        "SELECT action FROM audit_event WHERE subject_kind = 'return' AND subject_id = ?"
        " ORDER BY id", [ret["id"]])]
    assert actions == ["return.reported", "return.sent"]
