"""An email's subject, plain text and HTML, in the recipient's language, with signed links.

Rendered by the worker at the first delivery attempt and kept, so a retry sends the very same
message (same links, same Message-ID). Needs the Flask app: templates, url_for, Babel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from merchant_instructions.frontmatter import FrontMatterError, split

from ..domain.day_text import FORMAT_LOCALES, day_text
from ..domain.money import format_minor
from ..services import bank_payments, calendar_file, links, payments, refunds, returns
from ..services.orders import Viewer, amounts, get_order
from ..store import notifications as notification_rows
from ..store import staff as staff_rows
from ..store.db import Database
from . import (
    DEBIT_DECLINED,
    DESTINATION_CHANGE,
    INVOICE_DUE_REMINDER,
    MERCHANT_RETURN_WAITING,
    NEW_LINK,
    PAYMENT_RECEIPT,
    PAYOUT_DETAILS_NEEDED,
    REFUND_SENT,
    RETURN_DECIDED,
    RETURN_REPORTED,
    SEND_RETURN_REMINDER,
    STAFF_PASSWORD_CHANGED,
    STAFF_PASSWORD_RESET,
    WEBHOOK_FAILING,
)

LINK_ENDPOINTS = {
    links.ORDER: "customer.email_order_link",
    links.RETURN: "customer.email_return_link",
    links.PAY: "customer.email_pay_link",
    links.PREFERENCES: "customer.email_preferences",
    links.PAYOUT_DETAILS: "customer.payout_details",
    links.BANK_ACCOUNT: "customer.email_bank_account",
    links.CALENDAR: "customer.email_calendar",
    links.OBJECT_CHANGE: "customer.object_destination_change",
}
# Emails that name a due or send-by date offer the dates as a calendar file.
NAMES_DATES = frozenset({RETURN_REPORTED, RETURN_DECIDED, SEND_RETURN_REMINDER,
                         INVOICE_DUE_REMINDER, DEBIT_DECLINED})


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def day(value) -> str:
    """A day in the email's language (render forces its locale)."""
    return day_text(value, "long", str(get_locale()))


def link(purpose: str, subject_id: int) -> str:
    """A signed link for one purpose and subject, absolute: it is read in a mail client."""
    token = links.make_token(current_app.secret_key, purpose, subject_id)
    return url_for(LINK_ENDPOINTS[purpose], token=token, _external=True)


def instructions_text(instructions: dict | None) -> str:
    """The merchant's Markdown as written: already the best plain text of the instructions."""
    if not instructions:
        return ""
    try:
        return split(instructions["source"]).body.strip()
    except FrontMatterError:  # only published (validated) versions are stored; be safe anyway
        return ""


def _return(db: Database, note: dict, return_id: int | None = None) -> dict:
    viewer = Viewer(order_ids=frozenset({note["order_id"]}))
    ret = returns.return_details(db, viewer, return_id or note["return_id"])
    ret["instructions_text"] = instructions_text(ret["instructions"])
    return ret


def _return_reported(db: Database, note: dict, order: dict) -> dict:
    ret = _return(db, note)
    return {
        "subject": _("Your return to %(merchant)s: send it by %(date)s",
                     merchant=order["merchant_name"], date=day(ret["send_by"])),
        "ret": ret, "return_url": link(links.RETURN, ret["id"]),
        # Emails queued before the amount was told have no facts: they say nothing of it.
        "still_due": note["facts"].get("payable_now"), "due_date": note["facts"].get("due_date"),
        "pay_url": link(links.PAY, order["id"]) if note["facts"].get("payable_now") else None,
    }


