"""Swedish clearing numbers: `bankkonto` 1.0.1's tables with a dated list of corrections.

bankkonto 1.0.1 (the latest release, 2025-03-26) predates the banks' current register, so
on its own it refuses some real accounts and names some banks as they were years ago. The
corrections below are checked against (see docs/clearing-numbers.md for the full comparison):

- Bankgirot, *Bankernas kontonummer* ("bankernaskontonummeruppbyggnad_anvandarmanual_sv.pdf"),
  edition 2024-02-22, archived at https://web.archive.org/web/20240222154913/https://www.bankgirot.se/globalassets/dokument/anvandarmanualer/bankernaskontonummeruppbyggnad_anvandarmanual_sv.pdf
  (machine-readable in github.com/Bankinfrastruktur/BankData, Data/Bankgirot.txt): ranges,
  account types and check-digit methods;
- Bankinfrastruktur i Sverige AB (BSAB, the clearing-number registrar),
  *Clearingnummer – institut i nummerordning*, edition 2024-12-02
  (https://www.bankinfrastruktur.se/framtidens-betalningsinfrastruktur/konto-och-clearingnummer):
  the banks' current names.

To update: when either source publishes a new edition, compare it range by range with
bankkonto's `account.TYPE_1_ACCOUNT_NUMBERS` / `TYPE_2_ACCOUNT_NUMBERS`, add or change rows
here, set `CHECKED_ON` and the editions, and add a case to tests/test_clearing_table.py. When a
bankkonto release carries a correction itself, delete the row here (the test for the row then
still passes, through bankkonto).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import bankkonto
from bankkonto import account as bankkonto_account
from bankkonto import clearing as bankkonto_clearing

CHECKED_ON = date(2026, 12, 3)
BANKGIROT_EDITION = date(2024, 2, 22)
BSAB_EDITION = date(2024, 12, 2)


@dataclass(frozen=True)
class Range:
    first: int
    last: int
    bank: str
    type_: int  # 1: clearing + 7-digit account; 2: the account alone is checked
    comment: int  # Bankgirot's "Kommentar": which digits the check covers

    def holds(self, clearing: int) -> bool:
        return self.first <= clearing <= self.last


# Missing from bankkonto 1.0.1's account table (every account refused as "no such bank").
ADDED = (
    Range(9070, 9079, "Multitude Bank", 1, 1),  # fd. Ferratum Bank
    Range(9580, 9589, "Aion Bank", 1, 1),
    Range(9710, 9719, "Lunar Bank", 1, 2),
    Range(9750, 9759, "Northmill Bank", 1, 2),
)
# Right rules, stale names (bankkonto's account table, then its older clearing register).
RENAMED = (
    Range(9640, 9649, "NOBA Bank", 1, 2),  # bankkonto: "Nordax Bank AB" / "Nordax Finans"
)
# bankkonto's older clearing register (used only to name a range we can't pay to) also says
# "Aman Bank (ub)" for Lunar's 9710-9719; ADDED answers for that range first.

TYPE_1_WIDTH = 7


def _row(clearing: str) -> Range | None:
    number = int(clearing[:4])
    return next((r for r in (*ADDED, *RENAMED) if r.holds(number)), None)


def account_format(clearing: str) -> tuple[str, int, int]:
    """(bank name, account type, comment) for a 4- or 5-digit clearing number; raises
    bankkonto.BankkontoValidationError for a range no bank holds accounts in."""
    row = _row(clearing)
    if row is not None and row in ADDED:
        return row.bank, row.type_, row.comment
    name, type_, _format, comment = (
        bankkonto_account.get_account_number_format_based_on_clearing_number(clearing))
    return (row.bank if row else name), type_, comment


def expected_length(clearing: str) -> int:
    row = _row(clearing)
    if row is not None and row in ADDED:
        return TYPE_1_WIDTH
    return bankkonto_account.expected_account_length(clearing)


def validate(clearing: str, account: str) -> None:
    """Raises bankkonto.BankkontoValidationError when the check digit is wrong."""
    row = _row(clearing)
    if row is None or row not in ADDED:
        bankkonto.validate(clearing, account)
        return
    # Type 1 rows only: comment 1 leaves out the clearing number's first digit.
    digits = (clearing[1:4] if row.comment == 1 else clearing[:4]) + account
    if len(account) != TYPE_1_WIDTH or not _mod11(digits):
        raise bankkonto.BankkontoValidationError(f"Check digit wrong for {row.bank}.")


def holder(clearing: str) -> str:
    """Who holds a clearing range (also ranges with no accounts we can pay to)."""
    row = _row(clearing)
    if row is not None:
        return row.bank
    return bankkonto_clearing.get_bank_from_clearing_number(clearing[:4])


def _mod11(digits: str) -> bool:
    # Weights 1, 2, ..., 10, 1, 2, ... from the right (Bankgirot's "11-modul").
    return sum(int(d) * (i % 10 + 1) for i, d in enumerate(reversed(digits))) % 11 == 0
