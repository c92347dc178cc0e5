"""Bankgirot's BgMax file (Bankgiro Inbetalningar): 80-character records in ISO-8859-1.

Tolerant where Bankgirot's own example files are sloppy (right-trimmed lines are padded, a
missing final line end and trailing empty lines are fine, unknown record types are skipped as
the manual asks), strict about everything else: a TAB, a line over 80 characters, a record out
of place, or counts and sums that don't match the end and deposit records reject the file.
Layouts and sources: docs/bank-files.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from . import BankFile, BankFileError, IncomingPayment, Problem

WIDTH = 80
PAYMENT, DEDUCTION = "20", "21"
KNOWN = {"01", "05", "20", "21", "22", "23", "25", "26", "27", "28", "29", "15", "70"}


def _field(record: str, start: int, end: int) -> str:
    """Positions are 1-based and inclusive, as the manual writes them."""
    return record[start - 1:end]


@dataclass
class _Payment:
    line: int
    kind: str
    sender: str
    reference: str
    amount: int
    reference_code: str
    serial: str
    extra_references: list[str] = field(default_factory=list)
    payer_name: str = ""


@dataclass
class _Section:
    line: int
    bankgiro: str
    currency: str
    payments: list[_Payment] = field(default_factory=list)


class _Reader:
    def __init__(self):
        self.problems: list[Problem] = []
        self.counts = {"20": 0, "21": 0, "22/23": 0, "15": 0}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(message, line=line))

    def number(self, line: int, record: str, start: int, end: int, what: str) -> int:
        text = _field(record, start, end)
        if not text.isdigit():
            self.problem(line, f"{what} (positions {start}–{end}) must be digits, not "
                               f"{text.strip()!r}.")
            return 0
        return int(text)

    def day(self, line: int, record: str, start: int, end: int) -> date | None:
        text = _field(record, start, end)
        try:
            return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            self.problem(line, f"The payment date (positions {start}–{end}) is not a date: "
                               f"{text!r}.")
            return None


def _records(data: bytes, reader: _Reader) -> list[tuple[int, str]]:
    text = data.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():  # no final line end, or empty lines after TK70
        lines.pop()
    records = []
    for number, line in enumerate(lines, start=1):
        if "\t" in line:
            reader.problem(number, "The line holds a TAB: a BgMax record has only blanks.")
        elif len(line) > WIDTH:
            reader.problem(number, f"The line is {len(line)} characters long: a BgMax record "
                                   f"has {WIDTH}.")
        elif not line.strip():
            reader.problem(number, "An empty line inside the file.")
        else:
            records.append((number, line.ljust(WIDTH)))
    return records


def parse(data: bytes) -> BankFile:
    reader = _Reader()
    records = _records(data, reader)
    if not records or _field(records[0][1], 1, 2) != "01":
        raise BankFileError(reader.problems + [Problem(
            "A BgMax file starts with a start record (01).", line=1)])
    first_line, start = records[0]
    if _field(start, 3, 22).strip() != "BGMAX":
        reader.problem(first_line, "The start record's layout name is not BGMAX.")
    file_key = f"bgmax:{_field(start, 25, 44)}:{_field(start, 45, 45)}"
    sections, end = _sections(records[1:], reader)
    if end is None:
        reader.problem(records[-1][0], "A BgMax file ends with an end record (70).")
    else:
        _check_end(end, reader)
    if not sections:
        reader.problem(first_line, "The file has no deposit (05 … 15).")
    payments = [p for section in sections for p in section]
    accounts = {p.booking_key.split(":")[1] for p in payments}
    if len(accounts) > 1:
        reader.problem(first_line, "The file is for more than one bankgiro number.")
    if reader.problems:
        raise BankFileError(reader.problems)
    account = accounts.pop() if accounts else ""
    return BankFile("bgmax", file_key, account, payments, test=_field(start, 45, 45) == "T")


def _sections(records, reader: _Reader):
    sections: list[list[IncomingPayment]] = []
    section: _Section | None = None
    payment: _Payment | None = None
    end = None
    for line, record in records:
        kind = _field(record, 1, 2)
        if end is not None:
            reader.problem(line, "A record after the end record (70).")
            break
        if kind not in KNOWN:
            continue  # the manual: a reader ignores record types it doesn't know
        if kind == "70":
            if section is not None:
                reader.problem(section.line, "A deposit (05) without its deposit record (15).")
            end = (line, record)
        elif kind == "05":
            if section is not None:
                reader.problem(line, "An opening record (05) inside an open deposit.")
            section = _Section(line, _field(record, 3, 12), _field(record, 23, 25).strip())
            payment = None
        elif section is None:
            reader.problem(line, f"A record of type {kind} outside a deposit (05 … 15).")
        elif kind in (PAYMENT, DEDUCTION):
            reader.counts[kind] += 1
            payment = _Payment(
                line, kind, _field(record, 3, 12), _field(record, 13, 37).strip(),
                reader.number(line, record, 38, 55, "The amount"), _field(record, 56, 56),
                _field(record, 58, 69))
            section.payments.append(payment)
        elif kind == "15":
            reader.counts["15"] += 1
            sections.append(_deposit(section, line, record, reader))
            section = payment = None
        elif payment is None:
            reader.problem(line, f"A record of type {kind} before any payment of its deposit.")
        elif kind in ("22", "23"):
            reader.counts["22/23"] += 1
            payment.extra_references.append(_field(record, 13, 37).strip())
        elif kind == "26":
            payment.payer_name = _field(record, 3, 37).strip()
    if section is not None and end is None:
        reader.problem(section.line, "A deposit (05) without its deposit record (15).")
    return sections, end


def _deposit(section: _Section, line: int, record: str, reader: _Reader
             ) -> list[IncomingPayment]:
    paid_on = reader.day(line, record, 38, 45)
    serial = _field(record, 46, 50)
    amount = reader.number(line, record, 51, 68, "The deposit amount")
    count = reader.number(line, record, 72, 79, "The number of payments")
    currency = _field(record, 69, 71).strip() or section.currency
    if not section.payments:
        reader.problem(section.line, "A deposit without payments.")
    total = sum(p.amount if p.kind == PAYMENT else -p.amount for p in section.payments)
    if amount != total:
        reader.problem(line, f"The deposit amount {amount} öre is not the sum of its payments "
                             f"less deductions, {total} öre.")
    if count != len(section.payments):
        reader.problem(line, f"The deposit says {count} payments; it holds "
                             f"{len(section.payments)}.")
    if paid_on is None:
        return []
    bankgiro = section.bankgiro.lstrip("0")
    found = []
    for ordinal, p in enumerate(section.payments, start=1):
        # The BGC serial alone repeats in Bankgirot's own samples: the deposit (unique per
        # bankgiro and year) and the payment's place in it make the booking's identity.
        key = (f"bgmax:{bankgiro}:{paid_on.year}:{serial}:{ordinal}:{p.serial}:{p.sender}:"
               f"{p.amount}")
        reference, structured = p.reference, p.reference_code == "2"
        if p.extra_references:
            reference, structured = ", ".join(r for r in [p.reference, *p.extra_references]
                                              if r), False
        amount = p.amount if p.kind == PAYMENT else -p.amount
        found.append(IncomingPayment(key, amount, currency, reference, structured, paid_on,
                                     p.payer_name))
    return found


def _check_end(end: tuple[int, str], reader: _Reader) -> None:
    line, record = end
    stated = {
        "20": reader.number(line, record, 3, 10, "The number of payment records"),
        "21": reader.number(line, record, 11, 18, "The number of deduction records"),
        "22/23": reader.number(line, record, 19, 26, "The number of extra reference records"),
        "15": reader.number(line, record, 27, 34, "The number of deposit records"),
    }
    for kind, count in stated.items():
        if count != reader.counts[kind]:
            reader.problem(line, f"The end record counts {count} records of type {kind}; the "
                                 f"file holds {reader.counts[kind]}.")
