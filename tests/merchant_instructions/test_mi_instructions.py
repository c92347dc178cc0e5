"""Instructions values: SKU matching, hashing, normalization and the exported constants."""

import hashlib

import pytest

from merchant_instructions import (
    MAX_DOCUMENT_BYTES,
    SEND_METHOD_LABELS,
    Instructions,
    NonReturnable,
    parse,
)

DOCUMENT = """---
language: en
return_window_days: 30
days_to_send: 14
send_methods: [post]
return_address: |
  Shop AB
  Box 1
  111 22 Stockholm
non_returnable:
  - Gift cards
  - what: Opened software
    skus: ["SW-*", "app-??"]
  - what: Custom prints
    skus: ["PRINT-[0-9]*"]
---
# Returns

Send it back.
"""


@pytest.fixture(scope="module")
def instructions() -> Instructions:
    return parse(DOCUMENT)


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        ("SW-1", "Opened software"),
        ("sw-1", "Opened software"),
        ("  Sw-Office  ", "Opened software"),
        ("APP-12", "Opened software"),
        ("app-123", None),
        ("PRINT-7x", "Custom prints"),
        ("PRINT-X", None),
        ("GC-100", None),  # "Gift cards" has no patterns, so it matches no SKU
        ("XSW-1", None),
        ("", None),
    ],
)
def test_non_returnable_reason(instructions: Instructions, sku: str, reason: str | None) -> None:
    assert instructions.non_returnable_reason(sku) == reason
    assert instructions.is_returnable(sku) is (reason is None)


def test_plain_description_has_no_patterns(instructions: Instructions) -> None:
    assert instructions.non_returnable[0] == NonReturnable("Gift cards", ())


def test_empty_non_returnable_is_allowed() -> None:
    document = DOCUMENT.replace(
        DOCUMENT[DOCUMENT.index("non_returnable") : DOCUMENT.index("---\n#")], "non_returnable:\n"
    )
    assert parse(document).non_returnable == ()


def test_crlf_and_bom_are_normalized() -> None:
    plain = parse(DOCUMENT)
    windows = "\ufeff" + DOCUMENT.replace("\n", "\r\n")
    from_bytes = parse(windows.encode("utf-8"))
    assert from_bytes.content_hash == plain.content_hash
    assert from_bytes.content_hash == hashlib.sha256(DOCUMENT.encode("utf-8")).hexdigest()
    assert from_bytes.source == windows
    assert from_bytes.body_markdown == plain.body_markdown == "# Returns\n\nSend it back.\n"
    assert from_bytes.return_address == ("Shop AB", "Box 1", "111 22 Stockholm")


def test_hash_changes_with_content() -> None:
    assert parse(DOCUMENT).content_hash != parse(DOCUMENT + "More.\n").content_hash


def test_str_and_bytes_give_the_same_result() -> None:
    assert parse(DOCUMENT) == parse(DOCUMENT.encode("utf-8"))


def test_instructions_are_frozen(instructions: Instructions) -> None:
    with pytest.raises(AttributeError):
        instructions.language = "sv"  # type: ignore[misc]


def test_constants() -> None:
    assert MAX_DOCUMENT_BYTES == 262144
    assert SEND_METHOD_LABELS == {
        "post": "Send it by post",
        "drop_off": "Leave it at a drop-off point",
        "label": "Print the prepaid return label",
    }


def test_other_types_are_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse(123)  # type: ignore[arg-type]


def test_the_package_loads_no_web_or_database_code() -> None:
    import subprocess
    import sys
    from pathlib import Path

    import merchant_instructions

    check = (
        "import sys, merchant_instructions\n"
        "loaded = {name.split('.')[0] for name in sys.modules}\n"
        "print(sorted(loaded & {'flask', 'werkzeug', 'jinja2', 'sqlite3', 'sqlite_utils', "
        "'returns_app'}))\n"
    )
    root = Path(merchant_instructions.__file__).parent.parent
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
