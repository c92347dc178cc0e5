"""Publishing return instructions in the portal: edit or upload, problems by line next to the
form with the input kept, a preview exactly as customers see it, then publish."""

from __future__ import annotations

import io
import re

import pytest

from returns_app.services import merchants, returns
from tests.builders import INSTRUCTIONS, make_order, make_return, viewer_for
from tests.customer.test_customer_views import text

ENGLISH = INSTRUCTIONS.replace("1. Pack the items.", "1. Pack the items in their box.")
SWEDISH = INSTRUCTIONS.replace("language: en", "language: sv").replace(
    "# How to return", "# Så returnerar du")


def preview(client, source: str, language: str = "en"):
    return client.post("/merchant/instructions/preview",
                       data={"edit-language": language, "edit-source": source})


def test_the_page_lists_versions_and_prefills_the_current_source(client, db, staff):
    merchants.publish_instructions(db, staff["merchant"]["id"], SWEDISH, "test")
    page = text(client.get("/merchant/instructions?language=en"))
    assert "Version 2" in page and "Version 1" in page
    assert "Current English version" in page and "Current Swedish version" in page
    assert "# How to return" in page  # the English source in the editor
    assert "# Så returnerar du" in text(client.get("/merchant/instructions?language=sv"))


def test_the_preview_shows_the_document_as_the_customer_s_return_page_does(client, db, staff):
    response = preview(client, ENGLISH)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Preview: version 2, English" in text(response)
    assert page.count('class="card instructions"') == 2  # the phone and the computer
    assert "preview-phone" in page and "preview-desktop" in page
    assert "<li>Pack the items in their box.</li>" in page
    assert "Publish version 2" in page and "Back to editing" in page
    assert merchants.instructions_versions(db, staff["merchant"]["id"])[0]["version"] == 1

    # The customer's page renders the same partial: the same markup, version for version.
    published = merchants.publish_instructions(db, staff["merchant"]["id"], ENGLISH, "test")
    ret = make_return(db, make_order(db, staff["merchant"]["id"]))
    customer = client.application.test_client()
    customer.post("/", data={"order_number": ret["order"]["order_number"],
                             "email": "kund@example.se"})
    customer_page = customer.get(f"/returns/{ret['id']}").get_data(as_text=True)

    def section(html, heading_id):
        return re.search(rf'<section class="card instructions" aria-labelledby="{heading_id}">'
                         r'.*?</section>', html, re.S)[0].replace(heading_id, "H")

    assert published["version"] == 2
    assert section(page, "phone-how-heading").replace("123-456-789", "") == section(
        customer_page, "how-heading")


