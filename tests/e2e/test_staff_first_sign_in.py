"""A support agent's first sign-in in a phone-sized browser: the one-time password an operator
handed over, then their own password, then two-step sign-in set up with an authenticator app
(the key read from the page, codes computed with pyotp), the recovery codes shown once, and the
console. Every new page passes axe at 375 and 1280 px, and is kept as a screenshot."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from .accessibility import AxeAudit
from .conftest import PHONE
from .staff_sign_in import enrol, next_code

NEW_PASSWORD = "lingonberries in december"  # noqa: S105 (test data)


def test_a_new_agent_changes_the_password_and_enrols_before_the_console(
        new_page, server_database, screenshots_dir):
    from returns_app.services import support
    from returns_app.store.db import connect

    email = f"new-agent-{secrets.token_hex(3)}@example.se"
    db = connect(server_database)
    _user, one_time = support.create_support_user(db, email)  # what the CLI runs
    db.close()
    audit = AxeAudit(screenshots_dir, prefix="staff-")
    page = new_page(PHONE, js=True)  # axe runs in the page; the pages themselves need no JS

    page.goto("/support/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(one_time)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/support/password/new$"))
    page.goto("/support/")  # nothing else opens before the new password
    expect(page).to_have_url(re.compile(r"/support/password/new$"))
    audit(page, "choose-password")

    page.get_by_label("New password", exact=True).fill(one_time)
    page.get_by_label("New password again").fill(one_time)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.locator(".field-error")).to_contain_text("other than the one you have now")
    audit(page, "choose-password-refused")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()

    expect(page).to_have_url(re.compile(r"/support/security/second-factor$"))
    expect(page.locator("figure.qr svg")).to_be_visible()
    audit(page, "enrol")
    codes = enrol(page, email)
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c)
                                    for c in codes)
    audit(page, "recovery-codes")
    page.get_by_role("link", name="I have saved them, go on").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stuck refunds")

    page.get_by_role("link", name="Security").click()
    audit(page, "security")
    page.get_by_role("link", name="Change your password").click()
    audit(page, "change-password")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_role("link", name="Forgot your password?").click()
    audit(page, "forgot-password")
    page.goto("/support/password/reset/not-a-real-link")
    audit(page, "reset-link-dead")

    page.goto("/support/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/support/signin/code$"))
    audit(page, "code")
    page.get_by_label("Code").fill(next_code(email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stuck refunds")
    audit.assert_clean(pages=9)
