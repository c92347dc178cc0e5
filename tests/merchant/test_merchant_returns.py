"""The returns inbox and a return's page in the portal: filters, search, pages, arrivals, the
registration form, the export, and nobody seeing another merchant's returns."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.services import decisions, inbox, returns
from tests.builders import make_order, make_return
from tests.customer.test_customer_views import field_error, text
from tests.merchant_fixtures import sign_in


@pytest.fixture
def ret(db, staff):
    """A reported return of 2 shirts and the jeans, in `staff`'s shop."""
    order = make_order(db, staff["merchant"]["id"])
    return make_return(db, order, {0: 2, 1: 1})


def plain(response) -> str:
    """The page's words only: tags removed, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def inbox_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'href="/merchant/returns/(\d+)"',
                                       response.get_data(as_text=True))]


def test_the_inbox_lists_returns_newest_first_with_counts(client, db, staff):
    order = make_order(db, staff["merchant"]["id"])
    first = make_return(db, order, {0: 1})
    second = make_return(db, order, {1: 1})
    response = client.get("/merchant/returns")
    assert response.status_code == 200
    assert inbox_ids(response) == [second["id"], first["id"]]
    page = plain(response)
    assert "All 2" in page and "Reported 2" in page and "Received 0" in page
    assert order["order_number"] in page and "Kim Kund" in page


def test_filters_show_only_their_status(client, db, staff):
    order = make_order(db, staff["merchant"]["id"])
    reported = make_return(db, order, {0: 1})
    sent = make_return(db, order, {1: 1})
    returns.mark_sent(db, returns.Viewer(order_ids=frozenset({order["id"]})), sent["id"], None)
    assert inbox_ids(client.get("/merchant/returns?status=sent")) == [sent["id"]]
    assert inbox_ids(client.get("/merchant/returns?status=reported")) == [reported["id"]]
    assert inbox_ids(client.get("/merchant/returns?status=received")) == []


def test_an_unknown_filter_is_refused(client, staff):
    assert client.get("/merchant/returns?status=lost").status_code == 422


def test_overdue_means_open_with_the_refund_due_within_two_days(client, db, staff):
    order = make_order(db, staff["merchant"]["id"])
    reported_at = clock.now()
    ret = make_return(db, order, {0: 1})
    due = clock.days_after(reported_at, returns.REFUND_DUE_DAYS)
    with time_machine.travel(reported_at + timedelta(days=11), tick=False):
        sign_in(client, staff["user"]["email"])  # days apart: a staff session lasts 12 hours
        assert inbox_ids(client.get("/merchant/returns?status=overdue")) == []
    with time_machine.travel(clock.parse(f"{due - timedelta(days=2)}T12:00:00+00:00"),
                             tick=False):
        sign_in(client, staff["user"]["email"])  # days apart: a staff session lasts 12 hours
        page = client.get("/merchant/returns?status=overdue")
        assert inbox_ids(page) == [ret["id"]]
        assert "Refund due soon" in text(page)
        assert "within 2 days" in text(page)
    with time_machine.travel(clock.parse(f"{due + timedelta(days=1)}T12:00:00+00:00"),
                             tick=False):
        sign_in(client, staff["user"]["email"])  # days apart: a staff session lasts 12 hours
        assert "Refund late" in text(client.get("/merchant/returns?status=overdue"))
        decisions.register(db, staff["merchant"]["id"], ret["id"], {"items": [
            {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, "test")
        assert inbox_ids(client.get("/merchant/returns?status=overdue")) == []


def test_search_by_order_number_or_reference(client, db, staff):
    mine = make_order(db, staff["merchant"]["id"], merchant_reference="WEB-77")
    other = make_order(db, staff["merchant"]["id"])
    wanted = make_return(db, mine)
    make_return(db, other)
    digits = mine["order_number"].replace("-", "")
    assert inbox_ids(client.get(f"/merchant/returns?q={digits}")) == [wanted["id"]]
    assert inbox_ids(client.get("/merchant/returns?q=WEB-77")) == [wanted["id"]]
    page = client.get("/merchant/returns?q=000-000-000")
    assert inbox_ids(page) == [] and "No returns match" in text(page)
    assert 'value="000-000-000"' in text(page)


def test_pages_follow_each_other_without_gaps(client, db, staff, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    monkeypatch.setattr(inbox.list_returns, "__defaults__", ("all", None, None, 2))
    order = make_order(db, staff["merchant"]["id"], lines=[
        {"sku": f"S{i}", "name": f"Item {i}", "quantity": 1, "unit_price": 100}
        for i in range(5)])
    made = [make_return(db, order, {i: 1})["id"] for i in range(5)]
    seen, url = [], "/merchant/returns"
    while url:
        response = client.get(url)
        seen += inbox_ids(response)
        older = re.search(r'href="([^"]+after=[^"]+)"', response.get_data(as_text=True))
        url = older[1].replace("&amp;", "&") if older else None
    assert seen == made[::-1]


def test_marking_several_returns_received_at_once(client, db, staff):
    order = make_order(db, staff["merchant"]["id"])
    a, b = make_return(db, order, {0: 2}), make_return(db, order, {1: 1})
    response = client.post("/merchant/returns/received",
                           data={"return_ids": [a["id"], b["id"]],
                                 "back": "/merchant/returns?status=reported"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/merchant/returns?status=reported"
    assert "2 returns marked as received." in text(client.get("/merchant/returns"))
    for ret in (a, b):
        after = returns.return_for_merchant(db, staff["merchant"]["id"], ret["id"])
        assert after["status"] == "received"
        assert all(i["received_quantity"] == i["quantity"] for i in after["items"])
        assert all(i["accepted_quantity"] == 0 for i in after["items"])  # arrival ≠ acceptance


def test_marking_none_says_so(client, staff):
    response = client.post("/merchant/returns/received", data={"back": "https://evil.example"})
    assert response.headers["Location"] == "/merchant/returns"
    assert "Tick the returns" in text(client.get("/merchant/returns"))


def test_the_export_is_the_filtered_list_and_safe_in_a_spreadsheet(client, db, staff):
    order = make_order(db, staff["merchant"]["id"],
                       customer={"email": "x@example.se", "name": "=HYPERLINK(\"evil\")"})
    ret = make_return(db, order, {0: 2})
    response = client.get("/merchant/returns.csv?status=reported")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["return_id"]) for r in rows] == [ret["id"]]
    assert rows[0]["customer_name"] == "'=HYPERLINK(\"evil\")"
    assert rows[0]["items"] == "2" and rows[0]["value"] == "598,00"
    assert client.get("/merchant/returns.csv?status=resolved").get_data(as_text=True) \
        .count("\n") == 1  # the header only


def test_the_excel_export_opens_in_swedish_excel(client, db, staff):
    order = make_order(db, staff["merchant"]["id"],
                       customer={"email": "x@example.se", "name": "Åsa Öberg"})
    make_return(db, order, {0: 2})
    response = client.get("/merchant/returns.csv?for=excel")
    assert response.headers["Content-Disposition"].endswith('returns-all-excel.csv"')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0]["customer_name"] == "Åsa Öberg" and rows[0]["value"] == "598,00"
    assert "for=excel" in client.get("/merchant/returns").get_data(as_text=True)


# --- a return's page ---------------------------------------------------------------------------

def test_the_return_page_shows_customer_items_dates_and_history(client, db, ret, staff):
    page = text(client.get(f"/merchant/returns/{ret['id']}"))
    assert "Kim Kund" in page and "kund@example.se" in page
    assert "2 × Shirt" in page and "1 × Jeans" in page and "Too small" in page
    assert "Send by" in page and "Refund due by" in page
    assert "Reported" in page and "by Customer" in page
    assert "Version 1" in page


def register(client, ret, **fields):
    """Post the registration form: fields like received_0=2 name the item by index."""
    data = {"idempotency_key": fields.pop("key", "k-1")}
    for name, value in fields.items():
        kind, index = name.rsplit("_", 1)
        data[f"{kind}_{ret['items'][int(index)]['id']}"] = value
    return client.post(f"/merchant/returns/{ret['id']}/registration", data=data)


def test_registering_item_by_item(client, db, ret, staff):
    merchant_id = staff["merchant"]["id"]
    response = register(client, ret, received_0=2, key="a")
    assert response.status_code == 303
    after = returns.return_for_merchant(db, merchant_id, ret["id"])
    assert after["status"] == "received"
    assert [(i["received_quantity"], i["accepted_quantity"]) for i in after["items"]] == [
        (2, 0), (0, 0)]
    register(client, ret, accepted_0=1, rejected_0=1, reason_0="Worn", key="b")
    register(client, ret, accepted_1=1, key="c")
    after = returns.return_for_merchant(db, merchant_id, ret["id"])
    assert after["status"] == "resolved"
    assert [(i["received_quantity"], i["accepted_quantity"], i["rejected_quantity"])
            for i in after["items"]] == [(2, 1, 1), (1, 1, 0)]
    page = text(client.get(f"/merchant/returns/{ret['id']}"))
    assert "Registered. The customer sees it" in page
    assert "Shirt · 1 accepted · 1 rejected (Worn)" in page


def test_a_rejection_needs_a_reason_next_to_the_field_and_keeps_the_input(client, ret, staff):
    response = register(client, ret, received_0=2, rejected_0=1, accepted_1=1)
    assert response.status_code == 422
    reason_id = f"reason_{ret['items'][0]['id']}"
    assert "Say why you reject it" in field_error(response, reason_id)
    page = response.get_data(as_text=True)
    assert re.search(rf'name="received_{ret["items"][0]["id"]}"[^>]*value="2"', page)
    assert re.search(rf'name="accepted_{ret["items"][1]["id"]}"[^>]*value="1"', page)


def test_the_domain_s_quantity_errors_land_next_to_their_item(client, ret, staff):
    response = register(client, ret, accepted_1=2)
    assert response.status_code == 422
    assert "Only 1 of this item is still undecided" in field_error(
        response, f"accepted_{ret['items'][1]['id']}")
    assert re.search(rf'name="accepted_{ret["items"][1]["id"]}"[^>]*value="2"',
                     response.get_data(as_text=True))
    more = register(client, ret, received_0=3)
    assert "at most 2 more can arrive" in field_error(more, f"received_{ret['items'][0]['id']}")


def test_an_empty_registration_is_refused(client, ret, staff):
    response = register(client, ret)
    assert response.status_code == 422
    assert "Nothing to register" in text(response)


def test_a_double_submitted_registration_counts_once(client, db, ret, staff):
    register(client, ret, accepted_0=1, key="same")
    register(client, ret, accepted_0=1, key="same")
    after = returns.return_for_merchant(db, staff["merchant"]["id"], ret["id"])
    assert after["items"][0]["accepted_quantity"] == 1


def test_the_portal_form_and_the_api_register_the_same(client, db, staff):
    """Two identical returns, one registered in the portal and one through the API."""
    merchant_id = staff["merchant"]["id"]
    by_form = make_return(db, make_order(db, merchant_id), {0: 2})
    by_api = make_return(db, make_order(db, merchant_id), {0: 2})
    register(client, by_form, received_0=2, accepted_0=1, rejected_0=1, reason_0="Stained")
    client.post(f"/api/v1/returns/{by_api['id']}/registration",
                headers={"Authorization": f"Bearer {staff['key']}", "Idempotency-Key": "x"},
                json={"items": [{"return_item_id": by_api["items"][0]["id"],
                                 "received_quantity": 2, "accepted_quantity": 1,
                                 "rejected_quantity": 1, "reason": "Stained"}]})

    def outcome(ret):
        after = returns.return_for_merchant(db, merchant_id, ret["id"])
        credits = db.execute("SELECT sum(amount_minor) FROM ledger_entry WHERE order_id = ?"
                             " AND kind = 'credit'", [after["order_id"]]).fetchone()[0]
        item = after["items"][0]
        return (after["status"], item["received_quantity"], item["accepted_quantity"],
                item["rejected_quantity"], item["decision_reason"], credits)

    assert outcome(by_form) == outcome(by_api) == ("resolved", 2, 1, 1, "Stained", 29900)


def test_a_resolved_return_has_no_form(client, db, ret, staff):
    decisions.register(db, staff["merchant"]["id"], ret["id"], {"items": [
        {"return_item_id": i["id"], "accepted_quantity": i["quantity"]}
        for i in ret["items"]]}, "test")
    page = text(client.get(f"/merchant/returns/{ret['id']}"))
    assert "Decided: nothing left to register." in page
    assert ">Register</button>" not in client.get(
        f"/merchant/returns/{ret['id']}").get_data(as_text=True)


# --- someone else's returns --------------------------------------------------------------------

def test_another_merchant_s_return_is_not_found_anywhere(client, db, staff, other_shop):
    theirs = make_return(db, make_order(db, other_shop["merchant"]["id"]))
    item = theirs["items"][0]["id"]
    assert client.get(f"/merchant/returns/{theirs['id']}").status_code == 404
    assert client.post(f"/merchant/returns/{theirs['id']}/registration",
                       data={f"accepted_{item}": 1, "idempotency_key": "k"}).status_code == 404
    assert client.post("/merchant/returns/received",
                       data={"return_ids": [theirs["id"]]}).status_code == 404
    assert inbox_ids(client.get("/merchant/returns")) == []
    assert str(theirs["id"]) not in client.get("/merchant/returns.csv").get_data(as_text=True) \
        .split("\n", 1)[1]
    after = returns.return_for_merchant(db, other_shop["merchant"]["id"], theirs["id"])
    assert after["status"] == "reported" and after["items"][0]["received_quantity"] == 0
