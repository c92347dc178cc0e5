"""A sandbox bank: the camt.054.001.02 credit notification a bank would send when customers
pay invoices to the provider's bankgiro with their OCR references. For demo data and tests.
Its output validates against the official ISO 20022 schema (docs/bank-files.md)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement, indent, tostring

NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"


@dataclass(frozen=True)
class Credit:
    amount_minor: int
    reference: str  # an OCR reference (sent as SCOR), or free text (sent unstructured)
    payer_name: str = ""
    currency: str = "SEK"
    structured: bool = True


def _text(parent: Element, tag: str, text: str, **attrs) -> Element:
    element = SubElement(parent, tag, attrs)
    element.text = text
    return element


def _amount(minor: int) -> str:
    return f"{Decimal(minor) / 100:.2f}"


def notification(bankgiro: str, credits: list[Credit], booked_on: date, created: datetime,
                 message_id: str | None = None) -> bytes:
    """One entry per credit, each with the bank's own unique reference (AcctSvcrRef)."""
    # Max35Text everywhere: the references below stay within it.
    message_id = message_id or f"SBX{booked_on:%Y%m%d}{secrets.token_hex(4).upper()}"
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S")
    root = Element("Document", {"xmlns": NS})
    message = SubElement(root, "BkToCstmrDbtCdtNtfctn")
    header = SubElement(message, "GrpHdr")
    _text(header, "MsgId", message_id)
    _text(header, "CreDtTm", stamp)
    note = SubElement(message, "Ntfctn")
    _text(note, "Id", f"{message_id}-1")
    _text(note, "CreDtTm", stamp)
    account = SubElement(note, "Acct")
    other = SubElement(SubElement(account, "Id"), "Othr")
    _text(other, "Id", "".join(c for c in bankgiro if c.isdigit()))
    _text(SubElement(other, "SchmeNm"), "Prtry", "BGNR")
    _text(account, "Ccy", "SEK")
    for number, credit in enumerate(credits, start=1):
        bank_ref = f"{message_id[:24]}{number:06d}"
        entry = SubElement(note, "Ntry")
        _text(entry, "Amt", _amount(credit.amount_minor), Ccy=credit.currency)
        _text(entry, "CdtDbtInd", "CRDT")
        _text(entry, "Sts", "BOOK")
        _text(SubElement(entry, "BookgDt"), "Dt", booked_on.isoformat())
        _text(SubElement(entry, "ValDt"), "Dt", booked_on.isoformat())
        _text(entry, "AcctSvcrRef", bank_ref)
        family = SubElement(SubElement(SubElement(entry, "BkTxCd"), "Domn"), "Cd")
        family.text = "PMNT"
        domain = entry.find("BkTxCd/Domn")
        fmly = SubElement(domain, "Fmly")
        _text(fmly, "Cd", "RCDT")
        _text(fmly, "SubFmlyCd", "DMCT")
        tx = SubElement(SubElement(entry, "NtryDtls"), "TxDtls")
        refs = SubElement(tx, "Refs")
        _text(refs, "AcctSvcrRef", f"{bank_ref}-1")
        _text(refs, "EndToEndId", "NOTPROVIDED")
        _text(SubElement(SubElement(tx, "AmtDtls"), "TxAmt"), "Amt",
              _amount(credit.amount_minor), Ccy=credit.currency)
        if credit.payer_name:
            _text(SubElement(SubElement(tx, "RltdPties"), "Dbtr"), "Nm", credit.payer_name)
        if credit.reference:
            remittance = SubElement(tx, "RmtInf")
            if credit.structured:
                info = SubElement(SubElement(remittance, "Strd"), "CdtrRefInf")
                _text(SubElement(SubElement(info, "Tp"), "CdOrPrtry"), "Cd", "SCOR")
                _text(info, "Ref", credit.reference)
            else:
                _text(remittance, "Ustrd", credit.reference[:140])
    indent(root)
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + tostring(root, encoding="utf-8")
