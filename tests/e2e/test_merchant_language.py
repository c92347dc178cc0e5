"""Merchant staff in their own language, in a browser at 375 px: Techbolaget's staff (Swedish,
the default) sign in from an English browser and get the Swedish portal, choose English on their
account page, upload instructions with raw HTML, see the English warning naming the lines, and
publish anyway. Every page passes axe; screenshots go to screenshots/merchant-language-*."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .accessibility import AxeAudit
from .conftest import PHONE
from .test_customer_flow import PASSWORD

STAFF = "techbolaget@example.se"
RAW_HTML = "\n<div class=\"notice\">\nRing oss!\n</div>\n\nSe [sidan](javascript:alert(1)).\n"


def test_staff_choose_english_and_publish_raw_html_only_after_the_warning(
        new_page, server_database, screenshots_dir):
    from returns_app.store.db import connect

    db = connect(server_database)
    db.execute("UPDATE merchant_user SET language = 'sv' WHERE email = ?", [STAFF])
    db.close()
    audit = AxeAudit(screenshots_dir, prefix="merchant-language-")
    page = new_page(PHONE, js=True)

    # Before signing in, the browser's English; after, the account's Swedish.
    page.goto("/merchant/signin")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign in")
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Returer")

    page.get_by_role("link", name="Ditt konto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ditt konto")
    audit(page, "account-sv")
    page.get_by_label("Språk i portalen och i dina mejl").select_option("en")
    page.get_by_role("button", name="Spara språk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text("the portal and your emails are now in English")).to_be_visible()
    audit(page, "account-en")

    # Instructions with raw HTML and a script link, uploaded as a file.
    page.get_by_role("navigation", name="Merchant portal").get_by_role(
        "link", name="Instructions").click()
    source = page.get_by_label("Instructions document (Markdown)").input_value()
    assert "language: sv" in source
    document = source.rstrip("\n") + "\n" + RAW_HTML
    lines = document.split("\n")
    div_line = lines.index("<div class=\"notice\">") + 1
    link_line = next(i for i, line in enumerate(lines, 1) if "javascript:" in line)
    upload = page.locator("form[enctype='multipart/form-data']")
    upload.get_by_label("Language of this version").select_option("sv")
    upload.get_by_label("Markdown file").set_input_files(files=[{
        "name": "instruktioner.md", "mimeType": "text/markdown",
        "buffer": document.encode("utf-8")}])
    upload.get_by_role("button", name="Upload and preview").click()
    warnings = page.locator("#warnings")
    expect(warnings).to_contain_text(
        f"Line {div_line}: raw HTML <div>: customers will see it as text")
    expect(warnings).to_contain_text(f"Line {link_line}: a javascript: link")
    audit(page, "raw-html-warning")

    publish = page.get_by_role("button", name=re.compile(r"^Publish version"))
    publish.click()
    expect(page.get_by_text("Tick this to publish with the warnings")).to_be_visible()
    audit(page, "publish-anyway-needed")
    page.get_by_label("Publish anyway: I have read the warnings above").check()
    page.get_by_role("button", name=re.compile(r"^Publish version")).click()
    expect(page.get_by_text(re.compile(r"Version \d+ is published"))).to_be_visible()
    audit(page, "published")

    audit.assert_clean(pages=5)
