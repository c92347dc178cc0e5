"""The dated corrections on top of bankkonto 1.0.1: banks it refuses or names as they were.

Valid numbers are built with the tests' own reference check digits (test_payout_details), so a
wrong rule on either side fails here."""

from __future__ import annotations

import pytest

from returns_app.domain.errors import Invalid
from returns_app.domain.payout_details import parse_payout_details

from .test_payout_details import type1_comment1, type1_comment2, wrong_last_digit

CASES = [  # clearing, account builder, the bank's current name (Bankgirot 2024-02-22 / BSAB)
    ("9070", type1_comment1, "Multitude Bank"),
    ("9079", type1_comment1, "Multitude Bank"),
    ("9580", type1_comment1, "Aion Bank"),
    ("9710", type1_comment2, "Lunar Bank"),
    ("9750", type1_comment2, "Northmill Bank"),
    ("9759", type1_comment2, "Northmill Bank"),
    ("9640", type1_comment2, "NOBA Bank"),
]


def valid_account(clearing, build) -> str:
    # Some bodies have no mod 11 check digit (it would be 10): take the first that has one.
    for body in ("123456", "234567", "345678"):
        try:
            return build(clearing, body)
        except AssertionError:
            continue
    raise AssertionError(clearing)


@pytest.mark.parametrize(("clearing", "build", "bank"), CASES)
def test_current_banks_are_accepted_and_named_as_today(clearing, build, bank):
    account = valid_account(clearing, build)
    destination = parse_payout_details({"clearing_number": clearing, "account_number": account})
    assert destination.details["bank"] == bank
    assert destination.masked.startswith(f"{bank} {clearing}, account ••••")


@pytest.mark.parametrize(("clearing", "build", "bank"), CASES)
def test_a_wrong_check_digit_is_still_refused(clearing, build, bank):
    account = wrong_last_digit(valid_account(clearing, build))
    with pytest.raises(Invalid) as caught:
        parse_payout_details({"clearing_number": clearing, "account_number": account})
    assert caught.value.fields["account_number"].startswith(
        f"The account number doesn't match {bank}'s check digit")


def test_a_comment_1_bank_is_not_checked_with_the_comment_2_rule():
    # Multitude (comment 1) leaves the clearing's first digit out of the sum.
    account = type1_comment2("9070", "123456")
    assert account != type1_comment1("9070", "123456")
    with pytest.raises(Invalid):
        parse_payout_details({"clearing_number": "9070", "account_number": account})


def test_lunar_is_not_called_aman_bank_where_it_can_not_be_paid():
    with pytest.raises(Invalid) as caught:
        parse_payout_details({"clearing_number": "9711", "account_number": "12"})
    assert "Aman" not in str(caught.value.fields)
