"""Where a refund goes when it has nowhere to go: the payout details the customer chooses.

Three shapes are accepted, exactly one at a time (the JSON API contract):
``{"clearing_number", "account_number"}`` (a Swedish bank account), ``{"iban"}`` or
``{"swish_number"}`` (a Swedish mobile number). Check digits are left to libraries:
`bankkonto` (the banks' type 1 / type 2 mod 11 / mod 10 rules, with the dated corrections in
`clearing_table`), `stdnum` (IBAN mod 97, and the
Luhn digit of Swedbank's 5-digit clearing numbers) and `phonenumbers` (which numbers are mobile).
This module only decides which field a problem belongs to and says so in words a customer can act
on. It imports no Flask and no database code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import bankkonto
import phonenumbers
from bankkonto.exceptions import SwedbankBankkontoValidationError
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from . import clearing_table, validation
from .errors import Invalid

Kind = Literal["bank_account", "iban", "swish"]

SHAPES: dict[Kind, tuple[str, ...]] = {
    "bank_account": ("clearing_number", "account_number"),
    "iban": ("iban",),
    "swish": ("swish_number",),
}
ALL_FIELDS = tuple(name for names in SHAPES.values() for name in names)

MAX_LENGTH = 64  # longer than any IBAN (34), account or phone number, with room for spaces
MASK = "••••"
# Type 2 accounts (Handelsbanken, Swedbank 8xxx-x, Plusgirot...) are written without their
# leading zeros by their banks; other banks ask you to pad them. Fewer than this many digits is
# taken as a number cut short rather than one to pad.
MIN_PADDED_ACCOUNT_DIGITS = 7

# What people type between digit groups: spaces of any kind and dashes of any kind.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_DIGITS = re.compile(r"[0-9]+")

CHOOSE_ONE = "Choose one: a Swedish bank account, an IBAN or a Swish number."
MUST_BE_TEXT = validation.NOT_TEXT
CLEARING_LENGTH = (
    "Swedish clearing numbers have 4 digits (5 for some Swedbank accounts, like 8327-9)."
)
CLEARING_DIGITS = "A clearing number has digits only, like 6789 or 8327-9."
SWEDBANK_FIFTH_DIGIT = (
    "Swedbank clearing numbers that start with 8 have 5 digits, like 8327-9: "
    "add the digit after the dash."
)
SWEDBANK_CLEARING_CHECK = (
    "The last digit of this Swedbank clearing number doesn't match the first four. "
    "Check it against your bank's app."
)
ACCOUNT_DIGITS = "An account number has digits only."
MISSING_CLEARING = "Enter the clearing number too: the 4 or 5 digits before the account number."
MISSING_ACCOUNT = "Enter the account number too."
IBAN_COUNTRY = "IBANs start with a two-letter country code, like SE or DE."
IBAN_CHARACTERS = "An IBAN has only letters and digits."
IBAN_CHECKSUM = "This IBAN's check digits don't add up. Check it for a typo."
SWISH_MOBILE = "Swish payouts go to a Swedish mobile number, like 070-123 45 67."


@dataclass(frozen=True)
class Destination:
    """A validated, normalized payout destination.

    `details` holds the full numbers and is kept out of repr() so that logging a Destination
    never writes them; `masked` is how people and logs may see it.
    """

    kind: Kind
    details: dict[str, str] = field(repr=False)
    masked: str

    def __str__(self) -> str:
        return self.masked

    def as_provider_destination(self) -> dict[str, str]:
        """The shape the payout provider's API takes."""
        return {"type": self.kind, **{name: self.details[name] for name in SHAPES[self.kind]}}


def mask_account_number(text: str) -> str:
    """Show only the last 4 letters or digits of a number, for audit records and logs.

    Separators are ignored; a number of 4 characters or fewer is hidden completely.
    """
    characters = re.sub(r"[^0-9A-Za-z]", "", str(text))
    if len(characters) <= 4:
        return MASK
    return MASK + characters[-4:]


