"""Payout details a customer types: Swedish bank accounts, IBANs and Swish numbers.

The valid bank accounts are built here with a small reference implementation of the banks'
check-digit rules (Bankgirot's "Bankernas kontonummeruppbyggnad"), written independently of the
`bankkonto` library the module uses, so a wrong rule on either side makes a test fail.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from returns_app.domain.errors import Invalid
from returns_app.domain.payout_details import Destination, mask_account_number, parse_payout_details

# --- reference check digits (test only) ------------------------------------------------------


def mod11_check_digit(digits: str) -> str:
    """The digit that makes `digits + C` pass modulus 11 with weights 1, 2, 3, ... 10, 1, ...
    counted from the right (the check digit has weight 1)."""
    weights = [(i % 10) + 1 for i in range(1, len(digits) + 1)]  # 2, 3, ... from the right
    total = sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=True))
    check = -total % 11
    assert check != 10, f"{digits} has no valid mod 11 check digit: pick another example"
    return str(check)


def mod10_check_digit(digits: str) -> str:
    """The Luhn digit: weights 2, 1, 2, ... from the right of `digits`, digit sums of products."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        product = int(d) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str(-total % 10)


def type1_comment1(clearing: str, body6: str) -> str:
    """7-digit account; mod 11 over the clearing's last 3 digits and the account."""
    return body6 + mod11_check_digit(clearing[1:] + body6)


def type1_comment2(clearing: str, body6: str) -> str:
    """7-digit account; mod 11 over all 4 clearing digits and the account."""
    return body6 + mod11_check_digit(clearing + body6)


def handelsbanken(body: str) -> str:
    """Type 2 comment 2: mod 11 over the (up to) 9-digit account alone."""
    return body + mod11_check_digit(body)


def mod10_account(body: str) -> str:
    """Type 2 comments 1 and 3: mod 10 over the account alone."""
    return body + mod10_check_digit(body)


