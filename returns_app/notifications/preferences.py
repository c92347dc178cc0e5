"""What a customer chooses from an email link: how reminders reach them, in which language;
and a fresh link by email when an old one has expired."""

from __future__ import annotations

from ..domain.errors import Invalid, NotFound
from ..domain.validation import email_for_lookup
from ..services import audit, links
from ..services import sign_in as guarded
from ..services.orders import get_order
from ..store import notifications as notification_rows
from ..store.db import Database, lock_rows, write_transaction
from . import NEW_LINK
from .queue import queue_customer_email
from .reminders import CHOOSABLE

LANGUAGES = ("sv", "en")
# A new link is an email sent: few per link, and few per client, so the form can't spam anyone.
NEW_LINK_LIMIT_PER_LINK = 3
NEW_LINK_LIMIT_PER_CLIENT = 10
NEW_LINK_REFUSED = guarded.refuse_for_window(
    "Too many requests for a new link. Wait 15 minutes and try again.")
RENEWABLE = (links.ORDER, links.RETURN, links.PAY, links.PREFERENCES, links.PAYOUT_DETAILS,
             links.BANK_ACCOUNT, links.CALENDAR)


def order_of_link(db: Database, purpose: str, subject_id: int) -> int:
    """The order a link's subject belongs to: the one its bearer may see."""
    kind = {links.RETURN: "return", links.PAYOUT_DETAILS: "refund"}.get(purpose, "order")
    order_id = notification_rows.order_id_of(db, kind, subject_id)
    if order_id is None:
        raise NotFound("We couldn't find what this link was for.")
    return order_id


def preferences_of_order(db: Database, order_id: int) -> dict:
    order = get_order(db, order_id)
    channel = notification_rows.reminder_channel(db, order["customer_id"])
    return {"order": order, "reminder_channel": channel, "language": order["customer_language"]}


def save_preferences(db: Database, order_id: int, payload: dict) -> dict:
    """Set the reminder channel and language of the customer of `order_id`."""
    channel, language = payload.get("reminder_channel"), payload.get("language")
    problems = {}
    if channel not in CHOOSABLE:
        problems["reminder_channel"] = "Choose how you want reminders: by email or none."
    if language not in LANGUAGES:
        problems["language"] = "Choose Swedish or English."
    if problems:
        raise Invalid(fields=problems)
    with write_transaction(db):
        lock_rows(db, "customer", preferences_of_order(db, order_id)["order"]["customer_id"])
        before = preferences_of_order(db, order_id)
        customer_id = before["order"]["customer_id"]
        notification_rows.set_preferences(db, customer_id, channel, language)
        audit.record(db, f"customer:{customer_id}", "customer.preferences_changed", "customer",
                     customer_id,
                     before={"reminder_channel": before["reminder_channel"],
                             "language": before["language"]},
                     after={"reminder_channel": channel, "language": language})
    return preferences_of_order(db, order_id)


def request_new_link(db: Database, purpose: str, subject_id: int, email: str,
                     client: str) -> None:
    """Email a fresh link for an expired one, if `email` is the order's. Says nothing either
    way (the caller shows the same page), so it can't be used to test addresses."""
    if purpose not in RENEWABLE:
        raise NotFound("We couldn't find what this link was for.")
    email = email_for_lookup(email)
    limits = ((f"new-link:{purpose}:{subject_id}", NEW_LINK_LIMIT_PER_LINK),
              (f"new-link-client:{client}", NEW_LINK_LIMIT_PER_CLIENT))

    def send_link(attempt: guarded.Attempt) -> None:
        try:
            order = get_order(db, order_of_link(db, purpose, subject_id))
        except NotFound:
            return
        if order["customer_email"].lower() == email:
            queue_customer_email(db, NEW_LINK,
                                 f"{NEW_LINK}:{purpose}:{subject_id}:{attempt.ids[-1]}",
                                 order, facts={"purpose": purpose, "subject_id": subject_id})

    guarded.record_attempt(db, limits, NEW_LINK_REFUSED, then=send_link)
