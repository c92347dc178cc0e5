"""No template shows text that isn't wrapped for translation.

Each template under templates/ (those merged in later too) is read with Jinja's own lexer: what
is left after taking out every Jinja expression, statement, comment and `{% trans %}` block is
the literal HTML, whose text and user-visible attributes must hold no words. Text-only email
templates (*.txt) are all translatable text by nature and are checked by the catalog test.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "value", "aria-placeholder",
                      "aria-roledescription", "aria-valuetext"}
BUTTON_INPUTS = ("submit", "button", "reset")
# Words that stay as they are in every language. Keep it short: everything else is wrapped.
ALLOWED = {"Swish", "IBAN"}
WORD = re.compile(r"\w+")
PLACEHOLDER = "\x00"  # where a Jinja expression was: no word, and keeps tags and attributes whole


def literal_html(source: str, env: Environment) -> str:
    """The template without Jinja: expressions become a placeholder, statements, comments and
    everything inside {% trans %}...{% endtrans %} disappear."""
    out: list[str] = []
    in_trans = 0
    block: list[str] = []  # the tokens of the statement being read, e.g. ['trans', 'trimmed']
    in_block = False
    for _lineno, kind, value in env.lex(source):
        if kind == "block_begin":
            in_block, block = True, []
        elif kind == "block_end":
            in_block = False
            if block and block[0] == "trans":
                in_trans += 1
            elif block and block[0] == "endtrans":
                in_trans -= 1
        elif in_block:
            if kind == "name":
                block.append(value)
        elif kind == "variable_begin" and not in_trans:
            out.append(PLACEHOLDER)
        elif kind == "data" and not in_trans:
            out.append(value)
    return "".join(out)


class VisibleText(HTMLParser):
    """Text a person reads or hears: element text and the attributes screen readers announce."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []  # (where, text): "" for element text
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        # value= is a label only on a button-like input; elsewhere it is data (hidden fields).
        value_is_label = tag == "input" and dict(attrs).get("type") in BUTTON_INPUTS
        for name, value in attrs:
            if value and name in VISIBLE_ATTRIBUTES and (name != "value" or value_is_label):
                self.found.append((f"{tag}[{name}]=", value))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.found.append(("", data.strip()))


def untranslated(source: str, env: Environment) -> list[str]:
    parser = VisibleText()
    parser.feed(literal_html(source, env))
    parser.close()
    return [where + text for where, text in parser.found
            if any(w not in ALLOWED for w in WORD.findall(text.replace(PLACEHOLDER, " ")))]


def all_templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*.html"))


@pytest.fixture
def env(app):
    return app.jinja_env


@pytest.mark.parametrize("path", all_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_visible_word_is_wrapped_for_translation(env, path):
    assert untranslated(path.read_text(encoding="utf-8"), env) == []


def test_the_check_covers_every_template_directory():
    names = {str(p.relative_to(TEMPLATES)) for p in all_templates()}
    assert {"base.html", "error.html", "macros.html", "customer/order.html"} <= names


@pytest.mark.parametrize("source, found", [
    ("<p>Hello</p>", ["Hello"]),
    ("<p>{{ _('Hello') }} · {{ n }} →</p>", []),
    ("<p>Order {{ number }}</p>", ["Order \x00"]),
    ("{% trans n=1 %}<p>{{ n }} items</p>{% endtrans %}", []),
    ("{% trans trimmed %}Ok{% endtrans %}<b>Oops</b>", ["Oops"]),
    ('<img alt="A parcel" src="{{ src }}">', ['img[alt]=A parcel']),
    ('<nav aria-label="{{ _(\'Account\') }}">', []),
    ('<a title="Open" href="#">{{ _("x") }}</a>', ['a[title]=Open']),
    ('<input placeholder="Name">', ['input[placeholder]=Name']),
    ('<input type="submit" value="Send">', ['input[value]=Send']),
    ('<input type="hidden" name="next" value="/orders">', []),
    ("{% if x %} has-error{% endif %}<div class=\"a{{ b }} c\"></div>", ["has-error"]),
    ("<p>{# a comment #}Pay with Swish</p>", ["Pay with Swish"]),
    ("<p>IBAN · Swish</p>", []),
])
def test_the_check_itself(env, source, found):
    assert untranslated(source, env) == found
