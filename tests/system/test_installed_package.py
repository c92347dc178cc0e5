"""The wheel carries everything the app serves, and the installed package, not the checkout,
serves it, in production mode, from the working directory's instance folder."""

from __future__ import annotations

import subprocess

import requests

from tests.system.conftest import ROOT
from tests.system.forms import Tally, Visitor


def test_the_wheel_carries_templates_translations_static_files_and_samples(installed):
    names = set(installed.names())
    templates = {n for n in names if n.startswith("returns_app/templates/")}
    expected = {f"returns_app/templates/{p.relative_to(ROOT / 'templates')}"
                for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert expected and templates == expected
    assert {"returns_app/translations/sv/LC_MESSAGES/messages.mo",
            "returns_app/static/app.css", "returns_app/gunicorn_conf.py",
            "merchant_instructions/samples/nordic-outfitters.md"} <= names
    assert not any(n.startswith(("tests/", "bench/", "templates/")) for n in names)


def test_the_served_package_is_the_installed_one(installed, deployment):
    where = subprocess.run([installed.bin("python"), "-c",
                            "import returns_app; print(returns_app.__file__)"],
                           cwd=deployment.folder, env=deployment.env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert where.startswith(str(installed.venv)) and "site-packages" in where
    assert not deployment.database.is_empty()  # migrated where the README's commands say


def test_the_front_page_is_served_in_production_mode(deployment):
    front = requests.get(deployment.base_url + "/", timeout=30)
    assert front.status_code == 200
    assert 'name="order_number"' in front.text and 'lang="sv"' in front.text
    assert front.headers["Strict-Transport-Security"].startswith("max-age=")
    assert requests.get(deployment.base_url + "/dev/mail", timeout=30).status_code == 404
    visitor = Visitor(deployment.base_url, Tally())
    visitor.get("/")
    switched = visitor.submit("/language", button="sv")
    assert "; Secure" in switched.headers["Set-Cookie"]
    assert "; HttpOnly" in switched.headers["Set-Cookie"]