def test_publishing_from_the_preview(client, db, staff):
    response = client.post("/merchant/instructions/publish",
                           data={"language": "en", "source": ENGLISH, "action": "publish"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/merchant/instructions?language=en"
    current = merchants.current_instructions(db, staff["merchant"]["id"], "en")
    assert current["version"] == 2 and "Pack the items in their box." in current["html"]
    assert current["published_by"] == f"merchant_user:{staff['user']['id']}"
    page = text(client.get("/merchant/instructions"))
    assert "Version 2 is published." in page
    assert f"by {staff['user']['email']}" in page


def test_back_to_editing_keeps_the_text(client, db, staff):
    response = client.post("/merchant/instructions/publish",
                           data={"language": "en", "source": ENGLISH, "action": "edit"})
    assert response.status_code == 200
    assert "Pack the items in their box." in text(response)
    assert len(merchants.instructions_versions(db, staff["merchant"]["id"])) == 1


def test_problems_are_listed_with_their_lines_next_to_the_editor_and_the_text_kept(
        client, db, staff):
    broken = ENGLISH.replace("return_window_days: 30", "return_window_days: 7").replace(
        "send_methods: [post, drop_off]", "send_methods: [pigeon]")
    response = preview(client, broken)
    assert response.status_code == 422
    page = text(response)
    assert "The document has 2 problems; nothing was published." in page
    assert re.search(r"Line 3</a>: return_window_days must be a whole number", page)
    assert re.search(r'Line 5</a>: send_methods has "pigeon"', page)
    assert "send_methods: [pigeon]" in page  # the editor still holds what was typed
    # The problems sit in the editor's form, before its fields.
    html = response.get_data(as_text=True)
    assert html.index('id="problems"') < html.index('id="edit-source"') < html.index(
        'id="upload-heading"')
    assert len(merchants.instructions_versions(db, staff["merchant"]["id"])) == 1


def test_a_language_other_than_the_document_s_is_a_problem_on_its_line(client, staff):
    response = preview(client, ENGLISH, language="sv")
    assert response.status_code == 422
    assert re.search(r"Line 2</a>: The document says language: en, but it is being published "
                     r"as the Swedish version", text(response))


def test_uploading_the_file_previews_it(client, staff):
    response = client.post("/merchant/instructions/upload", data={
        "upload-language": "en",
        "upload-document": (io.BytesIO(ENGLISH.encode()), "instructions.md")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Preview: version 2, English" in text(response)


def test_an_upload_with_problems_lands_in_the_editor(client, staff):
    response = client.post("/merchant/instructions/upload", data={
        "upload-language": "en",
        "upload-document": (io.BytesIO(ENGLISH.replace("days_to_send: 14", "days_to_send: 0")
                                       .encode()), "instructions.md")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = text(response)
    assert "Line 4</a>: days_to_send must be a whole number" in page
    assert "days_to_send: 0" in page and "The uploaded text is in the editor above" in page


@pytest.mark.parametrize("content, filename, message", [
    (b"x" * (256 * 1024 + 1), "big.md", "The file is larger than 256 KB"),
    (b"\x89PNG\r\n", "photo.png", "Upload a Markdown file (.md)"),
])
def test_uploads_that_are_too_big_or_not_markdown_are_refused_next_to_the_field(
        client, staff, content, filename, message):
    response = client.post("/merchant/instructions/upload", data={
        "upload-language": "en", "upload-document": (io.BytesIO(content), filename)},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in re.search(r'id="upload-document-error">(.*?)</p>', text(response))[1]


def test_an_upload_that_is_not_utf8_is_refused_with_its_line(client, staff):
    latin1 = ENGLISH.replace("Pack the items", "Packa varorna i lådan").encode("latin-1")
    response = client.post("/merchant/instructions/upload", data={
        "upload-language": "en", "upload-document": (io.BytesIO(latin1), "latin1.md")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(r"Line 17</a>: The document must be UTF-8 text", text(response))


def test_text_over_256_kb_in_the_editor_is_refused(client, staff):
    response = preview(client, ENGLISH + "x" * (256 * 1024))
    assert response.status_code == 413
    assert "larger than 256 KB" in text(response)


def test_an_empty_editor_says_what_to_do(client, staff):
    response = preview(client, "")
    assert response.status_code == 422
    assert "Write the instructions, or upload the file instead." in text(response)


def test_customers_see_their_language_else_the_other_and_a_return_keeps_its_version(db, shop):
    merchant_id = shop["merchant"]["id"]
    order = make_order(db, merchant_id)
    first = make_return(db, order, {0: 1})
    assert first["instructions"]["version"] == 1  # English, the only one: shown to everyone
    assert merchants.current_instructions(db, merchant_id, "sv")["language"] == "en"
    merchants.publish_instructions(db, merchant_id, SWEDISH, "test", language="sv")
    assert merchants.current_instructions(db, merchant_id, "sv")["version"] == 2
    assert merchants.current_instructions(db, merchant_id, "en")["version"] == 1
    second = make_return(db, order, {1: 1})  # the customer's language is sv by default
    assert second["instructions"]["version"] == 2
    merchants.publish_instructions(db, merchant_id, SWEDISH.replace("Pack", "Packa"), "test")
    again = returns.return_details(db, viewer_for(order), second["id"])
    assert again["instructions"]["version"] == 2  # the version it was reported under
    assert returns.return_details(db, viewer_for(order), first["id"])["instructions"][
        "version"] == 1


def test_instructions_pages_need_a_merchant_user(client, db, shop):
    for url in ("/merchant/instructions/preview", "/merchant/instructions/upload",
                "/merchant/instructions/publish"):
        response = client.post(url, data={"language": "en", "source": ENGLISH,
                                          "action": "publish"})
        assert response.status_code == 302 and "/merchant/signin" in response.headers[
            "Location"]
    assert len(merchants.instructions_versions(db, shop["merchant"]["id"])) == 1
