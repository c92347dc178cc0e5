"""Control characters in free text and digits from other scripts in ids (issue #17, item 3):
refused in the API and in every form, and each object has one URL."""

from __future__ import annotations

import pytest
from wtforms import HiddenField, StringField, TextAreaField

from returns_app.domain.validation import FieldErrors, ascii_whole_number, has_control_characters
from returns_app.web.form_base import Form
from tests.api.test_api_customer import token_for
from tests.api_helpers import assert_error, bearer, count
from tests.builders import checkout_payload, make_merchant, make_order, make_return
from tests.customer.test_customer_views import field_error, find, form_data
from tests.rows import by_id

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
CONTROLS = ["\x00", "\x1b[31m", "\x07", "\x7f", "\x85"]


@pytest.fixture
def shop(db):
    return make_merchant(db)


@pytest.fixture
def order(db, shop):
    return make_order(db, shop[0]["id"])


# --- the one home: validation.py and form_base.py ---------------------------------------------

@pytest.mark.parametrize("control", CONTROLS)
def test_control_characters_are_found_in_one_line_and_in_many(control):
    assert has_control_characters(f"Kim{control}Kund")
    assert has_control_characters(f"Kim{control}Kund", multiline=True)


def test_text_that_spans_lines_keeps_its_line_breaks_and_tabs():
    assert not has_control_characters("one\r\ntwo\tthree", multiline=True)
    assert has_control_characters("one\ntwo")


def test_field_errors_refuse_control_characters_by_field():
    errors = FieldErrors()
    assert errors.text({"name": "Kim\x00"}, "name", "customer.name") is None
    assert errors.text({"c": "a\nb"}, "c", "comment", multiline=True) == "a\nb"
    assert list(errors.fields) == ["customer.name"]


@pytest.mark.parametrize(("raw", "number"), [
    ("88", 88), ("088", 88), ("٨٨", None), ("+8", None), (" 8", None), ("8_8", None),
    ("-1", None), ("", None), (None, None), ("８", None),
])
def test_whole_numbers_are_ascii_digits_only(raw, number):
    assert ascii_whole_number(raw) == number


def test_every_form_refuses_control_characters_in_its_text_fields(app):
    class Example(Form):
        name = StringField()
        note = TextAreaField()
        hidden = HiddenField()

    with app.test_request_context(method="POST", data={
            "name": "Kim\x00", "note": "line one\nline two", "hidden": "a\x1bb"}):
        form = Example()
        assert not form.validate()
        assert set(form.errors) == {"name", "hidden"}
    with app.test_request_context(method="POST", data={"name": "Kim", "note": "a\r\nb"}):
        assert Example().validate()


# --- the API ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    (lambda p: p["customer"].update(name="Kim\x00Kund"), "customer.name"),
    (lambda p: p.update(merchant_reference="R-\x1b[2J1"), "merchant_reference"),
    (lambda p: p["lines"][0].update(name="Shirt\x00"), "lines[0].name"),
    (lambda p: p["lines"][1].update(sku="JEANS\x07"), "lines[1].sku"),
])
def test_a_new_order_with_a_control_character_is_422_and_nothing_stored(client, db, shop,
                                                                        change, field):
    payload = checkout_payload()
    change(payload)
    response = client.post("/api/v1/orders", json=payload, headers=bearer(shop[1]))
    assert field in assert_error(response, 422, "invalid")["fields"]
    assert count(db, "orders") == 0


def test_a_return_comment_with_nul_is_422(client, db, order):
    token = token_for(client, order)
    response = client.post(f"/api/v1/orders/{order['id']}/returns", headers=bearer(token),
                           json={"items": [{"line_id": order["lines"][0]["id"], "quantity": 1,
                                            "reason": "other", "comment": "too\x00small"}]})
    assert "items[0].comment" in assert_error(response, 422, "invalid")["fields"]
    assert count(db, "returns") == 0


def test_a_rejection_reason_with_nul_is_422(client, db, shop, order):
    ret = make_return(db, order)
    response = client.post(
        f"/api/v1/returns/{ret['id']}/registration",
        headers={**bearer(shop[1]), "Idempotency-Key": "r-1"},
        json={"items": [{"return_item_id": ret["items"][0]["id"], "rejected_quantity": 1,
                         "reason": "worn\x00"}]})
    assert "items[0].reason" in assert_error(response, 422, "invalid")["fields"]
    assert by_id(db, "returns", ret["id"])["status"] == "reported"


@pytest.mark.parametrize("tracking", ["٠٠٣٤٠٤٣٤", "JJD\x00123", "ÅÄÖ123", "Ｊ１２３"],
                         ids=["arabic-indic digits", "nul", "non-ascii letters", "full width"])
def test_a_tracking_number_is_ascii_letters_digits_spaces_and_dashes(client, db, order,
                                                                     tracking):
    ret = make_return(db, order)
    response = client.post(f"/api/v1/returns/{ret['id']}/shipment",
                           json={"tracking_number": tracking},
                           headers=bearer(token_for(client, order)))
    assert "tracking_number" in assert_error(response, 422, "invalid")["fields"]
    assert by_id(db, "returns", ret["id"])["status"] == "reported"


@pytest.mark.parametrize("limit", ["٥", "+5", "5_0", " 5"])
def test_a_page_size_in_other_digits_is_422(client, shop, limit):
    response = client.get("/api/v1/returns", query_string={"limit": limit},
                          headers=bearer(shop[1]))
    assert_error(response, 422, "invalid")


# --- one URL per object -------------------------------------------------------------------------

def other_spellings(object_id: int) -> list[str]:
    return [f"0{object_id}", f"00{object_id}", str(object_id).translate(ARABIC_INDIC)]


def test_an_order_has_one_api_url(client, order):
    token = token_for(client, order)
    assert client.get(f"/api/v1/orders/{order['id']}", headers=bearer(token)).status_code == 200
    for spelling in other_spellings(order["id"]):
        assert_error(client.get(f"/api/v1/orders/{spelling}", headers=bearer(token)), 404,
                     "not_found")


def test_an_order_has_one_page_url(client, order):
    assert find(client, order["order_number"]).status_code == 302
    assert client.get(f"/orders/{order['id']}").status_code == 200
    for spelling in other_spellings(order["id"]):
        assert client.get(f"/orders/{spelling}").status_code == 404


# --- forms --------------------------------------------------------------------------------------

def test_the_report_form_refuses_a_comment_with_nul_and_keeps_the_input(client, db, order):
    assert find(client, order["order_number"]).status_code == 302
    line_id = order["lines"][0]["id"]
    response = client.post(f"/orders/{order['id']}/returns/new",
                           data=form_data(order, l0=(1, "other", "too\x00small")))
    assert response.status_code == 422
    assert "control characters" in field_error(response, f"comment_{line_id}")
    assert "too" in response.get_data(as_text=True)
    assert count(db, "returns") == 0


def test_the_shipment_form_refuses_other_scripts_digits(client, db, order):
    assert find(client, order["order_number"]).status_code == 302
    ret = make_return(db, order)
    response = client.post(f"/returns/{ret['id']}/sent", data={"tracking_number": "٨٨٨"})
    assert response.status_code == 422
    assert "letters, digits" in field_error(response, "tracking_number")
    assert by_id(db, "returns", ret["id"])["status"] == "reported"
