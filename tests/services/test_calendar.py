"""Calendar reminders: the .ics files parse with `icalendar`, carry Stockholm local time, one
event per date with an alarm two days before, and keep their UID with a higher SEQUENCE when
support moves the due date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from returns_app.domain import clock
from returns_app.services import links, support, support_actions
from tests.builders import make_merchant, make_order, make_return
from tests.customer.test_customer_views import EMAIL

NOW = datetime(2026, 3, 2, 12, tzinfo=clock.LOCAL_ZONE)  # winter time: UTC+1


@pytest.fixture
def order(db):
    with time_machine.travel(NOW, tick=False):
        merchant, _ = make_merchant(db)
        return make_order(db, merchant["id"])


def events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return [c for c in calendar.walk("VEVENT")]


def test_the_order_page_offers_the_file_and_it_parses(client, db, order):
    with time_machine.travel(NOW, tick=False):
        client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
        make_return(db, order, {0: 1})
        page = client.get(f"/orders/{order['id']}").get_data(as_text=True)
        assert f'/orders/{order["id"]}/calendar.ics' in page
        response = client.get(f"/orders/{order['id']}/calendar.ics")
    assert response.mimetype == "text/calendar"
    found = events(response.data)
    assert len(found) == 2  # the due date and the return's send-by date
    due = next(e for e in found if str(e["uid"]).startswith(f"order-{order['id']}-due"))
    start = due.decoded("dtstart")
    assert start.date() == date.fromisoformat(order["due_date"])
    assert str(start.tzinfo) == "Europe/Stockholm" and (start.hour, start.minute) == (9, 0)
    assert start.utcoffset() == timedelta(hours=1)
    assert due["dtstart"].params["TZID"] == "Europe/Stockholm"
    [alarm] = due.walk("VALARM")
    assert alarm.decoded("trigger") == -timedelta(days=2)
    assert b"BEGIN:VTIMEZONE" in response.data and b"TZID:Europe/Stockholm" in response.data
    assert "Test Shop" in str(due["summary"])


def test_summer_dates_are_in_summer_time(client, db):
    with time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=clock.LOCAL_ZONE), tick=False):
        merchant, _ = make_merchant(db)
        summer = make_order(db, merchant["id"])
        client.post("/", data={"order_number": summer["order_number"], "email": EMAIL})
        [event] = events(client.get(f"/orders/{summer['id']}/calendar.ics").data)
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=2)


def test_a_moved_due_date_keeps_its_uid_with_a_higher_sequence(client, db, order):
    with time_machine.travel(NOW, tick=False):
        client.post("/", data={"order_number": order["order_number"], "email": EMAIL})
        [before] = events(client.get(f"/orders/{order['id']}/calendar.ics").data)
        agent = support.create_support_user(db, "agent@example.se")[0]["id"]
        new_due = clock.today() + timedelta(days=40)
        support_actions.move_due_date(db, order["id"], new_due, agent, "Hospital stay")
        [after] = events(client.get(f"/orders/{order['id']}/calendar.ics").data)
    assert after["uid"] == before["uid"]
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("dtstart").date() == new_due


def test_the_api_gives_the_same_file_with_the_customer_token(client, db, order):
    with time_machine.travel(NOW, tick=False):
        token = client.post("/api/v1/customer/session", json={
            "order_number": order["order_number"], "email": EMAIL}).get_json()["token"]
        response = client.get(f"/api/v1/orders/{order['id']}/calendar.ics",
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and len(events(response.data)) == 1
        assert client.get(f"/api/v1/orders/{order['id']}/calendar.ics").status_code == 401


def test_an_email_link_gives_the_file_without_a_session(client, app, order):
    with time_machine.travel(NOW, tick=False):
        token = links.make_token(app.secret_key, links.CALENDAR, order["id"])
        assert len(events(client.get(f"/links/calendar/{token}").data)) == 1
        assert client.get(f"/orders/{order['id']}/calendar.ics").status_code == 404


def test_a_paid_order_has_no_dates_left(client, db, order):
    from returns_app.services import payments
    with time_machine.travel(NOW, tick=False):
        payments.record_transfer(db, order["id"], order["amounts"].total, "OCR", actor="t")
        token = links.make_token(client.application.secret_key, links.CALENDAR, order["id"])
        assert events(client.get(f"/links/calendar/{token}").data) == []
