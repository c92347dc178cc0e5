"""ISO 20022 camt.054 (Bank-to-Customer Debit/Credit Notification), version 001.02 and the
later versions that keep the same elements.

Parsed with defusedxml: no DTDs, no entities, no external references, nothing fetched. The
elements this importer relies on are checked structurally against the official schema's rules
(the mandatory ones present, codes from their lists, amounts as decimals, element order not
enforced): docs/bank-files.md says which and why. Only booked credits become payments."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from . import BankFile, BankFileError, IncomingPayment, Problem

NAMESPACE = re.compile(r"\{urn:iso:std:iso:20022:tech:xsd:camt\.054\.001\.(\d\d)\}")
FIRST_VERSION = 2
CREDIT_DEBIT = ("CRDT", "DBIT")
STATUSES = ("BOOK", "PDNG", "INFO")


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _strip_namespace(root: Element) -> None:
    for element in root.iter():
        element.tag = _local(element)


class _Checker:
    def __init__(self):
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(message, element=path))

    def required(self, parent: Element, child: str, path: str) -> Element | None:
        found = parent.find(child)
        if found is None:
            self.problem(f"{path}/{child}", "A required element is missing.")
        return found

    def text(self, parent: Element, child: str, path: str, limit: int = 35) -> str:
        found = self.required(parent, child, path)
        value = (found.text or "").strip() if found is not None else ""
        if found is not None and not 1 <= len(value) <= limit:
            self.problem(f"{path}/{child}", f"Must be 1 to {limit} characters.")
        return value

    def code(self, parent: Element, child: str, path: str, allowed: tuple[str, ...]) -> str:
        found = self.required(parent, child, path)
        if found is None:
            return ""
        # From version 001.08 on, Sts holds its code in a Cd child.
        value = ((found.findtext("Cd") if len(found) else found.text) or "").strip()
        if value not in allowed:
            self.problem(f"{path}/{child}", f"Must be one of {', '.join(allowed)}, not "
                                            f"{value!r}.")
        return value

    def amount(self, element: Element | None, path: str) -> tuple[int, str] | None:
        if element is None:
            return None
        currency = element.get("Ccy", "")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            self.problem(path, "The Ccy attribute must be a three-letter currency code.")
        try:
            value = Decimal((element.text or "").strip())
        except InvalidOperation:
            value = Decimal(-1)
        minor = value * 100
        if value < 0 or minor != minor.to_integral_value() or not value.is_finite():
            self.problem(path, "The amount must be a decimal of at least 0 with at most two "
                               "decimals.")
            return None
        return int(minor), currency

    def day(self, parent: Element | None, path: str) -> date | None:
        if parent is None:
            return None
        text = (parent.findtext("Dt") or parent.findtext("DtTm") or "").strip()[:10]
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.problem(path, "Must hold a date (Dt) or a date and time (DtTm).")
            return None


def _root(data: bytes) -> Element:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BankFileError([Problem(f"Not well-formed XML, or XML with a DTD or entities: "
                                     f"{exc}", element="/")]) from None
    version = NAMESPACE.fullmatch(root.tag.rsplit("}", 1)[0] + "}") if "}" in root.tag else None
    if _local(root) != "Document" or version is None or int(version[1]) < FIRST_VERSION:
        raise BankFileError([Problem(
            "Not a camt.054 document: the root must be Document in the namespace "
            "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02 (or a later version).",
            element="/")])
    _strip_namespace(root)
    return root


def parse(data: bytes) -> BankFile:
    root = _root(data)
    check = _Checker()
    message = check.required(root, "BkToCstmrDbtCdtNtfctn", "/Document")
    if message is None:
        raise BankFileError(check.problems)
    path = "/Document/BkToCstmrDbtCdtNtfctn"
    header = check.required(message, "GrpHdr", path)
    message_id = ""
    if header is not None:
        message_id = check.text(header, "MsgId", f"{path}/GrpHdr")
        check.text(header, "CreDtTm", f"{path}/GrpHdr")
    notifications = message.findall("Ntfctn")
    if not notifications:
        check.problem(f"{path}/Ntfctn", "A required element is missing.")
    accounts, payments = set(), []
    for n, notification in enumerate(notifications, start=1):
        npath = f"{path}/Ntfctn[{n}]"
        check.text(notification, "Id", npath)
        check.text(notification, "CreDtTm", npath)
        account = _account(notification, npath, check)
        accounts.add(account)
        for e, entry in enumerate(notification.findall("Ntry"), start=1):
            payments += _entry(entry, f"{npath}/Ntry[{e}]", account, check)
    if len(accounts) > 1:
        check.problem(path, "The notification is for more than one account.")
    if check.problems:
        raise BankFileError(check.problems)
    return BankFile("camt054", f"camt054:{message_id}", accounts.pop() if accounts else "",
                    payments)


def _account(notification: Element, path: str, check: _Checker) -> str:
    account = check.required(notification, "Acct", path)
    ident = check.required(account, "Id", f"{path}/Acct") if account is not None else None
    if ident is None:
        return ""
    iban = (ident.findtext("IBAN") or "").strip()
    other = (ident.findtext("Othr/Id") or "").strip()
    if not (iban or other):
        check.problem(f"{path}/Acct/Id", "Must hold an IBAN or Othr/Id.")
    return iban or re.sub(r"\D", "", other)


def _entry(entry: Element, path: str, account: str, check: _Checker) -> list[IncomingPayment]:
    amount = check.amount(check.required(entry, "Amt", path), f"{path}/Amt")
    direction = check.code(entry, "CdtDbtInd", path, CREDIT_DEBIT)
    status = check.code(entry, "Sts", path, STATUSES)
    check.required(entry, "BkTxCd", path)
    reversal = (entry.findtext("RvslInd") or "").strip() == "true"
    if amount is None or direction != "CRDT" or status != "BOOK" or reversal:
        return []  # money out, not yet booked, or taking a credit back: nothing to book here
    booked_on = (check.day(entry.find("BookgDt"), f"{path}/BookgDt")
                 or check.day(entry.find("ValDt"), f"{path}/ValDt"))
    if booked_on is None:
        check.problem(f"{path}/BookgDt", "A booked credit needs its booking date (BookgDt).")
        return []
    entry_ref = (entry.findtext("AcctSvcrRef") or "").strip()
    entry_fallback = (entry.findtext("NtryRef") or "").strip()
    details = entry.findall("NtryDtls/TxDtls")
    found = []
    for t, tx in enumerate(details or [None], start=1):
        tpath = f"{path}/NtryDtls/TxDtls[{t}]"
        value = amount
        if tx is not None and (tx_amount := tx.find("AmtDtls/TxAmt/Amt")) is not None:
            value = check.amount(tx_amount, f"{tpath}/AmtDtls/TxAmt/Amt")
        elif len(details) > 1:
            check.problem(f"{tpath}/AmtDtls/TxAmt/Amt", "Each payment of a batch entry needs "
                                                        "its own amount.")
        if value is None:
            continue
        reference, structured = _reference(tx)
        payer = ""
        if tx is not None:
            payer = (tx.findtext("RltdPties/Dbtr/Nm") or tx.findtext("RltdPties/Dbtr/Pty/Nm")
                     or "").strip()
        key = _booking_key(account, tx, entry_ref, entry_fallback, t,
                           (booked_on, value, reference, payer))
        found.append(IncomingPayment(key, value[0], value[1], reference, structured,
                                     booked_on, payer))
    return found


def _reference(tx: Element | None) -> tuple[str, bool]:
    if tx is None:
        return "", False
    for info in tx.findall("RmtInf/Strd/CdtrRefInf"):
        ref = (info.findtext("Ref") or "").strip()
        kind = (info.findtext("Tp/CdOrPrtry/Cd") or "").strip()
        if ref:
            return ref, kind == "SCOR"
    return " ".join(u.text.strip() for u in tx.findall("RmtInf/Ustrd") if u.text).strip(), False


def _booking_key(account: str, tx: Element | None, entry_ref: str, entry_fallback: str,
                 ordinal: int, content: tuple) -> str:
    """The bank's own reference for the booking: the transaction's, else the entry's with the
    transaction's place in it, else (flagged by its prefix) a hash of what the payment says."""
    tx_ref = (tx.findtext("Refs/AcctSvcrRef") or "").strip() if tx is not None else ""
    if tx_ref:
        return f"camt:{account}:tx:{tx_ref}"
    if entry_ref:
        return f"camt:{account}:entry:{entry_ref}:{ordinal}"
    if entry_fallback:
        return f"camt:{account}:ntryref:{entry_fallback}:{ordinal}"
    digest = hashlib.sha256(repr(content).encode()).hexdigest()[:32]
    return f"camt:{account}:hash:{digest}:{ordinal}"
