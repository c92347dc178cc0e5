"""Reading the bank's files (returns_app/bankfiles): OCR references, BgMax with every quirk of
Bankgirot's own samples, camt.054 (hardened, checked element by element), banking days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_app.bankfiles import BankFileError, bgmax, camt054, ocr, read, sandbox
from returns_app.domain import banking_days
from tests.bank_file_builders import BANKGIRO, Deposit, Pay, as_file, record
from tests.bank_file_builders import bgmax as build

FILES = Path(__file__).parent / "bank_files"
MINIMAL = (FILES / "camt054_minimal.xml").read_bytes()

# --- OCR ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference, valid", [
    ("100012392", True),  # the worked example: payload 1000123, length digit 9, check 2
    ("123455", False),  # Luhn only: its second-to-last digit is no length digit
    ("655969", True),  # Bankgirot's sample file, reference code 2
    ("8988777", False),  # Bankgirot's sample file, reference code 5 ("incorrect")
    ("123456789012345678901242", True),  # 24 digits with a length digit
    ("100012393", False), ("1", False), ("", False), ("10001239a", False),
    ("1" * 26, False),
])
def test_ocr_check(reference, valid):
    assert ocr.is_valid(reference) is valid


@pytest.mark.parametrize("reference", ["650861", "655969", "657767", "657866", "658260",
                                       "658369", "658468", "658765", "659763", "801266",
                                       "801365", "801464"])
def test_every_code_2_reference_of_bankgirots_sample_passes(reference):
    assert ocr.is_valid(reference)


def test_an_orders_reference_is_the_worked_example_for_order_123():
    assert ocr.for_order(123) == "100012392"
    assert ocr.with_length_and_check("6559") == "655969"


@given(st.integers(min_value=1, max_value=10**12))
def test_every_orders_reference_is_valid_and_names_the_order(order_id):
    reference = ocr.for_order(order_id)
    assert ocr.is_valid(reference) and ocr.order_id_of(reference) == order_id


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=8),
       st.integers(min_value=1, max_value=9))
def test_a_single_wrong_digit_never_names_an_order(order_id, position, delta):
    reference = ocr.for_order(order_id)
    digits = list(reference)
    position %= len(digits)
    digits[position] = str((int(digits[position]) + delta) % 10)
    assert ocr.order_id_of("".join(digits)) is None


# --- BgMax ----------------------------------------------------------------------------------------

SAMPLE = [
    Deposit([Pay(125000, ocr.for_order(123), serial="000000000019", name="Kalles Plåt AB"),
             Pay(50000, "8988777", code="5", serial="000000000020"),
             Pay(20000, deduction=True, reference="12345", code="3", serial="000000000021")],
            serial=1),
    # The same BGC serial as in the first deposit, as in Bankgirot's BgMaxfil4.txt.
    Deposit([Pay(140000, "", code="3", serial="000000000019",
                 extra=[("22", ocr.for_order(7), 100000), ("22", ocr.for_order(8), 50000),
                        ("23", ocr.for_order(9), 10000)])], serial=2),
]


def test_a_bgmax_file_is_read_into_payments():
    parsed = bgmax.parse(as_file(build(*SAMPLE)))
    assert (parsed.format, parsed.account, parsed.test) == ("bgmax", BANKGIRO, False)
    first, wrong, deduction, split = parsed.payments
    assert (first.amount_minor, first.reference, first.structured, first.payer_name) == (
        125000, "100012392", True, "Kalles Plåt AB")
    assert first.booking_date == date(2026, 11, 2) and first.currency == "SEK"
    assert (wrong.reference, wrong.structured) == ("8988777", False)
    assert deduction.amount_minor == -20000
    # A payment split over several references is support's to match.
    assert split.structured is False and split.reference.count(",") == 2
    assert len({p.booking_key for p in parsed.payments}) == 4


def test_the_same_bgc_serial_in_two_deposits_is_two_bookings():
    parsed = bgmax.parse(as_file(build(*SAMPLE)))
    assert parsed.payments[0].booking_key != parsed.payments[3].booking_key


def _payments(data: bytes) -> list:
    return bgmax.parse(data).payments


@pytest.mark.parametrize("quirk", [
    "right_trimmed", "no_final_line_end", "empty_lines_after_the_end", "lf_line_ends",
    "unknown_record_type",
])
def test_the_quirks_of_bankgirots_own_samples_are_tolerated(quirk):
    lines = build(*SAMPLE)
    expected = _payments(as_file(lines))
    if quirk == "right_trimmed":  # line 16 and the last TK15/TK70 in the checksiffra file
        data = as_file([line.rstrip() for line in lines])
    elif quirk == "no_final_line_end":  # the newer checksiffra edition
        data = as_file(lines, final_newline=False)
    elif quirk == "empty_lines_after_the_end":  # BgMaxfil4.txt ends with two empty CRLF lines
        data = as_file(lines) + b"\r\n\r\n"
    elif quirk == "lf_line_ends":  # git checkouts of the samples
        data = as_file(lines, end="\n")
    else:  # the manual: a reader ignores record types it doesn't know
        data = as_file(build(*SAMPLE, extra_records=[record((1, "99"), (3, "NEW THING"))]))
    assert _payments(data) == expected


def _problems(data: bytes) -> list[tuple]:
    with pytest.raises(BankFileError) as caught:
        bgmax.parse(data)
    return [(p.line, p.message) for p in caught.value.problems]


def test_a_tab_is_rejected_with_its_line():
    # Line 17 of the checksiffra sample holds two TABs where blanks belong.
    lines = build(*SAMPLE)
    lines[3] = lines[3][:12] + "\t\t" + lines[3][14:].rstrip()
    problems = _problems(as_file(lines))
    assert problems[0][0] == 4 and "TAB" in problems[0][1]


def test_a_line_over_80_characters_is_rejected():
    lines = build(*SAMPLE)
    lines[2] += "X"
    assert _problems(as_file(lines))[0][0] == 3


def test_end_record_counts_must_match():
    problems = _problems(as_file(build(*SAMPLE, counts=(4, 1, 3, 2))))
    assert any("type 20" in message for _line, message in problems)


def test_a_deposit_amount_that_is_not_the_sum_is_rejected():
    lines = build(*SAMPLE)
    tk15 = next(i for i, line in enumerate(lines) if line.startswith("15"))
    lines[tk15] = lines[tk15][:50] + f"{1:018d}" + lines[tk15][68:]
    problems = _problems(as_file(lines))
    assert problems[0][0] == tk15 + 1 and "sum" in problems[0][1]


def test_the_deposit_counts_deductions_as_payments():
    # TK15's count is TK20 + TK21 in Bankgirot's samples; the deposit is Σ TK20 − Σ TK21.
    lines = build(*SAMPLE)
    tk15 = lines[next(i for i, line in enumerate(lines) if line.startswith("15"))]
    assert tk15[71:79] == "00000003" and int(tk15[50:68]) == 125000 + 50000 - 20000


@pytest.mark.parametrize("mangle, message", [
    (lambda lines: lines[1:], "starts with a start record"),
    (lambda lines: lines[:-1], "ends with an end record"),
    (lambda lines: [lines[0], lines[2], *lines[1:]], "outside a deposit"),
    (lambda lines: [*lines[:-1], lines[-1], record((1, "20"))], "after the end record"),
    (lambda lines: [lines[0], lines[-1]], "no deposit"),
])
def test_records_out_of_place_are_rejected(mangle, message):
    problems = _problems(as_file(mangle(build(*SAMPLE))))
    assert any(message in text for _line, text in problems), problems


def test_an_old_eur_deposit_keeps_its_currency():
    parsed = bgmax.parse(as_file(build(Deposit([Pay(1000, ocr.for_order(5))],
                                               currency="EUR"))))
    assert parsed.payments[0].currency == "EUR"


def test_a_test_file_is_marked():
    assert bgmax.parse(as_file(build(*SAMPLE, test="T"))).test is True


# --- camt.054 -------------------------------------------------------------------------------------

def test_the_minimal_useful_document_is_read():
    parsed = camt054.parse(MINIMAL)
    assert (parsed.format, parsed.account, parsed.file_key) == (
        "camt054", BANKGIRO, "camt054:CAMT054-TEST-0001")
    [payment] = parsed.payments
    assert (payment.amount_minor, payment.currency, payment.reference, payment.structured,
            payment.payer_name, payment.booking_date) == (
        125000, "SEK", "100012392", True, "Kalles Plåt AB", date(2026, 11, 2))
    assert payment.booking_key == f"camt:{BANKGIRO}:tx:20261102BG000000000001-1"


@pytest.mark.parametrize("remove, element", [
    ("<Sts>BOOK</Sts>", "Ntfctn[1]/Ntry[1]/Sts"),
    ("<CdtDbtInd>CRDT</CdtDbtInd>", "Ntfctn[1]/Ntry[1]/CdtDbtInd"),
    ("<MsgId>CAMT054-TEST-0001</MsgId>", "GrpHdr/MsgId"),
])
def test_a_missing_mandatory_element_is_named(remove, element):
    with pytest.raises(BankFileError) as caught:
        camt054.parse(MINIMAL.replace(remove.encode(), b""))
    assert caught.value.problems[0].element.endswith(element)


def test_bktxcd_is_mandatory_as_in_the_schema():
    start = MINIMAL.index(b"<BkTxCd>")
    end = MINIMAL.index(b"</BkTxCd>") + len(b"</BkTxCd>")
    with pytest.raises(BankFileError) as caught:
        camt054.parse(MINIMAL[:start] + MINIMAL[end:])
    assert caught.value.problems[0].element.endswith("Ntry[1]/BkTxCd")


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&b;</Document>',
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'/>",
    b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.054.001.01'/>",
    b"not xml at all", b"<Document>",
])
def test_entities_dtds_and_other_documents_are_refused(data):
    with pytest.raises(BankFileError) as caught:
        camt054.parse(data)
    assert caught.value.problems[0].element == "/"


def test_bad_codes_and_amounts_are_named():
    data = MINIMAL.replace(b"<Sts>BOOK</Sts>", b"<Sts>DONE</Sts>").replace(
        b'<Amt Ccy="SEK">1250.00</Amt>\n        <CdtDbtInd>', b'<Amt Ccy="SEK">12.505</Amt>\n'
        b"        <CdtDbtInd>")
    with pytest.raises(BankFileError) as caught:
        camt054.parse(data)
    assert {p.element.rsplit("/", 1)[-1] for p in caught.value.problems} == {"Sts", "Amt"}


@pytest.mark.parametrize("change", [
    (b"<Sts>BOOK</Sts>", b"<Sts>PDNG</Sts>"),
    (b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>DBIT</CdtDbtInd>"),
    (b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>"),
])
def test_only_booked_credits_become_payments(change):
    assert camt054.parse(MINIMAL.replace(*change)).payments == []


def test_a_batch_entry_is_one_payment_per_transaction():
    data = sandbox.notification(BANKGIRO, [sandbox.Credit(1000, ocr.for_order(1))],
                                date(2026, 11, 2), datetime(2026, 11, 2, 6), "BATCH")
    tx = data[data.index(b"<TxDtls>"):data.index(b"</TxDtls>") + len(b"</TxDtls>")]
    second = tx.replace(b"10.00", b"5.00").replace(b"-1</AcctSvcrRef>", b"-2</AcctSvcrRef>")
    parsed = camt054.parse(data.replace(tx, tx + second))
    assert [p.amount_minor for p in parsed.payments] == [1000, 500]
    assert len({p.booking_key for p in parsed.payments}) == 2


def test_a_later_version_with_the_same_elements_is_read():
    data = (MINIMAL.replace(b"camt.054.001.02", b"camt.054.001.08")
            .replace(b"<Sts>BOOK</Sts>", b"<Sts><Cd>BOOK</Cd></Sts>")
            .replace("<Dbtr><Nm>Kalles Plåt AB</Nm></Dbtr>".encode(),
                     "<Dbtr><Pty><Nm>Kalles Plåt AB</Nm></Pty></Dbtr>".encode()))
    [payment] = camt054.parse(data).payments
    assert payment.payer_name == "Kalles Plåt AB" and payment.amount_minor == 125000


def test_free_text_is_kept_as_an_unstructured_reference():
    data = sandbox.notification(BANKGIRO, [sandbox.Credit(1000, "Faktura 482-913-057",
                                                          structured=False)],
                                date(2026, 11, 2), datetime(2026, 11, 2, 6), "FREE")
    [payment] = camt054.parse(data).payments
    assert (payment.reference, payment.structured) == ("Faktura 482-913-057", False)


def test_without_a_transaction_reference_the_entry_reference_and_position_are_the_key():
    data = MINIMAL.replace(b"<AcctSvcrRef>20261102BG000000000001-1</AcctSvcrRef>", b"")
    [payment] = camt054.parse(data).payments
    assert payment.booking_key == f"camt:{BANKGIRO}:entry:20261102BG000000000001:1"


def test_read_dispatches_on_the_media_type_and_bounds_the_size():
    assert read(MINIMAL, "application/xml").format == "camt054"
    assert read(as_file(build(*SAMPLE)), "text/plain").format == "bgmax"
    with pytest.raises(BankFileError):
        read(b" " * (1024 * 1024 + 1), "text/plain")


def test_the_sandbox_bank_writes_what_the_reader_reads():
    credits = [sandbox.Credit(45900, ocr.for_order(7), "Maja Ek"),
               replace(sandbox.Credit(100, "1234"), structured=False)]
    data = sandbox.notification("991-2346", credits, date(2026, 12, 3),
                                datetime(2026, 12, 3, 6), "SBX1")
    parsed = camt054.parse(data)
    assert [(p.amount_minor, p.reference, p.payer_name) for p in parsed.payments] == [
        (45900, ocr.for_order(7), "Maja Ek"), (100, "1234", "")]
    # Max35Text: every reference the sandbox writes fits the schema's limit.
    assert all(len(p.booking_key.split(":tx:")[1]) <= 35 for p in parsed.payments)


# --- banking days ---------------------------------------------------------------------------------

@pytest.mark.parametrize("day, banking", [
    (date(2026, 11, 2), True),  # a Monday
    (date(2026, 11, 7), False),  # a Saturday
    (date(2026, 12, 24), False),  # Christmas Eve: banks closed
    (date(2026, 6, 19), False),  # Midsummer Eve
    (date(2026, 12, 31), False),  # New Year's Eve
    (date(2026, 4, 6), False),  # Easter Monday
    (date(2026, 4, 30), True),  # Walpurgis Night: a half day, still a banking day
])
def test_banking_days(day, banking):
    assert banking_days.is_banking_day(day) is banking


@pytest.mark.parametrize("today, cutoff", [
    (date(2026, 11, 4), date(2026, 11, 2)),  # Wednesday: Mon and Tue have passed
    (date(2026, 11, 9), date(2026, 11, 5)),  # Monday: Thu and Fri have passed
    (date(2026, 12, 28), date(2026, 12, 22)),  # after Christmas: the 22nd and 23rd
])
def test_the_cutoff_is_two_whole_banking_days_back(today, cutoff):
    assert banking_days.cutoff(today, 2) == cutoff
    assert banking_days.banking_days_between(cutoff - timedelta(days=1), today) >= 2
    assert banking_days.banking_days_between(cutoff, today) == 1
