"""Every page and email of tests/swedish_world.py, rendered in Swedish for
tests/web/test_i18n_rendered_swedish.py: each GET route as each kind of visitor, each emailed link,
the pages only a form's answer shows (EXTRA_RENDERS), and every queued email; and the text of
each as a reader sees and hears it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
import time_machine
from flask import url_for

from returns_app.domain import clock
from returns_app.notifications import rendering
from returns_app.notifications.queue import get_notification
from returns_app.services import links
from returns_app.store.db import insert
from returns_app.web import staff_auth
from tests.session_helpers import session_keys
from tests.swedish_world import World
from tests.web.test_i18n_templates import VisibleText

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_ROUTES = ("/api/", "/static/", "/healthz", "/readyz", "/metrics")
# Token pages: which object each purpose's token names, from the world.
TOKEN_SUBJECTS = {
    links.ORDER: "order", links.PAY: "order", links.PREFERENCES: "order",
    links.BANK_ACCOUNT: "order", links.CALENDAR: "order", links.RETURN: "return",
    links.PAYOUT_DETAILS: "refund", links.OBJECT_CHANGE: "approval",
}


class SwedishText(VisibleText):
    """What a reader sees and hears, less what is marked as not Swedish prose: another
    language (lang="en": a merchant's own instructions, the language switch's "English"),
    identifiers that are never translated (translate="no": the audit trail's codes), and what
    someone typed into a form field (a <textarea>'s document)."""

    def __init__(self) -> None:
        super().__init__()
        self._skipping: str | None = None  # the tag whose content is not Swedish prose
        self._depth = 0  # how many of that tag are open inside it

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if self._skipping:
            self._depth += tag == self._skipping
            return
        lang = found.get("lang")
        if (lang and not lang.startswith("sv")) or found.get("translate") == "no" \
                or tag == "textarea":
            self._skipping, self._depth = tag, 1
            return
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if self._skipping:
            if tag == self._skipping:
                self._depth -= 1
                if not self._depth:
                    self._skipping = None
            return
        super().handle_endtag(tag)

    def handle_data(self, data):
        if not self._skipping:
            super().handle_data(data)


def visible_text(html: str) -> str:
    parser = SwedishText()
    parser.feed(html)
    parser.close()
    return "\n".join(text for _where, text in parser.found)


# Not words: links and addresses (their paths are ours, not prose), and codes such as a shop's
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


def _choose_password(app, db, client, world):
    """A one-time password handed over by an operator: the first page after signing in."""
    staff = world.merchant_user_ids[-1]
    db.execute("UPDATE merchant_user SET must_change_password = 1 WHERE id = ?", [staff])
    sign_in(client, f"merchant_user:{staff}")
    page = _get(client, "/merchant/password/new", f"merchant_user:{staff} (one-time password)")
    db.execute("UPDATE merchant_user SET must_change_password = 0 WHERE id = ?", [staff])
    return page


def _code_step(app, db, client, world):
    """The password was right; the second factor's code comes next."""
    sign_in(client, None)
    with client.session_transaction() as session:
        session[staff_auth.PENDING_KEY] = {"kind": "support_user",
                                           "id": world.support_user_ids[0],
                                           "at": clock.now_iso(), "next": None}
    return _get(client, "/support/signin/code", "anonymous (code step)")


def _dead_reset_link(app, db, client, world):
    sign_in(client, None)
    return _get(client, "/support/password/reset/used-or-expired", "anonymous (dead link)")


def _recovery_codes(app, db, client, world):
    """A new agent enrols: the ten recovery codes are shown once, after the code."""
    agent = insert(db, "support_user", {"email": "ny.agent@example.se", "password_hash": "x",
                                        "created_at": clock.now_iso()})
    sign_in(client, f"support_user:{agent}")
    client.get("/support/security/second-factor")
    secret = db.execute("SELECT totp_pending_secret FROM support_user WHERE id = ?",
                        [agent]).fetchone()[0]
    response = client.post("/support/security/second-factor",
                           data={"code": pyotp.TOTP(secret).now()})
    return [("/support/security/second-factor (recovery codes)",
             response.get_data(as_text=True))]


# Templates that only a form's answer or a special moment shows: template -> how to show it.
# The crawl reaches the rest; add a line here for a template it can't.
EXTRA_RENDERS: dict[str, Callable] = {
    "customer/email_links/link_expired.html": _expired_link,
    "customer/email_links/link_sent.html": _new_link_sent,
    "merchant/api_keys.html": _new_api_key,
    "merchant/instructions_preview.html": _instructions_preview,
    "merchant/_problems.html": _instructions_preview,
    "merchant/webhooks_secret.html": _webhook_secret,
    "staff/choose_password.html": _choose_password,
    "staff/code.html": _code_step,
    "staff/reset_dead.html": _dead_reset_link,
    "staff/recovery_codes.html": _recovery_codes,
}


# --- emails ------------------------------------------------------------------------------------

def render_emails(app, db) -> list[tuple[str, str]]:
    """Every queued email in Swedish: subject, text and HTML. Each is kept on its row, as the
    worker does, so the dev inbox shows them too."""
    db.execute("UPDATE notification SET language = 'sv'")
    found = []
    with app.app_context():
        for note_id, kind in db.execute("SELECT id, kind FROM notification ORDER BY id").fetchall():
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
    for source, address in db.execute("SELECT source, return_address FROM instructions_version"):
        text = text.replace(rendering.instructions_text({"source": source}), "")
        for line in (address or "").splitlines():
            text = text.replace(line.strip(), "") if line.strip() else text
    return text


