"""Invalid documents: every problem is reported at once, each on the right line."""

import pytest

from merchant_instructions import (
    MAX_DOCUMENT_BYTES,
    DocumentTooLarge,
    InstructionsInvalid,
    Problem,
    parse,
)

BODY = "# Returer\n\nSkicka paketet till oss.\n"

# With nothing changed the lines are: 1 ---, 2 language, 3 return_window_days,
# 4 days_to_send, 5 send_methods, 6-9 return_address, 10 ---, 11 the body.
BASE = {
    "language": ["language: sv"],
    "return_window_days": ["return_window_days: 30"],
    "days_to_send": ["days_to_send: 14"],
    "send_methods": ["send_methods: [post, drop_off]"],
    "return_address": ["return_address: |", "  Shop AB", "  Box 1", "  111 22 Stockholm"],
}


def doc(body: str = BODY, **changes: list[str] | None) -> str:
    """BASE with settings replaced (None drops one); other keys are appended in order."""
    lines: list[str] = []
    for key, default in BASE.items():
        value = changes.pop(key, default)
        if value is not None:
            lines += value
    for extra in changes.values():
        lines += extra or []
    return "---\n" + "".join(f"{line}\n" for line in lines) + "---\n" + body


def problems_of(document: str | bytes) -> list[Problem]:
    with pytest.raises(InstructionsInvalid) as caught:
        parse(document)
    return caught.value.problems


def test_base_document_is_valid() -> None:
    instructions = parse(doc())
    assert instructions.return_address == ("Shop AB", "Box 1", "111 22 Stockholm")
    assert instructions.body_markdown == BODY


LANG, WINDOW, SEND, METHODS, ADDRESS = (
    "language",
    "return_window_days",
    "days_to_send",
    "send_methods",
    "return_address",
)
ALL_REQUIRED = (LANG, WINDOW, SEND, METHODS, ADDRESS)

