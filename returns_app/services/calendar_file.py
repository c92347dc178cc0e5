"""Calendar reminders (.ics) for the dates a customer must act on: an invoice's due date and
each open return's send-by date. One event per date, an alarm two days before, in Stockholm
local time. An event keeps its UID for good; when support moves a due date the event's
SEQUENCE goes up (one per move), so a calendar that imported it before updates it in place.
RFC 5545 details (escaping, line folding, the VTIMEZONE) are left to `icalendar`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from icalendar import Alarm, Calendar, Event

from ..domain import clock
from ..store import audit as audit_rows
from ..store import returns as return_rows
from ..store.db import Database
from .orders import amounts

UID_DOMAIN = "returns.example.se"
EVENT_AT = time(9)  # a reminder to act during the day, not at midnight
EVENT_LENGTH = timedelta(minutes=30)
ALARM_BEFORE = timedelta(days=2)
PRODUCT = "-//Returns assistant//Calendar reminders//EN"


@dataclass(frozen=True)
class Texts:
    """The words of the events, in the customer's language (the caller translates)."""

    due: Callable[[dict], str]  # (order) -> summary of "pay by the due date"
    send_by: Callable[[dict, dict], str]  # (order, return) -> summary of "send it back by"
    description: Callable[[dict], str]  # (order) -> what to do, with where to see the order


@dataclass(frozen=True)
class Moment:
    uid: str
    day: date
    sequence: int
    summary: str
    description: str


def moments(db: Database, order: dict, texts: Texts) -> list[Moment]:
    """The dates the customer must act on, today and later."""
    found = []
    today = clock.today()
    owed = amounts(db, order["id"])
    if order["payment_method"] == "invoice" and order["due_date"] and \
            owed.payable_now + owed.paused > 0:
        moves = audit_rows.count_of_action(db, "order", order["id"], "order.due_date_moved")
        found.append(Moment(f"order-{order['id']}-due@{UID_DOMAIN}",
                            date.fromisoformat(order["due_date"]), moves, texts.due(order),
                            texts.description(order)))
    for ret in return_rows.reported_returns_of_order(db, order["id"]):
        found.append(Moment(f"return-{ret['id']}-send-by@{UID_DOMAIN}",
                            date.fromisoformat(ret["send_by"]), 0, texts.send_by(order, ret),
                            texts.description(order)))
    return [m for m in found if m.day >= today]


def has_dates(db: Database, order: dict) -> bool:
    """Whether the order has a date left to put in a calendar (an email offers the file)."""
    blank = Texts(lambda _o: "", lambda _o, _r: "", lambda _o: "")
    return bool(moments(db, order, blank))


def ics(found: list[Moment], alarm_text: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    stamp = clock.now()
    for moment in found:
        start = datetime.combine(moment.day, EVENT_AT, tzinfo=clock.LOCAL_ZONE)
        event = Event()
        event.add("uid", moment.uid)
        event.add("sequence", moment.sequence)
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + EVENT_LENGTH)
        event.add("summary", moment.summary)
        event.add("description", moment.description)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", alarm_text)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