def _return_decided(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    decided = {item["return_item_id"]: item for item in facts["items"]}
    names = notification_rows.item_names_of_return(db, note["return_id"])
    items = [{"name": names.get(item_id, ""), **item} for item_id, item in decided.items()]
    accepted = [i for i in items if i["accepted"]]
    rejected = [i for i in items if i["rejected"]]
    waiting = facts.get("waiting", [])  # emails queued before partial decisions were told
    return {
        "subject": _decided_subject(order, facts, accepted, rejected, waiting),
        "items": items, "facts": facts, "accepted": accepted, "rejected": rejected,
        "waiting": waiting,
        "pay_url": link(links.PAY, order["id"]) if facts["payable_now"] else None,
        "order_url": link(links.ORDER, order["id"]),
    }


def _decided_subject(order: dict, facts: dict, accepted: list, rejected: list,
                     waiting: list) -> str:
    """Says only what was decided: a partial decision is never called an acceptance."""
    merchant = order["merchant_name"]
    if rejected and facts["payable_now"]:
        return _("%(merchant)s did not accept all of your return: %(amount)s is due",
                 merchant=merchant, amount=format_minor(facts["payable_now"], order["currency"]))
    if rejected:
        return _("%(merchant)s did not accept all of your return", merchant=merchant)
    if accepted and waiting:
        return _("%(merchant)s has accepted part of your return", merchant=merchant)
    if accepted:
        return _("%(merchant)s has accepted your return", merchant=merchant)
    return _("%(merchant)s has received your return", merchant=merchant)


def _refund_sent(db: Database, note: dict, order: dict) -> dict:
    refund = refunds.get_refund(db, note["refund_id"])
    return {
        "subject": _("Your refund of %(amount)s is on its way",
                     amount=format_minor(refund["amount_minor"], order["currency"])),
        "refund": refund, "order_url": link(links.ORDER, order["id"]),
    }


def _payout_details_needed(db: Database, note: dict, order: dict) -> dict:
    refund = refunds.get_refund(db, note["refund_id"])
    return {
        "subject": _("Where should we send your refund of %(amount)s?",
                     amount=format_minor(refund["amount_minor"], order["currency"])),
        "refund": refund, "details_url": link(links.PAYOUT_DETAILS, refund["id"]),
        "link_days": links.LIFETIME.days,
    }


def _payment_receipt(db: Database, note: dict, order: dict) -> dict:
    payment = payments.get_payment(db, note["payment_id"])
    paid = payment["settled_amount_minor"] or payment["amount_minor"]
    return {
        "subject": _("Receipt: %(amount)s paid to %(merchant)s",
                     amount=format_minor(paid, order["currency"]),
                     merchant=order["merchant_name"]),
        "payment": payment, "paid": paid, "amounts": amounts(db, order["id"]),
        "order_url": link(links.ORDER, order["id"]),
    }


def _merchant_return_waiting(db: Database, note: dict, order: dict) -> dict:
    ret = _return(db, note)
    name = staff_rows.merchant_user_name(db, note["merchant_user_id"])
    return {
        "subject": _("Return %(id)s for order %(number)s is waiting to be registered",
                     id=ret["id"], number=order["order_number"]),
        "ret": ret, "name": name,
    }


def _send_return_reminder(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    waiting = [_return(db, note, return_id) for return_id in facts["return_ids"]]
    return {
        "subject": _("Reminder: send your return to %(merchant)s by %(date)s",
                     merchant=order["merchant_name"], date=day(facts["send_by"])),
        "returns": waiting, "send_by": facts["send_by"], "amounts": amounts(db, order["id"]),
        "return_urls": {r["id"]: link(links.RETURN, r["id"]) for r in waiting},
    }


def _invoice_due_reminder(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    return {
        "subject": _("Reminder: %(amount)s to %(merchant)s is due on %(date)s",
                     amount=format_minor(facts["amount"], order["currency"]),
                     merchant=order["merchant_name"], date=day(facts["due_date"])),
        "facts": facts, "amounts": amounts(db, order["id"]),
        "pay_url": link(links.PAY, order["id"]),
    }


def _debit_declined(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    if facts.get("next_try_on"):
        subject = _("Not enough money in your account: we try again on %(date)s",
                    date=day(facts["next_try_on"]))
    else:
        subject = _("Your invoice from %(merchant)s could not be paid from your account",
                    merchant=order["merchant_name"])
    return {"subject": subject, "facts": facts, "amounts": amounts(db, order["id"]),
            "pay_url": link(links.PAY, order["id"])}


def _new_link(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    return {
        "subject": _("Your new link for order %(number)s", number=order["order_number"]),
        "new_url": link(facts["purpose"], facts["subject_id"]),
        "link_days": links.LIFETIME.days,
    }


def _webhook_failing(db: Database, note: dict, _order: dict | None) -> dict:
    facts = note["facts"]
    name = staff_rows.merchant_user_name(db, note["merchant_user_id"])
    return {
        "subject": _("Your webhook endpoint has not answered for a day"),
        "name": name, "url": facts["url"], "failing_since": facts["failing_since"],
        "settings_url": url_for("merchant.webhooks", _external=True),
    }


def _destination_change(db: Database, note: dict, order: dict) -> dict:
    facts = note["facts"]
    refund = refunds.get_refund(db, note["refund_id"])
    return {
        "subject": _("Your refund of %(amount)s: a new account was given for it",
                     amount=format_minor(refund["amount_minor"], order["currency"])),
        "refund": refund, "facts": facts,
        "object_url": link(links.OBJECT_CHANGE, facts["approval_id"]),
    }


def _staff_password_reset(db: Database, note: dict, _order: dict | None) -> dict:
    facts = note["facts"]
    return {
        "subject": _("Choose a new password"),
        "reset_url": url_for(f"{facts['audience']}.reset_password", token=facts["token"],
                             _external=True),
        "minutes": facts["minutes"], "audience": facts["audience"],
    }


def _staff_password_changed(db: Database, note: dict, _order: dict | None) -> dict:
    facts = note["facts"]
    return {
        "subject": _("Your password was changed"), "how": facts["how"],
        "audience": facts["audience"],
        "forgot_url": url_for(f"{facts['audience']}.forgot_password", _external=True),
    }


BUILDERS: dict[str, Callable[[Database, dict, dict], dict]] = {
    RETURN_REPORTED: _return_reported,
    RETURN_DECIDED: _return_decided,
    REFUND_SENT: _refund_sent,
    PAYOUT_DETAILS_NEEDED: _payout_details_needed,
    PAYMENT_RECEIPT: _payment_receipt,
    MERCHANT_RETURN_WAITING: _merchant_return_waiting,
    SEND_RETURN_REMINDER: _send_return_reminder,
    INVOICE_DUE_REMINDER: _invoice_due_reminder,
    NEW_LINK: _new_link,
    WEBHOOK_FAILING: _webhook_failing,
    DEBIT_DECLINED: _debit_declined,
    DESTINATION_CHANGE: _destination_change,
    STAFF_PASSWORD_RESET: _staff_password_reset,
    STAFF_PASSWORD_CHANGED: _staff_password_changed,
}


def render(db: Database, note: dict) -> Rendered:
    app = current_app._get_current_object()
    # The language's formatting locale, as pages use: English dates as in Britain (16 March
    # 2026), not the US order that a bare "en" gives.
    with app.test_request_context(base_url=app.config["PUBLIC_URL"]), \
            force_locale(FORMAT_LOCALES.get(note["language"], note["language"])):
        # An email about the merchant's own set-up (a failing webhook) is about no order.
        order = get_order(db, note["order_id"]) if note["order_id"] else None
        context = BUILDERS[note["kind"]](db, note, order)
        context.update(
            note=note, order=order, language=note["language"],
            invoice=bank_payments.invoice_details(order, app.config["BANKGIRO"]) if order
            else None,
            preferences_url=link(links.PREFERENCES, order["id"])
            if note["customer_id"] and order else None,
            bank_account_url=link(links.BANK_ACCOUNT, order["id"])
            if note["customer_id"] and order else None,
            calendar_url=link(links.CALENDAR, order["id"])
            if note["customer_id"] and order and note["kind"] in NAMES_DATES
            and calendar_file.has_dates(db, order) else None)
        return Rendered(
            subject=context["subject"],
            text=render_template(f"email/{note['kind']}.txt", **context),
            html=render_template(f"email/{note['kind']}.html", **context),
        )
