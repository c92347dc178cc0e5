"""No English on a Swedish page or in a Swedish email.

tests/web/test_i18n_templates.py finds text a template writes without wrapping it; this test finds
English that reaches a reader anyway: labels made in Python ("Card •••• 4242"), words stored in
English and shown as they are, a msgid whose translation is missing at render time. It renders
every page of every kind of visitor and every email, in Swedish, in a world where each has
something to show (tests/swedish_world.py), and looks in what a reader sees and hears for words
of the catalog's English side that its Swedish side never uses.

Every template under templates/ must be rendered by it: a new template (merged from another
branch too) fails `test_every_template_was_rendered` until the crawl reaches it or a line in
EXTRA_RENDERS does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import BaseLoader

from returns_app import create_app
from returns_app.notifications import KINDS
from returns_app.store.db import connect
from tests.databases import own_database
from tests.swedish_pages import (
    EXTRA_RENDERS,
    crawl,
    render_emails,
    token_pages,
    visible_text,
)
from tests.swedish_world import build

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOG = ROOT / "returns_app" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Words of the English side that are Swedish too, though our Swedish catalog happens not to use
# them (it writes "OCR-nummer", "webhooken"). Keep it short: each must be a Swedish word.
SHARED = {"ocr", "webhook", "start", "test"}
# English a page may still show because another piece of work translates it: page -> which.
PENDING_ELSEWHERE = {
    "/merchant/instructions (problems)": "issue #15 item 10: the instruction document's "
                                         "problems (merchant_instructions) in the merchant's "
                                         "language",
}
DEV_MESSAGE = re.compile(r"/dev/mail/\d+")


def english_words() -> frozenset[str]:
    """Words of the msgids that no msgstr uses: English, not shared with Swedish."""
    with open(CATALOG, "rb") as f:
        catalog = read_po(f, locale="sv")
    english, swedish = set(), set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english |= {w.lower() for text in ids for w in WORD.findall(_no_format(text))}
        swedish |= {w.lower() for text in strings for w in WORD.findall(_no_format(text))}
    return frozenset(english - swedish - SHARED)


def _no_format(text: str) -> str:
    return re.sub(r"%\(\w+\)[sd]|<[^>]+>", " ", text)


# Not prose: links and addresses (their paths are ours), and codes such as a shop's reference
# NO-10031 or "3-pack".
NOT_PROSE = re.compile(r"https?://\S+|\S+@\S+|[^\W\d_]+-\d\S*|\d+-[^\W\d_]+")
# A decimal point where Swedish writes a comma: 6.5 dagar, not 6,5.
ENGLISH_NUMBER = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")


def english_in(text: str, words: frozenset[str]) -> list[str]:
    prose = NOT_PROSE.sub(" ", text)
    return sorted({w for w in WORD.findall(prose) if len(w) > 1 and w.lower() in words}
                  | set(ENGLISH_NUMBER.findall(prose)))


class RecordingLoader(BaseLoader):
    """The app's loader, noting every template a render asks for (includes and imports too)."""

    def __init__(self, inner: BaseLoader) -> None:
        self.inner, self.loaded = inner, set()

    def get_source(self, environment, template):
        self.loaded.add(template)
        return self.inner.get_source(environment, template)


# --- the test ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def swedish(tmp_path_factory):
    """Rendered once for the module's tests: a world of ~25 orders and ~600 pages."""
    # A database of the module's own on either engine, migrated, dropped after the module.
    with own_database(tmp_path_factory.mktemp("swedish")) as owned:
        app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                          "DATABASE": owned.address})
        db = connect(app.config["DATABASE"])
        loader = RecordingLoader(app.jinja_env.loader)
        app.jinja_env.loader = loader
        client = app.test_client()
        world = build(app, db)
        emails = render_emails(app, db)
        pages = crawl(app, db, client, world) + token_pages(app, db, client, world)
        for render in EXTRA_RENDERS.values():
            pages += render(app, db, client, world)
        db.conn.close()
        yield {"loader": loader,
               "pages": [(label, visible_text(html)) for label, html in pages],
               "emails": emails}


def test_every_email_kind_is_rendered(swedish):
    kinds = {label.split()[1] for label, _ in swedish["emails"]}
    assert kinds == set(KINDS), ("emails the world never sends: make them happen in "
                                 f"tests/swedish_world.py: {sorted(set(KINDS) - kinds)}")


def test_every_template_was_rendered(swedish):
    on_disk = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.is_file()}
    missing = sorted(on_disk - swedish["loader"].loaded)
    assert not missing, ("never rendered in Swedish: reach each from the crawl or add it to "
                         f"EXTRA_RENDERS in tests/swedish_pages.py: {missing}")


def test_no_english_on_swedish_pages_or_in_swedish_emails(swedish):
    words = english_words()
    found: dict[str, set[str]] = {}
    examples: dict[str, str] = {}
    for label, text in swedish["pages"] + swedish["emails"]:
        # The dev inbox shows the emails, which are checked as themselves.
        if DEV_MESSAGE.match(label) or label in PENDING_ELSEWHERE:
            continue
        if english := english_in(text, words):
            found.setdefault(kind_of(label), set()).update(english)
            examples.setdefault(kind_of(label), next(
                line for line in text.splitlines() if english_in(line, words)).strip()[:120])
    assert not found, "English in Swedish:\n" + "\n".join(
        f"{label}: {', '.join(sorted(english))}\n    e.g. {examples[label]!r}"
        for label, english in sorted(found.items()))


def test_what_is_pending_elsewhere_still_is(swedish):
    """Remove a PENDING_ELSEWHERE entry when its page has become Swedish."""
    words = english_words()
    still = {label for label, text in swedish["pages"] if label in PENDING_ELSEWHERE
             and english_in(text, words)}
    assert still == set(PENDING_ELSEWHERE)


def kind_of(label: str) -> str:
    """One line per kind of page: /orders/7 as customer:3 -> /orders/N as customer."""
    label = re.sub(r"/eyJ[\w.-]+", "/TOKEN", label)
    return re.sub(r"(?<=[:/#])\d+|(?<=\s#)\d+", "N", label)


def test_the_english_words_are_english():
    words = english_words()
    assert {"card", "account", "staff", "refund", "paid", "the", "due"} <= words
    assert not words & {"kr", "swish", "iban", "bank", "order", "retur", "konto"}


@pytest.mark.parametrize("html, found", [
    ("<p>Till Card •••• 4242</p>", ["Card"]),
    ('<p lang="en">Paid by card</p><p>Betald</p>', []),
    ('<div lang="en"><div>Refund</div></div><p>account</p>', ["account"]),
    ('<button aria-label="Close">x</button>', ["Close"]),
    ('<input type="hidden" value="card">', []),
    ("<script>var paid = 1;</script>", []),
    ('<p>Historik <code translate="no">refund.created</code></p>', []),
    ("<textarea>Pack the items</textarea><p>Median 6.0 dagar</p>", ["6.0"]),
    ("<p>https://example.se/refunds/x, card@example.se, NO-10031</p>", []),
])
def test_the_check_itself(html, found):
    words = frozenset({"card", "paid", "refund", "account", "close"})
    assert english_in(visible_text(html), words) == found
