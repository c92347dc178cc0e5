"""BgMax and camt.054 files built to the documented layouts (docs/bank-files.md), for tests.

Bankgirot's own example files carry no licence that lets us copy them, so these builders make
files of the same shape, and `quirky` reproduces each defect the reference notes found in
them (right-trimmed lines, TABs, no final line end, empty lines after the end record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

BANKGIRO = "9912346"


def record(*parts: tuple[int, str]) -> str:
    """An 80-character record from (1-based start position, text) parts."""
    line = [" "] * 80
    for start, text in parts:
        line[start - 1:start - 1 + len(text)] = list(text)
    return "".join(line)


@dataclass
class Pay:
    amount: int
    reference: str = ""
    code: str = "2"  # reference code: 2 = correct OCR, 3 = as typed, 0/1 = none, 5 = wrong
    serial: str = "000000000001"
    sender: str = "0000000000"
    deduction: bool = False
    extra: list[tuple[str, str, int]] = field(default_factory=list)  # (kind 22/23, ref, amount)
    name: str = ""


@dataclass
class Deposit:
    payments: list[Pay]
    serial: int = 1
    paid_on: date = date(2026, 11, 2)
    bankgiro: str = BANKGIRO
    currency: str = "SEK"


def _payment(p: Pay) -> list[str]:
    reference = p.reference.rjust(25) if p.code == "2" else p.reference.ljust(25)
    lines = [record((1, "21" if p.deduction else "20"), (3, p.sender), (13, reference),
                    (38, f"{p.amount:018d}"), (56, p.code), (57, "1"), (58, p.serial),
                    (70, "0"), *([(71, "0")] if p.deduction else []))]
    for kind, ref, amount in p.extra:
        lines.append(record((1, kind), (3, p.sender), (13, ref.rjust(25)),
                            (38, f"{amount:018d}"), (56, "2"), (57, "1"), (58, p.serial),
                            (70, "0")))
    if p.name:
        lines.append(record((1, "26"), (3, p.name)))
    return lines


def bgmax(*deposits: Deposit, stamp: str = "20261102061500123456", test: str = "P",
          counts: tuple[int, int, int, int] | None = None, extra_records: list[str] = ()
          ) -> list[str]:
    """The file's records, each 80 characters; join them with CRLF to get the file."""
    lines = [record((1, "01"), (3, "BGMAX"), (23, "01"), (25, stamp), (45, test))]
    n20 = n21 = n22 = 0
    for d in deposits:
        lines.append(record((1, "05"), (3, d.bankgiro.rjust(10, "0")), (23, d.currency)))
        for p in d.payments:
            lines += _payment(p)
            n20 += not p.deduction
            n21 += p.deduction
            n22 += len(p.extra)
        lines += list(extra_records)
        total = sum(-p.amount if p.deduction else p.amount for p in d.payments)
        lines.append(record((1, "15"), (3, "0" * 19 + "1234" + "000012345678"),
                            (38, d.paid_on.strftime("%Y%m%d")), (46, f"{d.serial:05d}"),
                            (51, f"{total:018d}"), (69, d.currency),
                            (72, f"{len(d.payments):08d}")))
    c = counts or (n20, n21, n22, len(deposits))
    lines.append(record((1, "70"), (3, f"{c[0]:08d}"), (11, f"{c[1]:08d}"), (19, f"{c[2]:08d}"),
                        (27, f"{c[3]:08d}")))
    return lines


def as_file(lines: list[str], end: str = "\r\n", final_newline: bool = True) -> bytes:
    text = end.join(lines) + (end if final_newline else "")
    return text.encode("latin-1")
