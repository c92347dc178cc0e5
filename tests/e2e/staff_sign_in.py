"""Staff sign-in in the browser tests, with the second factor: the first time an account signs
in without one (a demo support agent) it enrols, reading the key from the page and computing
codes with pyotp as an authenticator app would; later sign-ins enter the next code.

The tests of one session share the server and its database, so the keys are kept here for the
whole session; a code is accepted once, so each sign-in takes a step not used before (waiting
for the next 30-second step when the window's are used up). Never the step before now: the app
still takes it, but under load the step can end between typing the code and the app's check."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyotp
from playwright.sync_api import Page

SECRETS: dict[str, str] = {}
LAST_STEP: dict[str, int] = {}


def next_code(email: str) -> str:
    totp = pyotp.TOTP(SECRETS[email])
    while True:
        now_step = totp.timecode(datetime.now(UTC))
        step = max(now_step, LAST_STEP.get(email, -1) + 1)
        if step <= now_step + 1:
            LAST_STEP[email] = step
            return totp.generate_otp(step)
        time.sleep(1)


def enrol(page: Page, email: str) -> list[str]:
    """On the enrolment page: set up the app, confirm with a code; the recovery codes shown."""
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    SECRETS[email] = secret
    LAST_STEP.pop(email, None)
    page.locator("#code").fill(next_code(email))
    page.locator("main form button[type=submit]").click()
    page.locator("#recovery-codes").wait_for()
    return [code.strip() for code in page.locator("#recovery-codes code").all_inner_texts()]


def second_step(page: Page, email: str) -> None:
    """After the password: the code, or the enrolment (then on past the recovery codes)."""
    page.wait_for_load_state()
    if "/security/second-factor" in page.url:
        enrol(page, email)
        page.locator("main a.button").click()
    elif "/signin/code" in page.url:
        page.locator("#code").fill(next_code(email))
        page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
