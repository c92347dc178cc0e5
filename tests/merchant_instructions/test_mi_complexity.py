"""Documents that would stall the renderer are refused with the line to fix (issue #17,
item 6). How long rendering takes is measured by bench/markdown_render.py, not here: these tests
count the parser's steps, which are the same on every machine."""

from __future__ import annotations

import pytest

from merchant_instructions import InstructionsInvalid, parse, render_html
from merchant_instructions.document import MAX_BODY_LINES
from merchant_instructions.rendering import MAX_STEPS, TooComplex
from tests.builders import INSTRUCTIONS

SIZE = 250 * 1024
HEAD = INSTRUCTIONS.split("---\n# How")[0] + "---\n"
FIRST_BODY_LINE = HEAD.count("\n") + 1


def document(body: str) -> str:
    return HEAD + body


def filled(pattern: str) -> str:
    """250 KB of one construct, as in the issue."""
    return document((pattern * (SIZE // len(pattern)))[: SIZE - len(HEAD)])


def problem_of(text: str):
    with pytest.raises(InstructionsInvalid) as caught:
        parse(text)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize("pattern", ["![[", "[", "[a](", "[![", "*a ", "**_", "`a",
                                     "<a@b.se> ", "[terms](https://shop.example/terms) "],
                         ids=["image brackets", "brackets", "unclosed links", "nested images",
                              "emphasis", "mixed emphasis", "backticks", "autolinks", "links"])
def test_a_document_of_one_costly_construct_is_refused_naming_its_line(pattern):
    problem = problem_of(filled(pattern))
    assert problem.line == FIRST_BODY_LINE
    assert "too complex" in problem.message


def test_the_line_named_is_where_the_costly_part_is():
    body = "# How to return\n\nPack the items.\n\n" + "![[" * 20_000 + "\n"
    assert problem_of(document(body)).line == FIRST_BODY_LINE + 4


def test_more_lines_than_customers_read_are_refused_at_the_first_line_past_the_cap():
    problem = problem_of(document("Pack it.\n" * (MAX_BODY_LINES + 5)))
    assert problem.line == FIRST_BODY_LINE + MAX_BODY_LINES
    assert f"{MAX_BODY_LINES} lines" in problem.message


def test_a_long_ordinary_document_still_renders():
    section = INSTRUCTIONS.split("---\n", 2)[2] + "\n[Our terms](https://shop.example/t)\n\n"
    parsed = parse(document(section * 60))
    assert parsed.html.count("<ol>") == 60


def test_the_renderer_stops_after_its_steps_and_says_where():
    with pytest.raises(TooComplex) as caught:
        render_html("Intro.\n\n" * 3 + "*a " * 50_000)
    assert caught.value.line == 6
    assert render_html("*a*", max_steps=MAX_STEPS) == "<p><em>a</em></p>\n"
    with pytest.raises(TooComplex):
        render_html("- a\n" * 10, max_steps=5)


def test_the_api_refuses_it_as_422_with_the_line(client, db):
    from tests.api_helpers import assert_error, bearer
    from tests.builders import make_merchant

    _, key = make_merchant(db, instructions=None)
    response = client.put("/api/v1/instructions", data=filled("![[").encode(),
                          headers={**bearer(key), "Content-Type": "text/markdown",
                                   "Content-Language": "en"})
    error = assert_error(response, 422, "invalid")
    assert [p["line"] for p in error["problems"]] == [FIRST_BODY_LINE]
