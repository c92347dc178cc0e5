"""GET /api/v1/returns and PUT /api/v1/instructions, against the contract."""

from __future__ import annotations

import pytest

from returns_app.services import merchants, returns
from tests.api_helpers import assert_error, bearer, is_int
from tests.builders import INSTRUCTIONS, make_order, make_return
from tests.merchant.test_merchant_instructions import ENGLISH, SWEDISH


def test_returns_lists_only_this_merchant_s_returns(client, db, shop, other_shop):
    mine = make_return(db, make_order(db, shop["merchant"]["id"]))
    make_return(db, make_order(db, other_shop["merchant"]["id"]))
    response = client.get("/api/v1/returns", headers=bearer(shop["key"]))
    assert response.status_code == 200
    body = response.get_json()
    assert [r["id"] for r in body["returns"]] == [mine["id"]]
    assert body["next_cursor"] is None
    listed = body["returns"][0]
    assert listed == returns.as_api(returns.return_for_merchant(db, shop["merchant"]["id"],
                                                                mine["id"]))
    assert listed["status"] == "reported" and is_int(listed["items"][0]["quantity"])


def test_returns_filtered_by_status(client, db, shop):
    order = make_order(db, shop["merchant"]["id"])
    make_return(db, order, {0: 1})
    sent = make_return(db, order, {1: 1})
    returns.mark_sent(db, returns.Viewer(order_ids=frozenset({order["id"]})), sent["id"], "RR1")
    body = client.get("/api/v1/returns?status=sent", headers=bearer(shop["key"])).get_json()
    assert [r["id"] for r in body["returns"]] == [sent["id"]]
    assert body["returns"][0]["tracking_number"] == "RR1"


@pytest.mark.parametrize("query, field", [("status=lost", "status"), ("limit=0", "limit"),
                                          ("limit=abc", "limit"), ("cursor=%%%", "cursor")])
def test_bad_list_parameters_are_422(client, shop, query, field):
    error = assert_error(client.get(f"/api/v1/returns?{query}", headers=bearer(shop["key"])),
                         422, "invalid")
    assert field in error["fields"]


def test_returns_come_a_page_at_a_time(client, db, shop):
    order = make_order(db, shop["merchant"]["id"], lines=[
        {"sku": f"S{i}", "name": f"Item {i}", "quantity": 1, "unit_price": 100}
        for i in range(3)])
    made = [make_return(db, order, {i: 1})["id"] for i in range(3)]
    first = client.get("/api/v1/returns?limit=2", headers=bearer(shop["key"])).get_json()
    second = client.get(f"/api/v1/returns?limit=2&cursor={first['next_cursor']}",
                        headers=bearer(shop["key"])).get_json()
    assert [r["id"] for r in first["returns"] + second["returns"]] == made[::-1]
    assert second["next_cursor"] is None


def test_the_merchant_endpoints_need_a_valid_key(client):
    assert_error(client.get("/api/v1/returns"), 401, "unauthorized")
    assert_error(client.put("/api/v1/instructions", data=ENGLISH, content_type="text/markdown",
                            headers=bearer("rk_nope")), 401, "unauthorized")


def put(client, key, body, content_type="text/markdown; charset=utf-8", language=None):
    headers = {**bearer(key), "Content-Type": content_type}
    if language:
        headers["Content-Language"] = language
    return client.put("/api/v1/instructions", data=body, headers=headers)


def test_publishing_instructions(client, db, shop):
    response = put(client, shop["key"], SWEDISH)  # sv is the default language
    assert response.status_code == 201
    assert response.get_json() == {"version": 2, "warnings": []}
    current = merchants.current_instructions(db, shop["merchant"]["id"], "sv")
    assert current["version"] == 2 and current["published_by"] == \
        f"merchant:{shop['merchant']['id']}:api"
    english = put(client, shop["key"], ENGLISH.encode(), language="en-GB")
    assert english.status_code == 201 and english.get_json() == {"version": 3, "warnings": []}


def test_problems_are_422_with_each_line(client, db, shop):
    broken = INSTRUCTIONS.replace("days_to_send: 14", "days_to_send: 0").replace(
        "send_methods: [post, drop_off]", "send_methods: [pigeon]")
    error = assert_error(put(client, shop["key"], broken, language="en"), 422, "invalid")
    assert [(p["line"], p["field"]) for p in error["problems"]] == [
        (4, "days_to_send"), (5, "send_methods")]
    assert all(p["message"] for p in error["problems"])
    assert len(merchants.instructions_versions(db, shop["merchant"]["id"])) == 1


def test_a_document_in_another_language_than_announced_is_422_on_its_line(client, shop):
    error = assert_error(put(client, shop["key"], ENGLISH), 422, "invalid")  # sv by default
    assert error["problems"][0]["line"] == 2
    assert "being published as the Swedish version" in error["problems"][0]["message"]
    assert_error(put(client, shop["key"], ENGLISH, language="de"), 422, "invalid")


def test_too_large_is_413_and_not_text_is_415(client, shop):
    assert_error(put(client, shop["key"], ENGLISH + "x" * (256 * 1024), language="en"), 413,
                 "too_large")
    assert_error(put(client, shop["key"], b"\x89PNG\r\n\x1a\n\x00\x00", language="en",
                     content_type="image/png"), 415, "unsupported_media_type")
    binary = assert_error(put(client, shop["key"], b"---\x00\x01\x02", language="en"), 422,
                          "invalid")
    assert "not a text file" in binary["problems"][0]["message"]
    latin1 = assert_error(put(client, shop["key"], ENGLISH.replace("Pack", "Påck").encode(
        "latin-1"), language="en"), 422, "invalid")
    assert "UTF-8" in latin1["problems"][0]["message"]