BAD_DOCUMENTS = [
    # structure
    ("no front matter", "# Returer\n\nSkicka.\n", {(1, None)}),
    ("empty document", "", {(1, None)}),
    ("front matter not on line 1", "\n" + doc(), {(1, None)}),
    ("unterminated front matter", "---\nlanguage: sv\n# Returer\n", {(1, None)}),
    ("front matter is a list", "---\n- sv\n- 30\n---\n" + BODY, {(2, None)}),
    ("empty front matter", "---\n---\n" + BODY, {(2, name) for name in ALL_REQUIRED}),
    ("only a comment", "---\n# nothing\n---\n" + BODY, {(3, name) for name in ALL_REQUIRED}),
    # YAML syntax
    ("unclosed quote", doc(language=["language: 'sv"]), {(2, None)}),
    ("bad indentation", doc(days_to_send=["  days_to_send: 14"]), {(4, None)}),
    ("tab indentation", doc(days_to_send=["\tdays_to_send: 14"]), {(4, None)}),
    ("unclosed flow list", doc(send_methods=["send_methods: [post"]), {(5, None)}),
    (
        "syntax error and empty body",
        doc(body="", language=["language: 'sv"]),
        {(2, None), (11, None)},
    ),
    # keys
    ("unknown key", doc(colour=["colour: red"]), {(10, "colour")}),
    (
        "misspelt key",
        doc(return_window_days=["return_windows_days: 30"]),
        {(3, "return_windows_days"), (10, WINDOW)},
    ),
    ("duplicate key", doc(again=["language: en"]), {(10, LANG)}),
    ("key that is a list", doc(odd=["? [a, b]", ": c"]), {(10, None)}),
    ("missing language", doc(language=None), {(9, LANG)}),
    ("missing return_address", doc(return_address=None), {(6, ADDRESS)}),
    # language
    ("language fi", doc(language=["language: fi"]), {(2, LANG)}),
    ("language no (a YAML boolean)", doc(language=["language: no"]), {(2, LANG)}),
    ("language upper case", doc(language=["language: SV"]), {(2, LANG)}),
    ("language empty", doc(language=["language:"]), {(2, LANG)}),
    ("language list", doc(language=["language: [sv, en]"]), {(2, LANG)}),
    (
        "language with a python tag",
        doc(language=["language: !!python/name:os.system sv"]),
        {(2, LANG)},
    ),
    # numbers
    ("window 13", doc(return_window_days=["return_window_days: 13"]), {(3, WINDOW)}),
    ("window 366", doc(return_window_days=["return_window_days: 366"]), {(3, WINDOW)}),
    ("window quoted", doc(return_window_days=['return_window_days: "30"']), {(3, WINDOW)}),
    ("window fraction", doc(return_window_days=["return_window_days: 30.5"]), {(3, WINDOW)}),
    ("window boolean", doc(return_window_days=["return_window_days: true"]), {(3, WINDOW)}),
    ("window words", doc(return_window_days=["return_window_days: thirty"]), {(3, WINDOW)}),
    (
        "window bad int tag",
        doc(return_window_days=["return_window_days: !!int abc"]),
        {(3, WINDOW)},
    ),
    ("days_to_send 0", doc(days_to_send=["days_to_send: 0"]), {(4, SEND)}),
    ("days_to_send 61", doc(days_to_send=["days_to_send: 61"]), {(4, SEND)}),
    ("days_to_send negative", doc(days_to_send=["days_to_send: -3"]), {(4, SEND)}),
    # send methods
    ("no send methods", doc(send_methods=["send_methods: []"]), {(5, METHODS)}),
    ("send methods not a list", doc(send_methods=["send_methods: post"]), {(5, METHODS)}),
    ("send methods empty value", doc(send_methods=["send_methods:"]), {(5, METHODS)}),
    (
        "unknown and repeated send methods in a block list",
        doc(send_methods=["send_methods:", "  - post", "  - pigeon", "  - post", "  - label"]),
        {(7, METHODS), (8, METHODS)},
    ),
    ("send method that is a list", doc(send_methods=["send_methods: [[post]]"]), {(5, METHODS)}),
    ("recursive alias", doc(send_methods=["send_methods: &loop [*loop]"]), {(5, METHODS)}),
    # return address
    ("address of one line", doc(return_address=["return_address: |", "  Shop AB"]), {(6, ADDRESS)}),
    (
        "address of nine lines",
        doc(return_address=["return_address: |"] + [f"  Line {n}" for n in range(9)]),
        {(6, ADDRESS)},
    ),
    (
        "address line too long",
        doc(return_address=["return_address: |", "  Shop AB", "  " + "x" * 101, "  Stockholm"]),
        {(8, ADDRESS)},
    ),
    (
        "address line too long after a blank line",
        doc(return_address=["return_address: |", "  Shop AB", "", "  " + "x" * 101]),
        {(9, ADDRESS)},
    ),
    ("address as a list", doc(return_address=["return_address: [Shop AB, Box 1]"]), {(6, ADDRESS)}),
    ("address as a number", doc(return_address=["return_address: 12345"]), {(6, ADDRESS)}),
    (
        "address folded into one line",
        doc(return_address=["return_address: >", "  Shop AB", "  Box 1"]),
        {(6, ADDRESS)},
    ),
    # non_returnable
    ("non_returnable not a list", doc(nr=["non_returnable: Gift cards"]), {(10, "non_returnable")}),
    (
        "non_returnable items",
        doc(
            nr=[
                "non_returnable:",  # 10
                "  - Gift cards",  # 11: fine
                "  - 42",  # 12: not a description
                "  - what: Software",  # 13
                '    skus: ["*", "SW-*"]',  # 14: matches everything
                '  - skus: ["GC-*"]',  # 15: no what
                "  - what: Prints",  # 16
                "    sku: P-*",  # 17: unknown key
                "  - what: Toys",  # 18
                "    skus:",  # 19
                "      - TOY-*",  # 20: fine
                "      - 1234",  # 21: a number
                "      - TOY 1",  # 22: has a space
                "  - what: Mugs",  # 23
                "    skus: MUG-*",  # 24: not a list
                "  - what: ''",  # 25: empty description
                "  - []",  # 26: a list
            ]
        ),
        {(line, "non_returnable") for line in (12, 14, 15, 17, 21, 22, 24, 25, 26)},
    ),
    # body
    ("empty body", doc(body=""), {(11, None)}),
    ("blank body", doc(body="\n  \n\t\n"), {(11, None)}),
    # characters
    ("control character", doc(return_window_days=["return_window_days: 30\x07"]), {(3, None)}),
    ("line separator", doc(body="# Returer\u2028\n\nText\n"), {(11, None)}),
    ("crlf keeps line numbers", doc(language=["language: de"]).replace("\n", "\r\n"), {(2, LANG)}),
    ("bom keeps line numbers", "\ufeff" + doc(days_to_send=["days_to_send: 99"]), {(4, SEND)}),
    # many at once
    (
        "several problems together",
        doc(
            body="  \n",
            language=["language: fi"],
            return_window_days=["return_window_days: 7"],
            days_to_send=None,
            send_methods=["send_methods: [post, carrier_pigeon]"],
            colour=["colour: red"],
        ),
        # lines: 2 language, 3 window, 4 send_methods, 5-8 address, 9 colour, 10 ---
        {(2, LANG), (3, WINDOW), (4, METHODS), (9, "colour"), (10, SEND), (11, None)},
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"),
    [pytest.param(document, expected, id=name) for name, document, expected in BAD_DOCUMENTS],
)
def test_bad_document(document: str, expected: set[tuple[int, str | None]]) -> None:
    problems = problems_of(document)
    assert {(problem.line, problem.field) for problem in problems} == expected
    assert [problem.line for problem in problems] == sorted(problem.line for problem in problems)
    for problem in problems:
        assert problem.message[0].isalpha() and problem.message.endswith((".", "?"))


def test_one_problem_per_mistake() -> None:
    problems = problems_of(doc(body="", language=["language: fi"], colour=["colour: red"]))
    assert len(problems) == 3


def test_messages_say_what_to_fix() -> None:
    problems = problems_of(
        doc(
            return_window_days=["return_window_days: 7"],
            send_methods=["send_methods: [post, pigeon]"],
            colour=["colur: red"],
            language=["language: no"],
        )
    )
    messages = {problem.field: problem.message for problem in problems}
    assert messages[WINDOW] == (
        "return_window_days must be a whole number of days between 14 and 365 "
        "(Swedish law gives customers at least 14 days)."
    )
    assert '"pigeon"' in messages[METHODS]
    assert "post, drop_off or label" in messages[METHODS]
    # YAML reads "no" as false; the merchant must see what they wrote.
    assert 'not "no"' in messages[LANG]
    assert "Did you mean colour" not in messages["colur"]


def test_unknown_key_suggests_the_close_setting() -> None:
    (problem,) = problems_of(
        doc(return_window_days=["return_window_day: 30"], again=["return_window_days: 30"])
    )
    assert problem == Problem(3, "return_window_day", problem.message)
    assert "Did you mean return_window_days?" in problem.message


def test_duplicate_key_names_the_first_line() -> None:
    (problem,) = problems_of(doc(again=["days_to_send: 3"]))
    assert problem.line == 10
    assert "first on line 4" in problem.message


def test_missing_key_message_gives_an_example() -> None:
    (problem,) = problems_of(doc(language=None))
    assert problem.message == (
        "language is missing; add it before the closing --- line, for example language: sv."
    )


def test_str_of_the_exception_lists_every_problem() -> None:
    with pytest.raises(InstructionsInvalid) as caught:
        parse(doc(body="", language=["language: fi"]))
    text = str(caught.value)
    assert text.splitlines()[0].startswith("line 2: language must be")
    assert text.splitlines()[1].startswith("line 11: The instructions are empty")


@pytest.mark.parametrize("window", [14, 365])
def test_window_limits_are_inclusive(window: int) -> None:
    document = doc(return_window_days=[f"return_window_days: {window}"])
    assert parse(document).return_window_days == window


@pytest.mark.parametrize(("days", "ok"), [(1, True), (60, True), (0, False), (61, False)])
def test_days_to_send_limits(days: int, ok: bool) -> None:
    document = doc(days_to_send=[f"days_to_send: {days}"])
    if ok:
        assert parse(document).days_to_send == days
    else:
        assert [(p.line, p.field) for p in problems_of(document)] == [(4, SEND)]


def test_address_of_eight_lines_with_blank_lines_is_fine() -> None:
    lines = [f"  Line {n}" for n in range(8)]
    document = doc(return_address=["return_address: |", *lines[:4], "", *lines[4:]])
    assert parse(document).return_address == tuple(line.strip() for line in lines)


def test_address_may_be_a_quoted_string() -> None:
    document = doc(return_address=['return_address: "Shop AB\\nBox 1\\n111 22 Stockholm"'])
    assert parse(document).return_address == ("Shop AB", "Box 1", "111 22 Stockholm")


def test_yaml_aliases_do_not_explode() -> None:
    # A "billion laughs" document: small text, an exponentially large tree.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 12):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    problems = problems_of(doc(bomb=lines, nr=["non_returnable: *a11"], sm=["send_methods2: *a11"]))
    # Twelve unknown anchor keys on lines 10-21 plus the misspelt key on line 23 ...
    unknown = [p for p in problems if p.field != "non_returnable"]
    assert [(p.line, p.field) for p in unknown] == [
        *((10 + n, f"a{n}") for n in range(12)),
        (23, "send_methods2"),
    ]
    # ... and one problem per item of the aliased list, at the line where the items are.
    items = [p for p in problems if p.field == "non_returnable"]
    assert [p.line for p in items] == [20] * 9


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problems = problems_of(doc(language=["language: " + "[" * 5000]))
    assert [(p.line, p.field) for p in problems] == [(2, None)]


# --- encoding, binary content and size -------------------------------------------


def test_non_utf8_bytes() -> None:
    latin1 = doc(return_address=["return_address: |", "  Shop AB", "  Box 1", "  415 05 Göteborg"])
    problems = problems_of(latin1.encode("latin-1"))
    assert [(p.line, p.field) for p in problems] == [(9, None)]
    assert "the document must be utf-8 text" in problems[0].message.lower()
    assert "0xf6" in problems[0].message


def test_non_utf8_bytes_do_not_hide_other_problems() -> None:
    document = doc(language=["language: fi"], body="# Åter\n").encode("cp1252")
    assert {(p.line, p.field) for p in problems_of(document)} == {(2, LANG), (11, None)}


def test_lone_surrogate_in_text() -> None:
    problems = problems_of(doc(body="# Returer \udcff\n"))
    assert [(p.line, p.field) for p in problems] == [(11, None)]
    assert "UTF-8" in problems[0].message


@pytest.mark.parametrize(
    "blob",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n\x00\x01\x02",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        bytes(range(256)),
    ],
)
def test_binary_files(blob: bytes) -> None:
    problems = problems_of(blob)
    assert any("binary" in problem.message for problem in problems)
    assert len(problems) <= 2


