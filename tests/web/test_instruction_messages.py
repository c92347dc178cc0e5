"""Every problem the instructions checker reports reaches the merchant in their language: each
message below is produced by the real checker and must come out Swedish."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from merchant_instructions import InstructionsInvalid, parse
from returns_app.domain.errors import Invalid
from returns_app.services import merchants
from returns_app.web.domain_messages import translate
from tests.builders import INSTRUCTIONS

HEAD, BODY = INSTRUCTIONS.split("---\n# How", 1)
BODY = "---\n# How" + BODY


def broken(old: str, new: str) -> str:
    assert old in INSTRUCTIONS
    return INSTRUCTIONS.replace(old, new, 1)


DOCUMENTS = {
    "no front matter": "# Hello\n",
    "never closed": "---\nlanguage: en\n",
    "not yaml": broken("days_to_send: 14", "days_to_send: [14"),
    "not a mapping": "---\n- a\n- b\n---\n# Hi\n",
    "missing": broken("days_to_send: 14\n", ""),
    "twice": broken("days_to_send: 14", "days_to_send: 14\ndays_to_send: 15"),
    "unknown, close": broken("days_to_send: 14", "days_to_send: 14\nlanguag: en"),
    "unknown": broken("days_to_send: 14", "days_to_send: 14\nflavour: mint"),
    "language": broken("language: en", "language: de"),
    "window": broken("return_window_days: 30", "return_window_days: 3"),
    "days": broken("days_to_send: 14", "days_to_send: 0"),
    "no methods": broken("send_methods: [post, drop_off]", "send_methods: []"),
    "bad method": broken("send_methods: [post, drop_off]", "send_methods: [post, pigeon]"),
    "method twice": broken("send_methods: [post, drop_off]", "send_methods: [post, post]"),
    "address": broken("return_address: |\n  Test Shop AB\n  Returns\n  Box 1\n  111 11 Stockholm",
                      "return_address: [a, b]"),
    "address lines": broken("  Returns\n  Box 1\n  111 11 Stockholm", ""),
    "address long": broken("  Returns\n", "  " + "R" * 101 + "\n"),
    "non_returnable": broken("non_returnable:\n  - what: Gift cards\n    skus: [\"GC-*\"]",
                             "non_returnable: gift cards"),
    "item": broken("  - what: Gift cards\n    skus: [\"GC-*\"]", "  - [a]"),
    "item key": broken("    skus: [\"GC-*\"]", "    skus: [\"GC-*\"]\n    colour: red"),
    "no what": broken("  - what: Gift cards\n", "  - skus: [\"GC-*\"]\n").replace(
        "    skus: [\"GC-*\"]\n", "", 1),
    "skus not list": broken("skus: [\"GC-*\"]", "skus: GC-*"),
    "every product": broken("skus: [\"GC-*\"]", "skus: [\"*\"]"),
    "space": broken("skus: [\"GC-*\"]", "skus: [\"GC *\"]"),
    "number": broken("skus: [\"GC-*\"]", "skus: [12]"),
    "empty": INSTRUCTIONS.split("# How")[0],
    "control character": INSTRUCTIONS + "A bell \x07 here.\n",
    "not utf-8": INSTRUCTIONS.encode() + b"\xff\n",
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_problem_of_the_checker_is_said_in_swedish(app, name):
    with pytest.raises(InstructionsInvalid) as exc:
        parse(DOCUMENTS[name])
    with app.test_request_context(), force_locale("sv_SE"):
        for problem in exc.value.problems:
            assert translate(problem.message) != problem.message, problem.message


def test_publishing_in_the_other_language_is_said_in_swedish(app, db):
    merchant, _ = merchants.create_merchant(db, "Lang Shop", actor="test")
    with pytest.raises(Invalid) as exc:
        merchants.publish_instructions(db, merchant["id"], INSTRUCTIONS, "test", language="sv")
    message = exc.value.details["problems"][0]["message"]
    with app.test_request_context(), force_locale("sv_SE"):
        assert translate(message).startswith("Dokumentet säger language: en")


def test_a_swedish_staff_member_sees_the_problems_in_swedish_next_to_the_editor(
        client, db, staff):
    db.execute("UPDATE merchant_user SET language = 'sv'")
    response = client.post("/merchant/instructions/preview", data={
        "edit-language": "en", "edit-source": broken("days_to_send: 14", "days_to_send: 0")})
    assert response.status_code == 422
    assert "days_to_send måste vara ett helt antal dagar mellan 1 och 60" in \
        response.get_data(as_text=True)
