"""The kept pages' shelf is per host (a SQLite file beside the app), the database shared
(docs/design.md, "Locking, case by case"): a page one host kept is never served after another
host changed the order, because every host reads the order's version from the shared database
before it looks on its own shelf, and every change bumps that version in its own transaction."""

from __future__ import annotations

import pytest

from returns_app import create_app
from tests.builders import make_merchant, make_order, make_return
from tests.web.test_page_cache import EMAIL, counted_renders


@pytest.fixture
def order(db):
    merchant, _ = make_merchant(db)
    return make_order(db, merchant["id"])


def signed_in(host, order):
    client = host.test_client()
    assert client.post("/", data={"order_number": order["order_number"],
                                  "email": EMAIL}).status_code == 302
    return client


def test_a_change_made_through_another_host_shows_at_once_on_each(app, db, order, tmp_path,
                                                                  monkeypatch):
    app.config["PAGE_CACHE_VERIFY"] = False
    other = create_app({**app.config, "PAGE_CACHE_PATH": str(tmp_path / "host-b-pages")})
    assert other.config["DATABASE"] == app.config["DATABASE"]
    renders = counted_renders(monkeypatch)
    host_a, host_b = signed_in(app, order), signed_in(other, order)
    page = f"/orders/{order['id']}"

    for client in (host_a, host_a, host_b, host_b):
        assert "1 × Shirt" not in client.get(page).get_data(as_text=True)
    assert len(renders) == 2  # once per host: each kept its own

    make_return(db, order)  # host B's write (any host's: the database is the one they share)

    assert "1 × Shirt" in host_a.get(page).get_data(as_text=True)
    assert "1 × Shirt" in host_b.get(page).get_data(as_text=True)
    assert len(renders) == 4
    host_a.get(page)
    assert len(renders) == 4  # and the new page is kept again
