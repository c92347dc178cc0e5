"""Staff credentials for merchant users and support agents: the one-time password changed at
first sign-in, a change that ends the other sessions, a reset by emailed link (single use, one
hour, no enumeration), and the TOTP second factor (required for support, optional for
merchants) with recovery codes, each code accepted once and guesses limited."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from flask import g

from returns_app.domain import clock
from returns_app.domain.errors import Forbidden
from returns_app.services import staff_credentials, staff_second_factor
from returns_app.services.sign_in import LIMIT_PER_ACCOUNT
from tests.merchant_fixtures import STAFF_PASSWORD
from tests.support_helpers import PASSWORD as AGENT_PASSWORD
from tests.support_helpers import TOTP_SECRET, make_support_user, next_code

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = "agent@example.se"
NEW_PASSWORD = "a brand new passphrase"  # noqa: S105 (test data)
WHERE = {"merchant": ("/merchant", "/merchant/returns", "merchant_user"),
         "support": ("/support", "/support/", "support_user")}


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def get(client, path):
    g.pop("_login_user", None)  # pytest-flask keeps one app context; a real request starts anew
    return client.get(path)


def post(client, path, data):
    g.pop("_login_user", None)
    return client.post(path, data=data)


def location(response) -> str:
    return response.headers.get("Location", "")


def created_by_cli(cli, audience: str, email: str) -> str:
    """A staff account as an operator creates it; its one-time password."""
    if audience == "merchant":
        cli.invoke(args=["create-merchant", "Shop AB"], catch_exceptions=False)
        args = ["create-merchant-user", "shop-ab", email]
    else:
        args = ["create-support-user", email]
    output = cli.invoke(args=args, catch_exceptions=False).output
    return re.search(r"Password \(shown once\): (\S+)", output)[1]


def user_id(db, kind: str, email: str) -> int:
    return db.execute(f"SELECT id FROM {kind} WHERE email = ?", [email]).fetchone()[0]  # noqa: S608


def sent_emails(db, kind: str) -> list[dict]:
    return [{"recipient": r[0], "facts": json.loads(r[1])} for r in db.execute(
        "SELECT recipient, facts FROM notification WHERE kind = ? ORDER BY id", [kind])]


# --- the one-time password ------------------------------------------------------------------------

@pytest.mark.parametrize("audience", ["merchant", "support"])
def test_a_one_time_password_must_be_changed_before_anything_else(cli, client, db, audience,
                                                                   cheap_hashing):
    prefix, home, kind = WHERE[audience]
    email = f"new@{audience}.se"
    one_time = created_by_cli(cli, audience, email)
    if kind == "merchant_user":  # staff read Swedish until they choose; this test reads English
        db.execute("UPDATE merchant_user SET language = 'en' WHERE email = ?", [email])
    signed_in = post(client, f"{prefix}/signin", {"email": email, "password": one_time})
    assert location(signed_in) == f"{prefix}/password/new"
    for page in (home, f"{prefix}/security", f"{prefix}/password"):
        assert location(get(client, page)) == f"{prefix}/password/new", page

    refused = {one_time: "other than the one you have now", email: "email address",
               "short": "at least 12"}
    for bad, says in refused.items():
        response = post(client, f"{prefix}/password/new", {"new_password": bad, "repeat": bad})
        assert response.status_code == 422 and says in response.get_data(as_text=True), bad

    changed = post(client, f"{prefix}/password/new",
                   {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    if audience == "support":  # next: the second factor, still before anything else
        assert location(changed) == "/support/security/second-factor"
        assert location(get(client, home)) == "/support/security/second-factor"
    else:
        assert location(changed) == home and get(client, home).status_code == 200
    flags = db.execute(f"SELECT must_change_password FROM {kind} WHERE email = ?",  # noqa: S608
                       [email]).fetchone()
    assert flags == (0,)
    post(client, f"{prefix}/signout", {})
    again = post(client, f"{prefix}/signin", {"email": email, "password": one_time})
    assert again.status_code == 422  # the one-time password is gone


def test_an_operators_reset_is_a_one_time_password_too(cli, client, db, shop):
    email = shop["user"]["email"]
    output = cli.invoke(args=["reset-password", "merchant", email], catch_exceptions=False).output
    password = re.search(r"\(shown once\): (\S+)", output)[1]
    response = post(client, "/merchant/signin", {"email": email, "password": password})
    assert location(response) == "/merchant/password/new"


# --- changing the password ------------------------------------------------------------------------

def test_a_change_ends_every_other_session_rotates_this_one_and_emails(app, client, db, shop):
    email = shop["user"]["email"]
    other = app.test_client()
    for browser in (client, other):
        assert post(browser, "/merchant/signin", {"email": email,
                                                  "password": STAFF_PASSWORD}).status_code == 302
    before = client.get_cookie("session").value
    wrong = post(client, "/merchant/password", {"current_password": "nope",
                                                "new_password": NEW_PASSWORD,
                                                "repeat": NEW_PASSWORD})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    changed = post(client, "/merchant/password", {"current_password": STAFF_PASSWORD,
                                                  "new_password": NEW_PASSWORD,
                                                  "repeat": NEW_PASSWORD})
    assert changed.status_code == 302
    assert client.get_cookie("session").value != before
    assert get(client, "/merchant/returns").status_code == 200
    assert location(get(other, "/merchant/returns")).startswith("/merchant/signin")
    live = db.execute("SELECT count(*) FROM web_session WHERE principal_kind = 'merchant_user'"
                      " AND ended_at IS NULL").fetchone()[0]
    assert live == 1
    assert sent_emails(db, "staff_password_changed")[-1]["recipient"] == email
    post(client, "/merchant/signout", {})
    assert post(client, "/merchant/signin", {"email": email, "password": NEW_PASSWORD}
                ).status_code == 302


# --- the reset by emailed link --------------------------------------------------------------------

def forgot(client, email: str, prefix: str = "/merchant"):
    return post(client, f"{prefix}/password/forgot", {"email": email})


def test_forgot_password_answers_the_same_for_unknown_addresses(client, db, shop):
    known = forgot(client, shop["user"]["email"])
    known_page = get(client, "/merchant/signin").get_data(as_text=True)
    unknown = forgot(client, "nobody@testshop.se")
    unknown_page = get(client, "/merchant/signin").get_data(as_text=True)
    assert (known.status_code, location(known)) == (unknown.status_code, location(unknown))
    assert "If staff@testshop.se belongs to an account here" in known_page
    assert "If nobody@testshop.se belongs to an account here" in unknown_page
    assert [e["recipient"] for e in sent_emails(db, "staff_password_reset")] == \
        [shop["user"]["email"]]


def test_a_reset_link_works_once_keeps_only_a_hash_and_ends_every_session(app, client, db,
                                                                          shop):
    email = shop["user"]["email"]
    signed_in_elsewhere = app.test_client()
    post(signed_in_elsewhere, "/merchant/signin", {"email": email, "password": STAFF_PASSWORD})
    forgot(client, email)
    token = sent_emails(db, "staff_password_reset")[-1]["facts"]["token"]
    assert token not in str(db.execute("SELECT * FROM staff_password_reset").fetchall())
    link = f"/merchant/password/reset/{token}"
    assert get(client, link).status_code == 200  # opening it uses nothing up (mail scanners)
    short = post(client, link, {"new_password": "short", "repeat": "short"})
    assert short.status_code == 422
    done = post(client, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert location(done) == "/merchant/signin"
    assert location(get(signed_in_elsewhere, "/merchant/returns")).startswith("/merchant/signin")
    again = post(client, link, {"new_password": "another passphrase", "repeat":
                                "another passphrase"})
    assert again.status_code == 404 and "no longer works" in again.get_data(as_text=True)
    assert post(client, "/merchant/signin", {"email": email, "password": NEW_PASSWORD}
                ).status_code == 302


def test_a_reset_link_expires_after_an_hour(client, db, shop):
    with time_machine.travel(T0, tick=False) as traveller:
        forgot(client, shop["user"]["email"])
        token = sent_emails(db, "staff_password_reset")[-1]["facts"]["token"]
        traveller.move_to(T0 + timedelta(minutes=59))
        assert get(client, f"/merchant/password/reset/{token}").status_code == 200
        traveller.move_to(T0 + timedelta(hours=1, seconds=1))
        dead = post(client, f"/merchant/password/reset/{token}",
                    {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
        assert dead.status_code == 404


def test_a_password_change_voids_a_reset_link(client, db, shop):
    forgot(client, shop["user"]["email"])
    token = sent_emails(db, "staff_password_reset")[-1]["facts"]["token"]
    post(client, "/merchant/signin", {"email": shop["user"]["email"], "password": STAFF_PASSWORD})
    post(client, "/merchant/password", {"current_password": STAFF_PASSWORD,
                                        "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert get(client, f"/merchant/password/reset/{token}").status_code == 404


def test_reset_requests_are_limited_per_account(client, db, shop):
    for _ in range(LIMIT_PER_ACCOUNT):
        assert forgot(client, shop["user"]["email"]).status_code == 302
    assert forgot(client, shop["user"]["email"]).status_code == 429
    assert forgot(client, "nobody@testshop.se").status_code == 302  # another account's bucket
    assert len(sent_emails(db, "staff_password_reset")) == LIMIT_PER_ACCOUNT


def test_a_reset_does_not_skip_the_second_factor(client, db, cheap_hashing):
    make_support_user(db)
    forgot(client, AGENT, "/support")
    token = sent_emails(db, "staff_password_reset")[-1]["facts"]["token"]
    post(client, f"/support/password/reset/{token}",
         {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    signed_in = post(client, "/support/signin", {"email": AGENT, "password": NEW_PASSWORD})
    assert location(signed_in) == "/support/signin/code"
    assert location(get(client, "/support/")).startswith("/support/signin")


# --- the second factor ----------------------------------------------------------------------------

def test_support_must_enrol_before_anything_else(client, db):
    agent = make_support_user(db, second_factor=False)
    signed_in = post(client, "/support/signin", {"email": AGENT, "password": AGENT_PASSWORD})
    assert location(signed_in) == "/support/security/second-factor"
    for page in ("/support/", "/support/dashboard", "/support/security"):
        assert location(get(client, page)) == "/support/security/second-factor", page
    assert get(client, "/api/v1/support/stuck-refunds").status_code == 403
    page = get(client, "/support/security/second-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, inline: no script needed
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
    wrong = post(client, "/support/security/second-factor", {"code": "000000"})
    assert wrong.status_code == 422
    codes_page = post(client, "/support/security/second-factor",
                      {"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code[^>]*>([a-z2-9-]+)</code></li>",
                       codes_page.get_data(as_text=True))
    assert len(codes) == 10
    stored = [r[0] for r in db.execute("SELECT code_hash FROM staff_recovery_code"
                                       " WHERE principal_id = ?", [agent])]
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert get(client, "/support/").status_code == 200


def sign_in_with_code(client, code: str, email: str = AGENT, password: str = AGENT_PASSWORD):
    post(client, "/support/signin", {"email": email, "password": password})
    return post(client, "/support/signin/code", {"code": code})


def test_a_code_is_accepted_once(client, db):
    with time_machine.travel(T0, tick=False):
        make_support_user(db)
        code = pyotp.TOTP(TOTP_SECRET).at(T0)
        assert location(sign_in_with_code(client, code)) == "/support/"
        post(client, "/support/signout", {})
        replayed = sign_in_with_code(client, code)
        assert replayed.status_code == 422 and "That code isn" in replayed.get_data(as_text=True)
        earlier = pyotp.TOTP(TOTP_SECRET).at(T0 - timedelta(seconds=30))
        assert sign_in_with_code(client, earlier).status_code == 422  # before the one used
        later = pyotp.TOTP(TOTP_SECRET).at(T0 + timedelta(seconds=30))
        assert location(sign_in_with_code(client, later)) == "/support/"  # the window: ±1 step


def test_a_recovery_code_signs_in_once(client, db):
    agent = make_support_user(db, second_factor=False)
    post(client, "/support/signin", {"email": AGENT, "password": AGENT_PASSWORD})
    db.execute("UPDATE support_user SET totp_pending_secret = ? WHERE id = ?",
               [TOTP_SECRET, agent])
    page = post(client, "/support/security/second-factor",
                {"code": pyotp.TOTP(TOTP_SECRET).now()}).get_data(as_text=True)
    recovery = re.findall(r"<li><code[^>]*>([a-z2-9-]+)</code></li>", page)[0]
    post(client, "/support/signout", {})
    assert location(sign_in_with_code(client, recovery.upper())) == "/support/"
    post(client, "/support/signout", {})
    assert sign_in_with_code(client, recovery).status_code == 422


def test_code_guesses_are_limited_and_a_right_password_gives_no_new_tries(client, db):
    agent = make_support_user(db)
    for _ in range(LIMIT_PER_ACCOUNT - 1):
        assert sign_in_with_code(client, "123456").status_code == 422
    # The password again (right, so its own failures are forgotten): the codes' count stays.
    assert sign_in_with_code(client, "123456").status_code == 422
    limited = sign_in_with_code(client, next_code(db, "support_user", agent))
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_the_code_must_follow_the_password_within_minutes(client, db):
    with time_machine.travel(T0, tick=False) as traveller:
        agent = make_support_user(db)
        post(client, "/support/signin", {"email": AGENT, "password": AGENT_PASSWORD})
        traveller.move_to(T0 + timedelta(minutes=6))
        late = post(client, "/support/signin/code", {"code": next_code(db, "support_user",
                                                                         agent)})
        assert location(late) == "/support/signin"


def test_support_cant_turn_the_second_factor_off(app, db):
    agent = make_support_user(db)
    assert "/support/security/second-factor/off" not in [r.rule for r in app.url_map.iter_rules()]
    with pytest.raises(Forbidden):
        staff_second_factor.disable(db, "support_user", agent, next_code(db, "support_user",
                                                                         agent), "10.0.0.1")


def test_a_merchant_turns_the_second_factor_on_and_off(client, db, shop):
    email = shop["user"]["email"]
    with time_machine.travel(T0, tick=False) as traveller:
        post(client, "/merchant/signin", {"email": email, "password": STAFF_PASSWORD})
        security = get(client, "/merchant/security").get_data(as_text=True)
        assert "your password alone signs you in" in security
        page = get(client, "/merchant/security/second-factor").get_data(as_text=True)
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", "")
        totp = pyotp.TOTP(secret)
        enrolled = post(client, "/merchant/security/second-factor", {"code": totp.at(T0)})
        assert enrolled.status_code == 200 and "recovery codes" in enrolled.get_data(as_text=True)
        post(client, "/merchant/signout", {})
        asked = post(client, "/merchant/signin", {"email": email, "password": STAFF_PASSWORD})
        assert location(asked) == "/merchant/signin/code"
        traveller.move_to(T0 + timedelta(seconds=30))
        signed_in = post(client, "/merchant/signin/code", {"code": totp.at(clock.now())})
        assert location(signed_in) == "/merchant/returns"
        traveller.move_to(T0 + timedelta(seconds=60))
        wrong = post(client, "/merchant/security/second-factor/off", {"off-code": "000000"})
        assert wrong.status_code == 422
        off = post(client, "/merchant/security/second-factor/off",
                   {"off-code": totp.at(clock.now())})
        assert location(off) == "/merchant/security"
        post(client, "/merchant/signout", {})
        again = post(client, "/merchant/signin", {"email": email, "password": STAFF_PASSWORD})
        assert location(again) == "/merchant/returns"
    assert staff_credentials.get_staff(db, "merchant_user", shop["user"]["id"]).totp_enabled \
        is False


def test_the_password_and_code_messages_are_shown_in_swedish(app):
    from flask_babel import force_locale

    from returns_app.web.domain_messages import translate

    problems = [staff_credentials.password_problem(p, "a@b.se")
                for p in ("short", "x" * 129, "A@B.se" + " " * 6)]
    produced = [*problems, staff_credentials.IS_CURRENT, staff_credentials.NOT_CURRENT,
                staff_second_factor.WRONG_CODE, staff_second_factor.WRONG_ENROLMENT_CODE]
    with app.test_request_context(), force_locale("sv"):
        assert all(problems) and [m for m in produced if translate(m) == m] == []


def test_the_emails_render_with_the_link_in_the_recipients_language(app, db, client, shop):
    from returns_app.notifications import rendering
    from returns_app.notifications.queue import get_notification

    with app.test_request_context(headers={"Accept-Language": "sv"}):
        staff_credentials.request_reset(db, "merchant_user", shop["user"]["email"], "10.0.0.1",
                                        "sv")
    (note_id, token), = [(r[0], json.loads(r[1])["token"]) for r in db.execute(
        "SELECT id, facts FROM notification WHERE kind = 'staff_password_reset'")]
    reset = rendering.render(db, get_notification(db, note_id))
    assert reset.subject == "Välj ett nytt lösenord"
    assert f"/merchant/password/reset/{token}" in reset.text and token in reset.html
    post(client, f"/merchant/password/reset/{token}",
         {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    (changed_id,) = db.execute("SELECT id FROM notification WHERE kind = "
                               "'staff_password_changed'").fetchone()
    changed = rendering.render(db, get_notification(db, changed_id))
    assert "/merchant/password/forgot" in changed.text and "reset link" in changed.text
