"""Domain messages reach customer pages in Swedish: each is produced by the real service code
and must match a template in returns_app/web/domain_messages.py (so a reworded service message fails
here instead of silently showing English)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from returns_app.domain import states
from returns_app.domain.errors import DomainError, Invalid
from returns_app.domain.money import parse_amount
from returns_app.domain.payout_details import parse_payout_details
from returns_app.services import customers, returns
from returns_app.web.domain_messages import TEMPLATES, translate
from tests.builders import make_merchant, make_order, make_return, viewer_for


def messages_of(call) -> list[str]:
    try:
        call()
    except Invalid as exc:
        return list(exc.fields.values()) or [exc.message]
    except DomainError as exc:
        return [exc.message]
    pytest.fail("no error raised")


PAYOUTS = [
    {},
    {"clearing_number": "12a4", "account_number": "1"},
    {"clearing_number": "8327", "account_number": "1234567897"},
    {"clearing_number": "83279999", "account_number": "1"},
    {"clearing_number": "8327-1", "account_number": "1234567897"},
    {"clearing_number": "123", "account_number": "1"},
    {"clearing_number": "9999", "account_number": "1"},
    {"clearing_number": "9960", "account_number": "1234567"},
    {"clearing_number": "3300", "account_number": "123"},
    {"clearing_number": "6789", "account_number": "12"},
    {"clearing_number": "5000", "account_number": "123"},
    {"clearing_number": "5000", "account_number": "1234567"},
    {"clearing_number": "8327-9", "account_number": "1234567890"},
    {"clearing_number": "6789"},
    {"account_number": "1234567"},
    {"clearing_number": "6789", "account_number": "12x"},
    {"iban": "1234"},
    {"iban": "SE45 5000 0000 0583 9825 746!"},
    {"iban": "XX45 5000 0000 0583 9825 7466"},
    {"iban": "SE45 5000 0000 0583 9825 74"},
    {"iban": "SE45 5000 0000 0583 9825 7467"},
    {"swish_number": "08-123 456 78"},
    {"swish_number": "x" * 65},
]


@pytest.mark.parametrize("data", PAYOUTS, ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items())
                         or "empty")
def test_payout_detail_problems_are_shown_in_swedish(app, data):
    problems = messages_of(lambda: parse_payout_details(data))
    with app.test_request_context(), force_locale("sv_SE"):
        for message in problems:
            assert translate(message) != message, f"no Swedish for {message!r}"


@pytest.mark.parametrize("typed", ["abc", "-5", "1,234"])
def test_amount_problems_are_shown_in_swedish(app, typed):
    (message,) = messages_of(lambda: parse_amount(typed))
    with app.test_request_context(), force_locale("sv_SE"):
        assert translate(message) != message


@pytest.mark.parametrize("owed, paused, under_way", [
    (100, 50, 0), (100, 0, 40), (100, 0, 0), (0, 0, 0)])
def test_every_reason_a_payment_is_refused_is_shown_in_swedish(app, owed, paused, under_way):
    from returns_app.domain.money import Amounts
    from returns_app.services.payments import _why_no_more

    known = Amounts(total=owed + paused, payable_now=owed, paused=paused, paid=0, refunded=0,
                    refund_owed=0, accepted=0)
    message = _why_no_more(known, under_way, "1 234,00 kr", "SEK")
    with app.test_request_context(), force_locale("sv_SE"):
        assert translate(message) != message


def test_return_problems_are_shown_in_swedish(app, db):
    merchant, _ = make_merchant(db)
    order = make_order(db, merchant["id"])
    viewer = viewer_for(order)
    line = order["lines"][0]
    attempts = [
        {"items": []},
        {"items": [{"line_id": line["id"], "quantity": 9, "reason": "too_small"}]},
        {"items": [{"line_id": 10**9, "quantity": 1, "reason": "too_small"}]},
        {"items": [{"line_id": line["id"], "quantity": 1, "reason": "too_small"},
                   {"line_id": line["id"], "quantity": 1, "reason": "too_small"}]},
        {"items": [{"line_id": line["id"], "quantity": 1, "reason": "other"}]},
    ]
    produced = [m for payload in attempts
                for m in messages_of(lambda p=payload: returns.report_return(db, viewer,
                                                                             order["id"], p))]
    ret = make_return(db, order)
    returns.cancel_return(db, viewer, ret["id"])
    produced += messages_of(lambda: returns.cancel_return(db, viewer, ret["id"]))
    produced += messages_of(lambda: returns.mark_sent(db, viewer, ret["id"], "#" * 3))
    produced += messages_of(lambda: states.check("return", "sent", "cancelled"))
    produced += messages_of(lambda: customers.sign_in(db, "x@example.se", "nope", "10.0.0.1"))
    with app.test_request_context(), force_locale("sv_SE"):
        untranslated = [m for m in produced if translate(m) == m]
    assert untranslated == []


def test_values_are_kept_and_unknown_messages_pass_through(app):
    with app.test_request_context(), force_locale("sv_SE"):
        assert translate("You can return at most 3 of this item.") == (
            "Du kan returnera högst 3 av den här varan.")
        assert translate("Nordea 3300, account ••••1234") == "Nordea 3300, konto ••••1234"
        assert translate("Something nobody listed.") == "Something nobody listed."
        assert translate("") == ""
    with app.test_request_context(), force_locale("en_GB"):
        assert translate("You can return at most 3 of this item.") == (
            "You can return at most 3 of this item.")


def test_every_template_is_distinct():
    assert len(set(TEMPLATES)) == len(TEMPLATES)
