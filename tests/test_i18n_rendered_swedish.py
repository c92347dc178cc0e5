"""No English on a Swedish page or in a Swedish email.

tests/test_i18n_templates.py finds text a template writes without wrapping it; this test finds
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
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from babel.messages.pofile import read_po
from flask import url_for
from jinja2 import BaseLoader

from returns_app import clock, create_app, links
from returns_app.db import connect, migrate
from returns_app.notifications import KINDS, rendering
from tests.session_helpers import session_keys
from tests.swedish_world import World, build
from tests.test_i18n_templates import BUTTON_INPUTS, VISIBLE_ATTRIBUTES, VisibleText

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CATALOG = ROOT / "returns_app" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# English words that are Swedish words too, or names, and so may stand on a Swedish page.
# Each is a word our Swedish catalog doesn't happen to use; keep the list short.
SHARED = {
    "iban", "swish", "ocr", "bankgiro", "csv", "api", "url", "json", "webhook", "webhooks",
    "id", "ok", "sms", "e",  # names and codes, the same in both languages
    "min", "max", "per", "start", "status", "test",  # Swedish words spelled as the English
}
# English a page may still show because another piece of work translates it: page -> which.
PENDING_ELSEWHERE = {
    "/merchant/instructions (problems)": "issue #15 item 10: the instruction document's "
                                         "problems (merchant_instructions) in the merchant's "
                                         "language",
}
DEV_MESSAGE = re.compile(r"/dev/mail/\d+")
SKIPPED_ROUTES = ("/api/", "/static/", "/healthz", "/readyz", "/metrics")
# Token pages: which object each purpose's token names, from the world.
TOKEN_SUBJECTS = {
    links.ORDER: "order", links.PAY: "order", links.PREFERENCES: "order",
    links.BANK_ACCOUNT: "order", links.CALENDAR: "order", links.RETURN: "return",
    links.PAYOUT_DETAILS: "refund", links.OBJECT_CHANGE: "approval",
}


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


class SwedishText(VisibleText):
    """What a reader sees and hears, less what is marked as not Swedish prose: another
    language (lang="en": a merchant's own instructions, the language switch's "English"),
    identifiers that are never translated (translate="no": the audit trail's codes), and what
    someone typed into a form field (a <textarea>'s document)."""

    def __init__(self) -> None:
        super().__init__()
        self._foreign: list[str] = []  # tags opened with another lang, innermost last
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        lang, translate = dict(attrs).get("lang"), dict(attrs).get("translate")
        if self._foreign and tag == self._foreign[-1]:
            self._depth += 1
        not_swedish = (lang and not lang.startswith("sv")) or translate == "no" \
            or tag == "textarea"
        if not_swedish and not self._foreign:
            self._foreign.append(tag)
            self._depth = 1
        if not self._foreign:
            super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self._foreign and tag == self._foreign[-1]:
            self._depth -= 1
            if self._depth == 0:
                self._foreign.pop()
            return
        super().handle_endtag(tag)

    def handle_data(self, data):
        if not self._foreign:
            super().handle_data(data)


assert VISIBLE_ATTRIBUTES and BUTTON_INPUTS  # the same attributes as the template check


def visible_text(html: str) -> str:
    parser = SwedishText()
    parser.feed(html)
    parser.close()
    return "\n".join(text for _where, text in parser.found)


# Not words: links and addresses (their paths are ours, not prose), and codes such as a shop's
# reference NO-10031 or a size "S".
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


# --- who visits what ---------------------------------------------------------------------------

def _values(db, world: World, principal: str | None) -> dict[str, list]:
    """Each URL argument's values for this visitor: their own objects, or (for someone who may
    see none) one object, whose page then says so."""
    kind, _, raw = (principal or "").partition(":")
    every = {name: [r[0] for r in db.execute(f"SELECT id FROM {table} ORDER BY id")]
             for name, table in (("order_id", "orders"), ("return_id", "returns"),
                                 ("refund_id", "refund"))}
    values = {name: ids[:1] for name, ids in every.items()}
    values.update(key_id=[1], notification_id=[1], approval_id=[world.approval_id],
                  payment_id=[1], message_id=[1], bank_payment_id=[1])
    if kind == "customer":
        own = world.order_ids[int(raw)]
        marks = ",".join("?" * len(own))
        values["order_id"] = own
        values["return_id"] = [r[0] for r in db.execute(
            f"SELECT id FROM returns WHERE order_id IN ({marks})", own)]
    elif kind == "merchant_user":
        (merchant_id,) = db.execute("SELECT merchant_id FROM merchant_user WHERE id = ?",
                                    [int(raw)]).fetchone()
        values["return_id"] = [r[0] for r in db.execute(
            "SELECT returns.id FROM returns JOIN orders ON orders.id = returns.order_id"
            " WHERE orders.merchant_id = ?", [merchant_id])]
        values["key_id"] = [r[0] for r in db.execute(
            "SELECT id FROM merchant_api_key WHERE merchant_id = ?", [merchant_id])]
    elif kind == "support_user":
        values.update(every)
    elif not principal:  # the dev inbox: no sign-in
        values["notification_id"] = [r[0] for r in db.execute("SELECT id FROM notification")]
    return values


def visitors(world: World) -> list[str | None]:
    return [None, *(f"customer:{c}" for c in world.order_ids),
            *(f"merchant_user:{m}" for m in world.merchant_user_ids),
            *(f"support_user:{s}" for s in world.support_user_ids[:1])]


def sign_in(client, principal: str | None, language: str = "sv") -> None:
    with client.session_transaction() as session:
        session.clear()
        session["language"] = language
        if principal:
            session.update(session_keys(client.application, principal))


def crawl(app, db, client, world: World) -> list[tuple[str, str]]:
    """(label, html) of every GET page each visitor reaches."""
    pages = []
    for principal in visitors(world):
        values = _values(db, world, principal)
        sign_in(client, principal)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.rule.startswith(SKIPPED_ROUTES):
                continue
            if "token" in rule.arguments:
                continue  # token pages: token_pages(), as someone who followed an email
            unknown = rule.arguments - values.keys()
            assert not unknown, f"{rule.rule}: add values for {sorted(unknown)} to _values()"
            for url in _urls(app, rule, values):
                pages += _get(client, url, principal)
    return pages


def _urls(app, rule, values: dict) -> list[str]:
    combos = [{}]
    for name in sorted(rule.arguments):
        combos = [{**c, name: v} for c in combos for v in values[name]]
    with app.test_request_context():
        return [url_for(rule.endpoint, **c) for c in combos]


def _get(client, url: str, who) -> list[tuple[str, str]]:
    response = client.get(url)
    if response.mimetype != "text/html" or not response.data:
        return []
    return [(f"{url} as {who or 'anonymous'}", response.get_data(as_text=True))]


def token_pages(app, db, client, world: World) -> list[tuple[str, str]]:
    """Every emailed link, followed by someone not signed in, for each of its subjects."""
    subjects = {
        "order": [r[0] for r in db.execute("SELECT id FROM orders")],
        "return": [r[0] for r in db.execute("SELECT id FROM returns")],
        "refund": [r[0] for r in db.execute("SELECT id FROM refund")],
        "approval": [world.approval_id],
    }
    pages = []
    for purpose, endpoint in rendering.LINK_ENDPOINTS.items():
        for subject_id in subjects[TOKEN_SUBJECTS[purpose]]:
            sign_in(client, None)
            token = links.make_token(app.secret_key, purpose, subject_id)
            with app.test_request_context():
                url = url_for(endpoint, token=token)
            pages += _get(client, url, None)
            if purpose == links.ORDER and subject_id == world.order_ids[
                    world.customer_ids["anna"]][0]:
                sign_in(client, f"customer:{world.customer_ids['erik']}")
                pages += _get(client, url, "erik (signed in as another customer)")
    return pages


# --- what the crawl can't reach: a POST's answer, an expired link, an error ------------------

def _expired_link(app, db, client, world):
    with time_machine.travel(clock.now() - timedelta(days=40), tick=False):
        token = links.make_token(app.secret_key, links.ORDER, world.order_ids[
            world.customer_ids["anna"]][0])
    sign_in(client, None)
    return _get(client, f"/links/order/{token}", "anonymous (expired link)")


def _as_merchant(client, world) -> None:
    sign_in(client, f"merchant_user:{world.merchant_user_ids[1]}")


def _new_api_key(app, db, client, world):
    _as_merchant(client, world)
    response = client.post("/merchant/api-keys", data={"label": "Kassan"},
                           follow_redirects=True)
    return [("/merchant/api-keys (new key)", response.get_data(as_text=True))]


def _instructions_preview(app, db, client, world):
    _as_merchant(client, world)
    source = (ROOT / "merchant_instructions" / "samples" / "nordic-outfitters.md").read_text()
    pages = []
    for label, text in (("preview", source), ("problems", "---\nlanguage: sv\n---\n")):
        response = client.post("/merchant/instructions/preview",
                               data={"edit-language": "sv", "edit-source": text})
        pages.append((f"/merchant/instructions ({label})", response.get_data(as_text=True)))
    return pages


def _webhook_secret(app, db, client, world):
    sign_in(client, f"merchant_user:{world.merchant_user_ids[0]}")
    response = client.post("/merchant/webhooks", data={"url": "https://hemma.example/new"},
                           follow_redirects=True)
    return [("/merchant/webhooks (new secret)", response.get_data(as_text=True))]


def _new_link_sent(app, db, client, world):
    sign_in(client, None)
    response = client.get("/links/sent")
    return [("/links/sent", response.get_data(as_text=True))]


# Templates that only a form's answer or a special moment shows: template -> how to show it.
# The crawl reaches the rest; add a line here for a template it can't.
EXTRA_RENDERS: dict[str, Callable] = {
    "customer/email_links/link_expired.html": _expired_link,
    "customer/email_links/link_sent.html": _new_link_sent,
    "merchant/api_keys.html": _new_api_key,
    "merchant/instructions_preview.html": _instructions_preview,
    "merchant/_problems.html": _instructions_preview,
    "merchant/webhooks_secret.html": _webhook_secret,
}


# --- emails ------------------------------------------------------------------------------------

def render_emails(app, db) -> list[tuple[str, str]]:
    """Every queued email in Swedish: subject, text and HTML. Each is kept on its row, as the
    worker does, so the dev inbox shows them too."""
    db.execute("UPDATE notification SET language = 'sv'")
    found = []
    with app.app_context():
        for note_id, kind in db.execute("SELECT id, kind FROM notification ORDER BY id").fetchall():
            from returns_app.notifications.queue import get_notification
            rendered = rendering.render(db, get_notification(db, note_id))
            db.execute("UPDATE notification SET subject = ?, body_text = ?, body_html = ?,"
                       " rendered_at = ? WHERE id = ?",
                       [rendered.subject, rendered.text, rendered.html, clock.now_iso(), note_id])
            found += [(f"email {kind} #{note_id} subject", rendered.subject),
                      (f"email {kind} #{note_id} text", _merchant_text_out(db, rendered.text)),
                      (f"email {kind} #{note_id} html", visible_text(rendered.html))]
    return found


def _merchant_text_out(db, text: str) -> str:
    """A text email has no lang="" to mark the shop's own instructions: take them out."""
    from returns_app.notifications.rendering import instructions_text
    for source, address in db.execute("SELECT source, return_address FROM instructions_version"):
        text = text.replace(instructions_text({"source": source}), "")
        for line in (address or "").splitlines():
            text = text.replace(line.strip(), "") if line.strip() else text
    return text


# --- the test ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def swedish(tmp_path_factory):
    """Rendered once for the module's tests: a world of ~25 orders and ~600 pages."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "DATABASE": str(tmp_path_factory.mktemp("swedish") / "returns.sqlite3")})
    db = connect(app.config["DATABASE"])
    migrate(db)
    loader = RecordingLoader(app.jinja_env.loader)
    app.jinja_env.loader = loader
    client = app.test_client()
    world = build(app, db)
    emails = render_emails(app, db)
    pages = crawl(app, db, client, world) + token_pages(app, db, client, world)
    for render in EXTRA_RENDERS.values():
        pages += render(app, db, client, world)
    db.conn.close()
    return {"loader": loader, "pages": [(label, visible_text(html)) for label, html in pages],
            "emails": emails}


def test_every_email_kind_is_rendered(swedish):
    kinds = {label.split()[1] for label, _ in swedish["emails"]}
    assert kinds == set(KINDS)


def test_every_template_was_rendered(swedish):
    on_disk = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.is_file()}
    missing = sorted(on_disk - swedish["loader"].loaded)
    assert not missing, ("never rendered in Swedish: reach each from the crawl or add it to "
                         f"EXTRA_RENDERS in {Path(__file__).name}: {missing}")


def test_no_english_on_swedish_pages_or_in_swedish_emails(swedish):
    words = english_words()
    found: dict[str, set[str]] = {}
    for label, text in swedish["pages"] + swedish["emails"]:
        if DEV_MESSAGE.match(label) or label in PENDING_ELSEWHERE:
            continue  # an email as the dev inbox shows it: checked as the email itself
        if english := english_in(text, words):
            found.setdefault(kind_of(label), set()).update(english)
    assert not found, "English in Swedish:\n" + "\n".join(
        f"{label}: {', '.join(sorted(english))}" for label, english in sorted(found.items()))


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
])
def test_the_check_itself(html, found):
    words = frozenset({"card", "paid", "refund", "account", "close"})
    assert english_in(visible_text(html), words) == found