def parse_payout_details(data: dict) -> Destination:
    """Check what the customer typed and turn it into a `Destination`, or raise `Invalid`
    with one message per bad field."""
    if not isinstance(data, dict):
        raise Invalid(fields={"destination": CHOOSE_ONE})
    given = {name: data[name] for name in ALL_FIELDS if not _is_blank(data.get(name))}
    kinds = [kind for kind, names in SHAPES.items() if any(name in given for name in names)]
    if len(kinds) != 1:
        raise Invalid(fields={"destination": CHOOSE_ONE})
    kind = kinds[0]

    problems: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name, value in given.items():
        if not isinstance(value, str):
            problems[name] = MUST_BE_TEXT
        elif len(value) > MAX_LENGTH:
            problems[name] = validation.TOO_LONG.format(max=MAX_LENGTH, count=len(value))
        else:
            texts[name] = value

    if kind == "bank_account":
        return _bank_account(given, texts, problems)
    if problems:
        raise Invalid(fields=problems)
    if kind == "iban":
        return _iban(texts["iban"])
    return _swish(texts["swish_number"])


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _strip_separators(text: str) -> str:
    return _SEPARATORS.sub("", text)


# --- Swedish bank accounts -----------------------------------------------------------------


def _bank_account(given: dict, texts: dict[str, str], problems: dict[str, str]) -> Destination:
    if "clearing_number" not in given:
        problems["clearing_number"] = MISSING_CLEARING
    if "account_number" not in given:
        problems["account_number"] = MISSING_ACCOUNT

    clearing = account = None
    if "clearing_number" in texts:
        clearing, message = _clearing_number(_strip_separators(texts["clearing_number"]))
        if message:
            problems["clearing_number"] = message
    if "account_number" in texts:
        account = _strip_separators(texts["account_number"])
        if not _DIGITS.fullmatch(account):
            problems["account_number"] = ACCOUNT_DIGITS
            account = None

    if clearing is None or account is None:
        raise Invalid(fields=problems)

    bank, account, message = _account_number(clearing, account)
    if message:
        problems["account_number"] = message
    if problems:
        raise Invalid(fields=problems)

    shown_clearing = f"{clearing[:4]}-{clearing[4]}" if len(clearing) == 5 else clearing
    return Destination(
        kind="bank_account",
        details={"clearing_number": clearing, "account_number": account, "bank": bank},
        masked=f"{bank} {shown_clearing}, account {mask_account_number(account)}",
    )


def _clearing_number(digits: str) -> tuple[str | None, str | None]:
    """The clearing number's digits, or the problem with it."""
    if not _DIGITS.fullmatch(digits):
        return None, CLEARING_DIGITS
    if digits.startswith("8"):
        if len(digits) == 4:
            return None, SWEDBANK_FIFTH_DIGIT
        if len(digits) != 5:
            return None, CLEARING_LENGTH
        # bankkonto ignores the fifth digit; it is the Luhn (mod 10) digit of the first four.
        if not luhn.is_valid(digits):
            return None, SWEDBANK_CLEARING_CHECK
    elif len(digits) != 4:
        return None, CLEARING_LENGTH
    try:
        clearing_table.account_format(digits)
    except bankkonto.BankkontoValidationError:
        return None, _unknown_clearing_message(digits)
    return digits, None


def _unknown_clearing_message(digits: str) -> str:
    shown = f"{digits[:4]}-{digits[4]}" if len(digits) == 5 else digits
    try:
        # The older clearing register also lists institutions that hold no accounts we can pay.
        holder = clearing_table.holder(digits)
    except bankkonto.BankkontoException:
        return f"There is no bank with clearing number {shown}."
    return (
        f"Refunds can't be paid to clearing number {shown} ({holder}). "
        "Use another bank account, an IBAN or Swish."
    )


