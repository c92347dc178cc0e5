"""Emailed links opened as what they are for (issue 16, item 5): never added to an account that
isn't the order's customer's, the preferences link opens the preferences only, and a customer's
API token can be revoked."""

from __future__ import annotations

import pytest

from returns_app.domain.passwords import hash_password
from returns_app.services import links
from tests.builders import make_order
from tests.support_helpers import refund_needing_details

VICTIM = "offer@example.se"
VICTIM_PASSWORD = "offer-password"  # noqa: S105 (test data)
SESSION = "/api/v1/customer/session"


@pytest.fixture
def planted(app, db, client, shop):
    """The victim signed in on `client`; someone else's order, whose links a page of another
    site makes the victim's browser follow."""
    mine = make_order(db, shop["merchant"]["id"], customer={"email": VICTIM, "name": "Vera"})
    db.execute("UPDATE customer SET password_hash = ? WHERE id = ?",
               [hash_password(VICTIM_PASSWORD), mine["customer_id"]])
    theirs = make_order(db, shop["merchant"]["id"],
                        customer={"email": "angripare@example.se", "name": "Mallory"})
    response = client.post("/signin", data={"email": VICTIM, "password": VICTIM_PASSWORD})
    assert response.status_code == 302
    return mine, theirs


def link(app, purpose: str, subject_id: int) -> str:
    path = {links.ORDER: "/links/order/", links.PAY: "/links/pay/",
            links.RETURN: "/links/return/", links.PREFERENCES: "/preferences/",
            links.PAYOUT_DETAILS: "/refunds/"}[purpose]
    return path + links.make_token(app.secret_key, purpose, subject_id)


@pytest.mark.parametrize("purpose", [links.ORDER, links.PAY])
def test_a_link_to_another_customers_order_is_not_added_to_the_signed_in_account(
        app, client, planted, purpose):
    mine, theirs = planted
    response = client.get(link(app, purpose, theirs["id"]))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Signed in with another account" in page and "Mallory" not in page
    assert client.get(f"/orders/{theirs['id']}").status_code == 404
    listed = client.get("/orders").get_data(as_text=True)
    assert theirs["order_number"] not in listed and mine["order_number"] in listed


def test_signing_out_from_that_page_opens_the_link(app, client, planted):
    _mine, theirs = planted
    url = link(app, links.ORDER, theirs["id"])
    page = client.get(url).get_data(as_text=True)
    assert f'name="next" value="{url}"' in page
    signed_out = client.post("/signout", data={"next": url})
    assert signed_out.headers["Location"] == url
    opened = client.get(url)
    assert opened.status_code == 303 and opened.headers["Location"] == f"/orders/{theirs['id']}"
    assert client.get(f"/orders/{theirs['id']}").status_code == 200


def test_sign_out_goes_nowhere_but_a_link_of_ours(client, planted):
    for elsewhere in ("https://evil.example/links/order/x", "//evil.example/", "/orders/1"):
        assert client.post("/signout", data={"next": elsewhere}).headers["Location"] == "/"


def test_the_customers_own_link_opens_as_before(app, client, planted):
    mine, _theirs = planted
    response = client.get(link(app, links.ORDER, mine["id"]))
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{mine['id']}"


def test_a_payout_details_link_for_another_order_opens_its_page_only(app, db, client, shop,
                                                                      planted):
    refund = refund_needing_details(db, shop["merchant"]["id"],
                                    customer={"email": "tredje@example.se", "name": "Tredje"})
    response = client.get(link(app, links.PAYOUT_DETAILS, refund["id"]))
    assert response.status_code == 200  # the page the link is for, for this request
    assert client.get(f"/orders/{refund['order_id']}").status_code == 404


def test_the_preferences_link_opens_the_preferences_only(app, client, db, shop):
    order = make_order(db, shop["merchant"]["id"])
    response = client.get(link(app, links.PREFERENCES, order["id"]))
    assert response.status_code == 200 and 'name="reminder_channel"' in \
        response.get_data(as_text=True)
    # Not the order, nor paying, reporting or cancelling on it.
    assert client.get(f"/orders/{order['id']}").status_code == 404
    assert client.get(f"/orders/{order['id']}/returns/new").status_code == 404
    with client.session_transaction() as session:
        assert "order_ids" not in session


def test_an_anonymous_visitor_still_gets_the_order_from_its_link(app, client, db, shop):
    order = make_order(db, shop["merchant"]["id"])
    assert client.get(link(app, links.ORDER, order["id"])).status_code == 303
    assert client.get(f"/orders/{order['id']}").status_code == 200


# --- the API's customer tokens --------------------------------------------------------------------

def api_token(client, order: dict) -> str:
    response = client.post(SESSION, json={"order_number": order["order_number"],
                                          "email": "kund@example.se"})
    assert response.status_code == 201
    return response.get_json()["token"]


def test_a_customer_token_is_revoked_by_delete_and_refused_after(client, db, shop):
    order = make_order(db, shop["merchant"]["id"])
    token = api_token(client, order)
    other = api_token(client, order)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/orders/{order['id']}", headers=headers).status_code == 200
    response = client.delete(SESSION, headers=headers)
    assert response.status_code == 204 and response.get_data() == b""
    refused = client.get(f"/api/v1/orders/{order['id']}", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"]["code"] == "unauthorized"
    assert client.delete(SESSION, headers=headers).status_code == 401
    # Only that token: another session of the same order still works.
    assert client.get(f"/api/v1/orders/{order['id']}",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 200
    stored = [r[0] for r in db.execute("SELECT token_hash FROM customer_token")]
    assert token not in stored and other not in stored


def test_revoking_needs_a_token(client):
    response = client.delete(SESSION)
    assert response.status_code == 401
    assert client.delete(SESSION, headers={"Authorization": "Bearer ct_nonsense"}
                         ).status_code == 401


def test_the_openapi_document_describes_the_revocation(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/customer/session"][
        "delete"]
    assert operation["security"] == [{"customerToken": []}]
    assert set(operation["responses"]) == {"204", "401"}
    assert "content" not in operation["responses"]["204"]