def wrong_last_digit(number: str) -> str:
    """Changing only the check digit always breaks mod 10 and mod 11."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def grouped(digits: str) -> str:
    """How people type numbers: groups of three with spaces and a dash before the last digit."""
    head, last = digits[:-1], digits[-1]
    groups = [head[max(0, i - 3):i] for i in range(len(head), 0, -3)][::-1]
    return " ".join(groups) + "-" + last


def test_reference_check_digits_match_published_examples():
    # The tests' own rules, checked against numbers everybody publishes: the Skatteverket test
    # personnummer 811218-9876, Luhn's classic 7992739871-3, and Swedbank's clearing 8327-9.
    assert mod10_check_digit("811218987") == "6"
    assert mod10_check_digit("7992739871") == "3"
    assert mod10_check_digit("8327") == "9"
    assert mod10_check_digit("8105") == "9"
    # mod 11: 0 + weights 2..: "1" at weight 2 -> 2, check digit 9 (2 + 9 = 11)
    assert mod11_check_digit("1") == "9"
    assert mod11_check_digit("12") == "4"  # 2*2 + 1*3 = 7 -> 4


SEB = "5214"
DANSKE = "1214"
NORDEA = "3012"
NORDEA_4 = "4012"  # type 1 comment 2
SWEDBANK_7 = "7011"
AVANZA = "9552"  # type 1 comment 2
HANDELSBANKEN = "6789"
SWEDBANK_8 = "83279"
SWEDBANK_93 = "9300"  # type 2 comment 1
PLUSGIROT = "9960"  # type 2 comment 3
PERSONNUMMER = "811218987" + mod10_check_digit("811218987")

SEB_ACCOUNT = type1_comment1(SEB, "123456")
HANDELSBANKEN_ACCOUNT = handelsbanken("12345678")
SWEDBANK_8_ACCOUNT = mod10_account("123456789")

VALID_ACCOUNTS = [
    # (clearing typed, account typed, normalized clearing, normalized account, bank)
    (SEB, SEB_ACCOUNT, SEB, SEB_ACCOUNT, "SEB"),
    (DANSKE, type1_comment1(DANSKE, "987653"), DANSKE, type1_comment1(DANSKE, "987653"),
     "Danske Bank"),
    (NORDEA, type1_comment1(NORDEA, "555666"), NORDEA, type1_comment1(NORDEA, "555666"),
     "Nordea"),
    (NORDEA_4, type1_comment2(NORDEA_4, "123450"), NORDEA_4,
     type1_comment2(NORDEA_4, "123450"), "Nordea"),
    (SWEDBANK_7, type1_comment1(SWEDBANK_7, "246802"), SWEDBANK_7,
     type1_comment1(SWEDBANK_7, "246802"), "Swedbank"),
    (AVANZA, type1_comment2(AVANZA, "314159"), AVANZA, type1_comment2(AVANZA, "314159"),
     "Avanza Bank AB"),
    (HANDELSBANKEN, HANDELSBANKEN_ACCOUNT, HANDELSBANKEN, HANDELSBANKEN_ACCOUNT,
     "Handelsbanken"),
    # Handelsbanken writes shorter accounts without leading zeros: padded to 9 digits.
    (HANDELSBANKEN, handelsbanken("3141593"), HANDELSBANKEN, "0" + handelsbanken("3141593"),
     "Handelsbanken"),
    ("3300", PERSONNUMMER, "3300", PERSONNUMMER, "Nordea"),
    (SWEDBANK_8, SWEDBANK_8_ACCOUNT, SWEDBANK_8, SWEDBANK_8_ACCOUNT, "Swedbank"),
    # Swedbank 8xxx-x accounts with 9 digits get a leading zero, as every bank asks.
    (SWEDBANK_8, mod10_account("91234567"), SWEDBANK_8, "0" + mod10_account("91234567"),
     "Swedbank"),
    (SWEDBANK_93, mod10_account("123456789"), SWEDBANK_93, mod10_account("123456789"),
     "Swedbank"),
    (PLUSGIROT, mod10_account("184589342"), PLUSGIROT, mod10_account("184589342"),
     "Nordea/Plusgirot"),
    # typed with the separators people use
    ("8327-9", grouped(SWEDBANK_8_ACCOUNT), SWEDBANK_8, SWEDBANK_8_ACCOUNT, "Swedbank"),
    (" 5214 ", "12 34 56" + SEB_ACCOUNT[-1], SEB, SEB_ACCOUNT, "SEB"),
    ("8327\u20139", " ".join(SWEDBANK_8_ACCOUNT), SWEDBANK_8, SWEDBANK_8_ACCOUNT, "Swedbank"),
]


@pytest.mark.parametrize("clearing, account, want_clearing, want_account, bank", VALID_ACCOUNTS)
def test_valid_swedish_accounts(clearing, account, want_clearing, want_account, bank):
    destination = parse_payout_details({"clearing_number": clearing, "account_number": account})
    assert destination.kind == "bank_account"
    assert destination.details == {
        "clearing_number": want_clearing, "account_number": want_account, "bank": bank,
    }
    shown_clearing = (
        f"{want_clearing[:4]}-{want_clearing[4]}" if len(want_clearing) == 5 else want_clearing
    )
    assert destination.masked == f"{bank} {shown_clearing}, account ••••{want_account[-4:]}"
    assert destination.as_provider_destination() == {
        "type": "bank_account", "clearing_number": want_clearing, "account_number": want_account,
    }


def test_swedbank_mask_is_the_documented_example():
    account = "1234594321"
    assert mod10_account(account[:-1]) == account
    destination = parse_payout_details({"clearing_number": "8327-9", "account_number": account})
    assert destination.masked == "Swedbank 8327-9, account ••••4321"


HANDELSBANKEN_CHECK = (
    "The account number doesn't match Handelsbanken's check digit. "
    "Check it against your bank's app."
)
CLEARING_LENGTH = (
    "Swedish clearing numbers have 4 digits (5 for some Swedbank accounts, like 8327-9)."
)


@pytest.mark.parametrize("clearing, account, field, message", [
    # wrong check digits, one per rule
    (HANDELSBANKEN, wrong_last_digit(HANDELSBANKEN_ACCOUNT), "account_number",
     HANDELSBANKEN_CHECK),
    (SEB, wrong_last_digit(SEB_ACCOUNT), "account_number",
     "The account number doesn't match SEB's check digit. Check it against your bank's app."),
    (NORDEA_4, wrong_last_digit(type1_comment2(NORDEA_4, "123450")), "account_number",
     "The account number doesn't match Nordea's check digit. Check it against your bank's app."),
    ("3300", wrong_last_digit(PERSONNUMMER), "account_number",
     "The account number doesn't match Nordea's check digit. Check it against your bank's app."),
    (SWEDBANK_8, wrong_last_digit(SWEDBANK_8_ACCOUNT), "account_number",
     "The account number doesn't match Swedbank's check digit. Check it against your bank's "
     "app. If it is right, give your IBAN instead."),
    # a check digit that only fits another clearing number (type 1 comment 1 counts 3 of them)
    ("5215", SEB_ACCOUNT, "account_number",
     "The account number doesn't match SEB's check digit. Check it against your bank's app."),
    # wrong lengths
    (HANDELSBANKEN, HANDELSBANKEN_ACCOUNT + "1", "account_number",
     "Handelsbanken account numbers have 7 to 9 digits."),
    (HANDELSBANKEN, "123456", "account_number",
     "Handelsbanken account numbers have 7 to 9 digits."),
    (SEB, SEB_ACCOUNT[1:], "account_number", "SEB account numbers have 7 digits."),
    (SEB, "0" + SEB_ACCOUNT, "account_number", "SEB account numbers have 7 digits."),
    ("3300", PERSONNUMMER[1:], "account_number",
     "Nordea personal accounts (clearing 3300) have 10 digits: your personal identity number "
     "without the century (YYMMDDNNNN)."),
    (SWEDBANK_8, SWEDBANK_8_ACCOUNT + "0", "account_number",
     "Swedbank account numbers have 7 to 10 digits."),
    # clearing numbers
    ("0123", SEB_ACCOUNT, "clearing_number", "There is no bank with clearing number 0123."),
    ("9990", SEB_ACCOUNT, "clearing_number", "There is no bank with clearing number 9990."),
    ("1000", SEB_ACCOUNT, "clearing_number",
     "Refunds can't be paid to clearing number 1000 (Sveriges Riksbank). "
     "Use another bank account, an IBAN or Swish."),
    ("123", SEB_ACCOUNT, "clearing_number", CLEARING_LENGTH),
    ("52145", SEB_ACCOUNT, "clearing_number", CLEARING_LENGTH),
    ("832799", SWEDBANK_8_ACCOUNT, "clearing_number", CLEARING_LENGTH),
    ("8327", SWEDBANK_8_ACCOUNT, "clearing_number",
     "Swedbank clearing numbers that start with 8 have 5 digits, like 8327-9: "
     "add the digit after the dash."),
    ("8327-8", SWEDBANK_8_ACCOUNT, "clearing_number",
     "The last digit of this Swedbank clearing number doesn't match the first four. "
     "Check it against your bank's app."),
    # letters
    ("52l4", SEB_ACCOUNT, "clearing_number",
     "A clearing number has digits only, like 6789 or 8327-9."),
    (SEB, SEB_ACCOUNT[:3] + "O" + SEB_ACCOUNT[4:], "account_number",
     "An account number has digits only."),
    # bankkonto itself drops every non-digit, so this one would pass it as SEB_ACCOUNT
    (SEB, SEB_ACCOUNT + "x", "account_number", "An account number has digits only."),
    (SEB, SEB_ACCOUNT.replace("3", "\u0663"), "account_number",  # Arabic-Indic three
     "An account number has digits only."),
])
def test_invalid_swedish_accounts_name_the_field(clearing, account, field, message):
    with pytest.raises(Invalid) as exc:
        parse_payout_details({"clearing_number": clearing, "account_number": account})
    assert exc.value.fields == {field: message}


def test_both_bank_fields_wrong_are_both_named():
    with pytest.raises(Invalid) as exc:
        parse_payout_details({"clearing_number": "12", "account_number": "abc"})
    assert exc.value.fields == {
        "clearing_number": CLEARING_LENGTH,
        "account_number": "An account number has digits only.",
    }


# --- IBAN --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, compact, masked", [
    ("SE45 5000 0000 0583 9825 7466", "SE4550000000058398257466", "SE45 •••• •••• •••• 7466"),
    ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "DE89 •••• •••• •••• 3000"),
    ("de89-3704-0044-0532-0130-00", "DE89370400440532013000", "DE89 •••• •••• •••• 3000"),
    (" GB82 WEST 1234 5698 7654 32 ", "GB82WEST12345698765432", "GB82 •••• •••• •••• 5432"),
])
def test_valid_ibans(typed, compact, masked):
    destination = parse_payout_details({"iban": typed})
    assert destination.kind == "iban"
    assert destination.details == {"iban": compact}
    assert destination.masked == masked
    assert destination.as_provider_destination() == {"type": "iban", "iban": compact}


@pytest.mark.parametrize("typed, message", [
    ("DE88 3704 0044 0532 0130 00", "This IBAN's check digits don't add up. Check it for a typo."),
    ("SE45 5000 0000 0583 9825 7467",
     "This IBAN's check digits don't add up. Check it for a typo."),
    ("DE89 3704 0044 0532 0130 0",
     "IBANs from Germany have 22 characters; this one has 21. "
     "Check it for a missing or extra character."),
    ("SE45 5000 0000 0583 9825 74661",
     "IBANs from Sweden have 24 characters; this one has 25. "
     "Check it for a missing or extra character."),
    ("89 3704 0044 0532 0130 00", "IBANs start with a two-letter country code, like SE or DE."),
    ("5000 0000 0583 9825 7466", "IBANs start with a two-letter country code, like SE or DE."),
    ("XX89 3704 0044 0532 0130 00",
     "XX is not the country code of a country that uses IBANs, like SE or DE."),
    ("DE89 3704 0044 0532 0130 0!", "An IBAN has only letters and digits."),
])
def test_invalid_ibans(typed, message):
    with pytest.raises(Invalid) as exc:
        parse_payout_details({"iban": typed})
    assert exc.value.fields == {"iban": message}


def test_iban_with_a_letter_where_the_country_wants_a_digit():
    # Valid mod 97 (check digits recomputed) but Germany's account part is digits only.
    from stdnum import iban

    body = "37040044053201300A"
    number = "DE" + iban.calc_check_digits("DE00" + body) + body
    with pytest.raises(Invalid) as exc:
        parse_payout_details({"iban": number})
    assert exc.value.fields == {
        "iban": "This doesn't look like an IBAN from Germany. Check it for a typo.",
    }


# --- Swish -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "070-123 45 67", "0701234567", "+46 70 123 45 67", "46701234567", "+46701234567",
    "0046 70 123 45 67", "070 123 45 67", "(070) 123 45 67",
])
def test_swish_numbers_normalize_to_swish_digits(typed):
    destination = parse_payout_details({"swish_number": typed})
    assert destination.kind == "swish"
    assert destination.details == {"swish_number": "46701234567"}
    assert destination.masked == "070-••• •• 67"
    assert destination.as_provider_destination() == {
        "type": "swish", "swish_number": "46701234567",
    }


def test_other_swedish_mobile_prefixes():
    destination = parse_payout_details({"swish_number": "076-987 65 43"})
    assert destination.details == {"swish_number": "46769876543"}
    assert destination.masked == "076-••• •• 43"


@pytest.mark.parametrize("typed", [
    "08-123 456 78",  # Stockholm landline
    "+46 8 123 456 78",
    "031-12 34 56",  # Gothenburg landline
    "+47 412 34 567",  # Norwegian mobile
    "+358 40 123 4567",  # Finnish mobile
    "4741234567",  # Norwegian mobile written the Swish way
    "070-123 45",  # too short
    "070-123 45 678",  # too long
    "070-ABC 45 67",  # phonenumbers would read letters as keypad digits
    "hello",
])
def test_swish_refuses_what_is_not_a_swedish_mobile(typed):
    with pytest.raises(Invalid) as exc:
        parse_payout_details({"swish_number": typed})
    assert exc.value.fields == {
        "swish_number": "Swish payouts go to a Swedish mobile number, like 070-123 45 67.",
    }


# --- shape -------------------------------------------------------------------------------------

CHOOSE_ONE = "Choose one: a Swedish bank account, an IBAN or a Swish number."


@pytest.mark.parametrize("data, fields", [
    ({}, {"destination": CHOOSE_ONE}),
    ({"note": "refund please"}, {"destination": CHOOSE_ONE}),
    ({"iban": "", "swish_number": "  ", "clearing_number": None}, {"destination": CHOOSE_ONE}),
    ({"iban": "DE89370400440532013000", "swish_number": "0701234567"},
     {"destination": CHOOSE_ONE}),
    ({"iban": "DE89370400440532013000", "clearing_number": SEB, "account_number": SEB_ACCOUNT},
     {"destination": CHOOSE_ONE}),
    ({"swish_number": "0701234567", "account_number": SEB_ACCOUNT},
     {"destination": CHOOSE_ONE}),
    ({"clearing_number": SEB}, {"account_number": "Enter the account number too."}),
    ({"clearing_number": SEB, "account_number": "  "},
     {"account_number": "Enter the account number too."}),
    ({"account_number": SEB_ACCOUNT},
     {"clearing_number": "Enter the clearing number too: the 4 or 5 digits before the account "
                         "number."}),
    ({"clearing_number": "12", "account_number": ""},
     {"clearing_number": CLEARING_LENGTH, "account_number": "Enter the account number too."}),
    ({"clearing_number": 5214, "account_number": int(SEB_ACCOUNT)},
     {"clearing_number": "Must be text (a JSON string).",
      "account_number": "Must be text (a JSON string)."}),
    ({"clearing_number": SEB, "account_number": ["1", "2"]},
     {"account_number": "Must be text (a JSON string)."}),
    ({"iban": 12345}, {"iban": "Must be text (a JSON string)."}),
    ({"swish_number": 46701234567}, {"swish_number": "Must be text (a JSON string)."}),
    ({"swish_number": True}, {"swish_number": "Must be text (a JSON string)."}),
    ({"iban": "DE89" + "0" * 100}, {"iban": "Must be at most 64 characters; this has 104."}),
])
def test_shape(data, fields):
    with pytest.raises(Invalid) as exc:
        parse_payout_details(data)
    assert exc.value.fields == fields


@pytest.mark.parametrize("data", [None, [], "SE4550000000058398257466"])
def test_not_an_object(data):
    with pytest.raises(Invalid) as exc:
        parse_payout_details(data)
    assert exc.value.fields == {"destination": CHOOSE_ONE}


def test_unknown_extra_keys_are_ignored():
    destination = parse_payout_details({"iban": "DE89370400440532013000", "csrf_token": "x"})
    assert destination.details == {"iban": "DE89370400440532013000"}


# --- masks -------------------------------------------------------------------------------------

VALID_INPUTS = [
    {"clearing_number": c, "account_number": a} for c, a, *_ in VALID_ACCOUNTS
] + [
    {"iban": "SE45 5000 0000 0583 9825 7466"},
    {"iban": "DE89 3704 0044 0532 0130 00"},
    {"iban": "GB82 WEST 1234 5698 7654 32"},
]


@pytest.mark.parametrize("data", VALID_INPUTS)
def test_masks_show_at_most_the_last_four_of_the_body(data):
    destination = parse_payout_details(data)
    if destination.kind == "bank_account":
        body = destination.details["account_number"]
        shown = destination.masked.split(", account ")[1]
    else:
        body = destination.details["iban"][4:]
        shown = destination.masked[4:]
    shown_characters = re.sub(r"[^0-9A-Z]", "", shown)
    assert len(shown_characters) <= 4
    assert body.endswith(shown_characters)
    # and the whole number appears nowhere: not in the mask, not in repr() or str()
    for text in (destination.masked, repr(destination), str(destination)):
        assert body not in re.sub(r"\D", "", text) or len(body) <= 4


@pytest.mark.parametrize("text, masked", [
    ("1234 567 890-1", "••••8901"),
    ("DE89 3704 0044 0532 0130 00", "••••3000"),
    ("12345", "••••2345"),
    ("1234", "••••"),
    ("", "••••"),
])
def test_mask_account_number(text, masked):
    assert mask_account_number(text) == masked


def test_destination_is_frozen():
    destination = parse_payout_details({"swish_number": "0701234567"})
    assert isinstance(destination, Destination)
    with pytest.raises(dataclasses.FrozenInstanceError):
        destination.kind = "iban"  # type: ignore[misc]
