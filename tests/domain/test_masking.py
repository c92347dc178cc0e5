"""Numbers masked in free text (masking.py): whatever people put between the digits, the number
never survives whole; the ordinary text around it does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_app.domain.masking import MASK, mask_text

SEPARATORS = [" ", "  ", "-", ".", "_", "/", ",", ", ", "\u00a0", "\u202f", "\t", " - "]
ALNUM = re.compile(r"[^0-9A-Za-z]")


def spread(characters: str, draw) -> str:
    """`characters` with a separator (or none) drawn between each."""
    out = characters[0]
    for ch in characters[1:]:
        out += draw(st.sampled_from(["", *SEPARATORS])) + ch
    return out


@st.composite
def account_numbers(draw) -> str:
    return draw(st.text("0123456789", min_size=10, max_size=19))


@st.composite
def ibans(draw) -> str:
    country = draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2))
    account = draw(st.text("0123456789", min_size=12, max_size=26))
    iban = country + draw(st.text("0123456789", min_size=2, max_size=2)) + account
    return iban.lower() if draw(st.booleans()) else iban


@st.composite
def written(draw, numbers) -> tuple[str, str]:
    number = draw(numbers)
    return number, spread(number, draw)


@given(written(account_numbers()) | written(ibans()),
       st.sampled_from(["", "Customer's account: ", "konto "]),
       st.sampled_from(["", " thanks", ", called on Monday", "."]))
def test_a_number_never_survives_whole_whatever_its_separators(case, before, after):
    number, as_written = case
    masked = mask_text(before + as_written + after)
    assert ALNUM.sub("", number)[:-4] not in ALNUM.sub("", masked)
    assert MASK + number[-4:] in masked
    assert masked.startswith(before) and masked.endswith(after)


@pytest.mark.parametrize("text, expected", [
    ("se45 5000 0000 0583 9825 7466 is mine", "••••7466 is mine"),
    ("SE45\u00a05000\u00a00000\u00a00583\u00a09825\u00a07466", "••••7466"),
    ("8327-9,  123 456 789-7", "••••7897"),
    ("070_123_45_67", "••••4567"),
    ("order 482-913-057 on 2025-03-03", "order 482-913-057 on 2025-03-03"),
    ("ab12 then we waited for the parcel", "ab12 then we waited for the parcel"),
    ("1 234,50 kr, paid 2025-03-03", "1 234,50 kr, paid 2025-03-03"),
])
def test_examples(text, expected):
    assert mask_text(text) == expected
