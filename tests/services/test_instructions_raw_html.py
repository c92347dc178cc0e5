"""A document whose Markdown holds raw HTML, a script or a script link is published only after
the merchant has seen a warning naming each line; customers' HTML stays sanitized as before."""

from __future__ import annotations

from merchant_instructions import parse
from returns_app.services import merchants
from tests.api_helpers import bearer
from tests.builders import INSTRUCTIONS
from tests.customer.test_customer_views import text

RAW = INSTRUCTIONS + (
    "\n<div class=\"box\">\nHi\n</div>\n\n"          # lines 19-22: an HTML block on line 20
    "See [our page](javascript:alert(1)) and <b>bold</b>.\n"  # line 24
    "Also <script>alert(1)</script> and [x](DATA:text/html,hi).\n")  # line 25


def test_each_construct_is_named_with_its_document_line():
    found = [(w.line, w.message.split(":")[0]) for w in parse(RAW).warnings]
    assert found == [(20, "raw HTML <div>"), (24, "a javascript"), (24, "raw HTML <b>"),
                     (25, "a <script>"), (25, "a data")]


def test_plain_markdown_has_no_warnings_and_customers_html_is_as_before():
    assert parse(INSTRUCTIONS).warnings == ()
    html = parse(RAW).html
    assert "<div" not in html and "<script" not in html and 'href="javascript' not in html
    assert "&lt;div class=\"box\"&gt;" in html  # shown as text, as it always was


def test_the_preview_warns_and_publishing_needs_publish_anyway_with_the_text_kept(
        client, db, staff):
    page = text(client.post("/merchant/instructions/preview",
                            data={"edit-language": "en", "edit-source": RAW}))
    assert "Line 20: raw HTML <div>: customers will see it as text" in page
    assert "Line 24: a javascript: link" in page
    refused = client.post("/merchant/instructions/publish",
                          data={"language": "en", "source": RAW, "action": "publish"})
    assert refused.status_code == 422
    assert "Tick this to publish with the warnings" in text(refused)
    assert merchants.current_instructions(db, staff["merchant"]["id"], "en")["version"] == 1
    body = refused.get_data(as_text=True)
    assert "javascript:alert(1)" in body  # the document rides along in the hidden field
    published = client.post("/merchant/instructions/publish", data={
        "language": "en", "source": RAW, "action": "publish", "publish_anyway": "y"})
    assert published.status_code == 303
    current = merchants.current_instructions(db, staff["merchant"]["id"], "en")
    assert current["version"] == 2 and "<div" not in current["html"]


def test_the_warnings_are_in_the_staff_members_language(client, db, staff):
    db.execute("UPDATE merchant_user SET language = 'sv'")
    page = text(client.post("/merchant/instructions/preview",
                            data={"edit-language": "en", "edit-source": RAW}))
    assert "Rad 20: rå HTML <div>: kunderna ser den som text" in page


def test_the_api_publishes_and_names_the_warnings_in_the_callers_language(client, db, shop):
    response = client.put("/api/v1/instructions", data=RAW.encode(),
                          content_type="text/markdown",
                          headers={**bearer(shop["key"]), "Content-Language": "en",
                                   "Accept-Language": "sv"})
    assert response.status_code == 201
    warnings = response.get_json()["warnings"]
    assert warnings[0] == {"line": 20, "message": "rå HTML <div>: kunderna ser den som text, "
                                                  "inte som formatering; använd Markdown i "
                                                  "stället."}
    assert [w["line"] for w in warnings] == [20, 24, 24, 25, 25]
    clean = client.put("/api/v1/instructions", data=INSTRUCTIONS.encode(),
                       content_type="text/markdown",
                       headers={**bearer(shop["key"]), "Content-Language": "en"})
    assert clean.get_json()["warnings"] == []