def _account_number(clearing: str, digits: str) -> tuple[str, str, str | None]:
    """(bank name, normalized account digits, problem or None) for a known clearing number."""
    name, type_, _comment = clearing_table.account_format(clearing)
    bank = _bank_display_name(name)
    length = clearing_table.expected_length(clearing)
    pads = type_ == 2 and "personkonto" not in name
    if pads and MIN_PADDED_ACCOUNT_DIGITS <= len(digits) < length:
        digits = digits.zfill(length)
    if len(digits) != length:
        if "personkonto" in name:
            return bank, digits, (
                f"{bank} personal accounts (clearing {clearing}) have 10 digits: "
                "your personal identity number without the century (YYMMDDNNNN)."
            )
        if pads:
            return bank, digits, (
                f"{bank} account numbers have {MIN_PADDED_ACCOUNT_DIGITS} to {length} digits."
            )
        return bank, digits, f"{bank} account numbers have {length} digits."
    try:
        clearing_table.validate(clearing, digits)
    except bankkonto.BankkontoValidationError as error:
        # The clearing number and the length were checked above, so what bankkonto refuses
        # here is the check digit.
        message = (
            f"The account number doesn't match {bank}'s check digit. "
            "Check it against your bank's app."
        )
        if isinstance(error, SwedbankBankkontoValidationError):
            # A few old Swedbank accounts have no valid check digit at all.
            message += " If it is right, give your IBAN instead."
        return bank, digits, message
    return bank, digits, None


def _bank_display_name(name: str) -> str:
    # bankkonto names the personal-account series "Nordea - personkonto".
    return name.split(" - ")[0].strip()


# --- IBAN ------------------------------------------------------------------------------------


def _iban(text: str) -> Destination:
    number = stdnum_iban.compact(re.sub(r"\s+", "", text))
    problem = _iban_problem(number)
    if problem:
        raise Invalid(fields={"iban": problem})
    masked = f"{number[:4]} {MASK} {MASK} {MASK} {number[-4:]}"
    return Destination(kind="iban", details={"iban": number}, masked=masked)


def _iban_problem(number: str) -> str | None:
    if not re.fullmatch(r"[A-Z]{2}.*", number):
        return IBAN_COUNTRY
    if not re.fullmatch(r"[A-Z0-9]+", number):
        return IBAN_CHARACTERS
    country_info = numdb.get("iban").info(number)[0][1]
    if not country_info:
        return f"{number[:2]} is not the country code of a country that uses IBANs, like SE or DE."
    country = country_info.get("country", number[:2])
    # The register gives the account part as "3!n16!n1!n": fixed lengths of each component.
    expected = 4 + sum(int(n) for n in re.findall(r"(\d+)!", country_info.get("bban", "")))
    if len(number) != expected:
        return (
            f"IBANs from {country} have {expected} characters; this one has {len(number)}. "
            "Check it for a missing or extra character."
        )
    try:
        stdnum_iban.validate(number)
    except InvalidChecksum:
        return IBAN_CHECKSUM
    except InvalidLength:
        return f"IBANs from {country} have {expected} characters. Check it for a typo."
    except InvalidFormat:
        return f"This doesn't look like an IBAN from {country}. Check it for a typo."
    except ValidationError:
        return IBAN_CHECKSUM
    return None


# --- Swish -----------------------------------------------------------------------------------


def _swish(text: str) -> Destination:
    number = _swedish_mobile(text)
    if number is None:
        raise Invalid(fields={"swish_number": SWISH_MOBILE})
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return Destination(
        kind="swish", details={"swish_number": e164.lstrip("+")}, masked=_mask_phone(national)
    )


def _swedish_mobile(text: str) -> phonenumbers.PhoneNumber | None:
    compact = re.sub(r"[\s\-\u2010-\u2015\u2212().]+", "", text)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    # phonenumbers reads letters as keypad digits (1-800-FLOWERS); a Swish number has none.
    if not _DIGITS.fullmatch(digits):
        return None
    if plus or (digits.startswith("46") and not digits.startswith("0")):
        candidate = "+" + digits  # "46701234567" is how Swish itself writes numbers
    else:
        candidate = digits  # national "070..." or international "0046..."
    try:
        number = phonenumbers.parse(candidate, "SE")
    except phonenumbers.NumberParseException:
        return None
    if (
        phonenumbers.region_code_for_number(number) != "SE"
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        return None
    return number


def _mask_phone(national: str) -> str:
    """ "070-123 45 67" -> "070-••• •• 67": the operator prefix and the last two digits."""
    prefix, sep, rest = national.partition("-")
    if not sep:
        prefix, rest = "", national
    keep_from = len(re.sub(r"\D", "", rest)) - 2
    out, seen = [], 0
    for char in rest:
        if char.isdigit():
            out.append(char if seen >= keep_from else "•")
            seen += 1
        else:
            out.append(char)
    return f"{prefix}{sep}{''.join(out)}"
