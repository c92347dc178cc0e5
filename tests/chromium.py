"""One Chromium for the whole test session, shared by the browser tests (tests/e2e) and the
system tier (tests/system): Playwright's sync API can't start a second time while the first
one's event loop is still running, so both tiers must take this same session fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Debian's chromium: Playwright can't download browsers here.
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} is missing: install Debian's chromium (make chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests.")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()
