"""The bank's files about money coming in: camt.054 credit notifications (the primary format)
and Bankgirot's BgMax (kept for the 2026 transition and for history), read into one shape.

Flask-free and database-free: `read(data, media_type)` turns bytes into a `BankFile` or raises
`BankFileError` with every problem found, each with its line (BgMax) or element (camt.054).
Format facts and their public sources are in docs/bank-files.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

MAX_FILE_BYTES = 1024 * 1024  # a day's notification of a small merchant book is a few KB


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None  # BgMax: 1-based line number
    element: str | None = None  # camt.054: the element's path

    def as_api(self) -> dict:
        where = {"line": self.line} if self.line is not None else {"element": self.element or "/"}
        return {**where, "message": self.message}


class BankFileError(Exception):
    """The file can't be read as a whole: nothing in it is booked."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class IncomingPayment:
    """One payment the bank credited. `booking_key` is the bank's own reference for it, unique
    per receiving account (never the payer's reference, which repeats)."""

    booking_key: str
    amount_minor: int
    currency: str
    reference: str  # as the payer gave it ('' when none)
    structured: bool  # the bank reports it as an OCR reference (SCOR / BgMax code 2)
    booking_date: date
    payer_name: str = ""


@dataclass(frozen=True)
class BankFile:
    format: str  # "camt054" or "bgmax"
    file_key: str  # the same file delivered again has the same key
    account: str  # the receiving bankgiro number, digits only
    payments: list[IncomingPayment] = field(default_factory=list)
    test: bool = False


def read(data: bytes, media_type: str) -> BankFile:
    """The file in `data`, by its media type: application/xml (camt.054), text/plain (BgMax)."""
    from . import bgmax, camt054

    if len(data) > MAX_FILE_BYTES:
        raise BankFileError([Problem(f"The file is larger than {MAX_FILE_BYTES} bytes.",
                                     element="/")])
    if media_type == "application/xml":
        return camt054.parse(data)
    if media_type == "text/plain":
        return bgmax.parse(data)
    raise ValueError(media_type)


def sniff(data: bytes) -> str:
    """The media type of a file given on the command line: XML starts with '<'."""
    return "application/xml" if data.lstrip()[:1] == b"<" else "text/plain"
