"""Production is the default: without RETURNS_ENV=development the app needs a configured secret
key, has no /dev/mail, sends Secure cookies and HSTS, and calls only public webhook addresses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from returns_app import create_app, gunicorn_conf
from returns_app.config import REFUSAL_WITHOUT_KEY
from returns_app.domain.errors import Invalid
from returns_app.webhooks import urls
from returns_app.webhooks.delivery import local_urls_allowed

LOCAL_HOOK = "http://127.0.0.1:8000/hooks"


def bare_environment(tmp_path) -> dict:
    """The environment of a fresh shell: no RETURNS_ENV, no secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNS_")}
    return {**env, "RETURNS_INSTANCE_PATH": str(tmp_path / "instance")}


def test_production_refuses_to_start_without_a_secret_key_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "from returns_app import create_app; create_app()"],
        env=bare_environment(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == REFUSAL_WITHOUT_KEY
    assert not (tmp_path / "instance" / "secret_key").exists()  # no key made up on the spot


def test_gunicorn_refuses_before_starting_a_worker(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:returns_app.gunicorn_conf",
         "--bind", "127.0.0.1:18099", "returns_app:create_app()"],
        env=bare_environment(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == REFUSAL_WITHOUT_KEY
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr


def test_the_same_check_runs_in_gunicorns_arbiter(monkeypatch, tmp_path):
    import logging
    from types import SimpleNamespace

    arbiter = SimpleNamespace(log=logging.getLogger("test-arbiter"))
    # The hook also prepares the metrics folder: a test's own, so nothing leaks out of it.
    monkeypatch.setenv(gunicorn_conf.METRICS_DIR, str(tmp_path))
    monkeypatch.delenv("RETURNS_ENV")
    monkeypatch.delenv("RETURNS_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit, match="RETURNS_SECRET_KEY is not set"):
        gunicorn_conf.on_starting(arbiter)
    monkeypatch.setenv("RETURNS_SECRET_KEY", "configured")
    gunicorn_conf.on_starting(arbiter)


def test_development_keeps_one_secret_key_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("RETURNS_SECRET_KEY", raising=False)
    monkeypatch.setenv("RETURNS_INSTANCE_PATH", str(tmp_path / "instance"))
    first = create_app({"DATABASE": str(tmp_path / "dev.sqlite3")})
    again = create_app({"DATABASE": str(tmp_path / "dev.sqlite3")})
    assert first.secret_key == again.secret_key
    assert (tmp_path / "instance" / "secret_key").read_text() == first.secret_key
    assert [p.name for p in (tmp_path / "instance").iterdir()] == ["secret_key"]


@pytest.fixture(params=["production", "development"])
def served(request, tmp_path, monkeypatch, owned_database):
    """(environment, app) for each way of running, built as the process would build it."""
    env = request.param
    if env == "production":
        monkeypatch.delenv("RETURNS_ENV")  # the default
    monkeypatch.setenv("RETURNS_SECRET_KEY", "a-configured-secret")
    monkeypatch.setenv("RETURNS_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"DATABASE": owned_database.address, "WTF_CSRF_ENABLED": False})
    return env, app


def test_dev_mail_exists_only_in_development(served):
    env, app = served
    assert ("dev_mail" in app.blueprints) == (env == "development")
    assert app.test_client().get("/dev/mail").status_code == (200 if env == "development"
                                                               else 404)


def test_hsts_is_sent_outside_development(served):
    env, app = served
    response = app.test_client().get("/")
    assert response.status_code == 200
    hsts = response.headers.get("Strict-Transport-Security")
    assert hsts == ("max-age=31536000; includeSubDomains" if env == "production" else None)


def test_cookies_are_secure_outside_development(served):
    env, app = served
    response = app.test_client().post("/language", data={"language": "en", "next": "/"})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    name = "__Host-session" if env == "production" else "session"
    assert cookie.startswith(f"{name}=") and "; HttpOnly" in cookie
    assert ("; Secure" in cookie) == (env == "production")
    assert "; Path=/;" in cookie and "Domain" not in cookie  # as __Host- requires


def test_webhooks_reach_this_machine_only_in_development(served):
    env, app = served
    assert local_urls_allowed(app) == (env == "development")
    if env == "development":
        assert urls.check_url(LOCAL_HOOK, local_urls_allowed(app)) == LOCAL_HOOK
    else:
        with pytest.raises(Invalid):
            urls.check_url(LOCAL_HOOK, local_urls_allowed(app))
        with pytest.raises(Invalid):
            urls.check_url("https://10.0.0.5/hooks", local_urls_allowed(app))