def test_nul_in_an_otherwise_valid_document() -> None:
    problems = problems_of(doc(body="# Returer\n\nSkicka\x00 paketet.\n"))
    assert [(p.line, p.field) for p in problems] == [(13, None)]
    assert "binary" in problems[0].message


def test_many_control_characters_count_as_binary() -> None:
    problems = problems_of(doc(body="\x01\n" * 50))
    assert len(problems) == 1
    assert "binary" in problems[0].message


def padded(size: int) -> bytes:
    """A valid document of exactly ``size`` bytes."""
    base = doc().encode("utf-8")
    return base + b"x" * (size - len(base))


def test_document_of_exactly_the_limit_parses() -> None:
    assert len(parse(padded(MAX_DOCUMENT_BYTES)).source.encode("utf-8")) == MAX_DOCUMENT_BYTES


@pytest.mark.parametrize(
    "document",
    [
        padded(MAX_DOCUMENT_BYTES + 1),
        padded(MAX_DOCUMENT_BYTES + 1).decode("utf-8"),
        # Fewer characters than the limit, but more bytes: "å" takes two.
        doc(body="å" * (MAX_DOCUMENT_BYTES // 2)),
        b"\xff" * (MAX_DOCUMENT_BYTES * 4),
    ],
    ids=["bytes", "str", "multibyte str", "huge binary"],
)
def test_too_large(document: str | bytes) -> None:
    with pytest.raises(DocumentTooLarge) as caught:
        parse(document)
    assert isinstance(caught.value, InstructionsInvalid)
    assert [(p.line, p.field) for p in caught.value.problems] == [(1, None)]
    assert "262144 bytes" in caught.value.problems[0].message
