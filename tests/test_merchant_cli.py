"""`flask create-merchant-user`, and the demo's merchant staff."""

from __future__ import annotations

import re

from returns_app import demo
from returns_app.domain.passwords import verify_password
from tests.builders import make_merchant


def test_create_merchant_user_prints_a_one_time_password_that_signs_in(app, db, client,
                                                                      cheap_hashing):
    make_merchant(db, "Shop AB")
    result = app.test_cli_runner().invoke(args=["create-merchant-user", "shop-ab",
                                                "Lager@Shop.se"])
    assert result.exit_code == 0, result.output
    password = re.search(r"Password \(shown once\): (\S+)", result.output)[1]
    stored = db.execute("SELECT password_hash FROM merchant_user WHERE email = 'lager@shop.se'"
                        ).fetchone()[0]
    assert password not in stored and verify_password(stored, password)
    response = client.post("/merchant/signin", data={"email": "lager@shop.se",
                                                     "password": password})
    assert response.status_code == 302


def test_create_merchant_user_fails_clearly(app, db, cheap_hashing):
    make_merchant(db, "Shop AB")
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["create-merchant-user", "nope", "a@shop.se"])
    assert unknown.exit_code != 0 and "There is no merchant 'nope'" in unknown.output
    runner.invoke(args=["create-merchant-user", "shop-ab", "a@shop.se"])
    again = runner.invoke(args=["create-merchant-user", "shop-ab", "a@shop.se"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_the_sign_in_help_names_the_demo_merchant_staff():
    help_text = demo.sign_in_help("http://127.0.0.1:5000")
    assert "http://127.0.0.1:5000/merchant/signin as nordic-outfitters@example.se" in help_text
    assert "hemma-design@example.se" in help_text and "techbolaget@example.se" in help_text
    assert f"password {demo.DEMO_PASSWORD}" in help_text
