"""Configuration from environment variables. Production is the default: `RETURNS_ENV=development`
(run.py and the tests set it) turns on what only a developer's machine may have: a secret key
kept in the instance folder, /dev/mail, cookies over plain http, webhooks to this machine."""

from __future__ import annotations

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

REFUSAL_WITHOUT_KEY = (
    "RETURNS_SECRET_KEY is not set: set it to a long random value, the same for every process"
    " (python -c 'import secrets; print(secrets.token_hex(32))'),"
    " or set RETURNS_ENV=development")


def is_development() -> bool:
    return os.environ.get("RETURNS_ENV", "production") == "development"


def require_secret_key() -> None:
    """Outside development, stop with one line when no secret key is configured: a key made up
    per host would sign sessions and emailed links no other host accepts."""
    if not is_development() and not os.environ.get("RETURNS_SECRET_KEY"):
        raise SystemExit(REFUSAL_WITHOUT_KEY)


def _secret_key(instance: Path) -> str:
    require_secret_key()
    if key := os.environ.get("RETURNS_SECRET_KEY"):
        return key
    # Development: a key that survives restarts, so sessions and emailed links keep working.
    # Made aside and linked into place: two workers starting at once end up with one key.
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        draft = instance / f"secret_key.{os.getpid()}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


def _count(name: str) -> int:
    raw = os.environ.get(name, "0").strip() or "0"
    if not raw.isdigit():
        raise SystemExit(f"{name} must be a whole number (0 or more), not {raw!r}.")
    return int(raw)


def load(app: Flask, overrides: dict | None) -> None:
    instance = Path(app.instance_path)
    env = os.environ.get("RETURNS_ENV", "production")
    app.config.update(
        ENV_NAME=env,
        # A file path (SQLite, the default), or with RETURNS_DATABASE_URL=postgresql://... the
        # PostgreSQL database (store/postgres.py; docs/design.md, "Two engines").
        DATABASE=os.environ.get("RETURNS_DATABASE_URL")
        or os.environ.get("RETURNS_DATABASE", str(instance / "returns.sqlite3")),
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env != "development",
        # __Host-: the browser takes it only over https, for Path=/ and without a Domain, so
        # neither a sibling subdomain nor a plain-http page can set or overwrite it.
        SESSION_COOKIE_NAME="session" if env == "development" else "__Host-session",
        # Only for a customer who ticks "stay signed in" (auth.begin_session); every other
        # session cookie ends with the browser, and the server ends its row sooner
        # (services/web_sessions.py).
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        # Customers fill the return form at their own pace; the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
        # Swedish unless the customer chose otherwise or the browser asks for English (i18n.py).
        BABEL_DEFAULT_LOCALE="sv_SE",
        PROVIDER_URL=os.environ.get("RETURNS_PROVIDER_URL", "http://127.0.0.1:5001"),
        # Emails: in development the catcher run.py starts; in production a relay near the app.
        SMTP_HOST=os.environ.get("RETURNS_SMTP_HOST",
                                 "127.0.0.1" if env == "development" else "localhost"),
        SMTP_PORT=int(os.environ.get("RETURNS_SMTP_PORT",
                                     "1025" if env == "development" else "25")),
        SMTP_STARTTLS=os.environ.get("RETURNS_SMTP_STARTTLS", "") == "1",
        SMTP_USERNAME=os.environ.get("RETURNS_SMTP_USERNAME", ""),
        SMTP_PASSWORD=os.environ.get("RETURNS_SMTP_PASSWORD", ""),
        SMTP_TIMEOUT=float(os.environ.get("RETURNS_SMTP_TIMEOUT", "10")),
        MAIL_FROM=os.environ.get("RETURNS_MAIL_FROM",
                                 "Returns assistant <returns@returns.example.se>"),
        # Emails are written by the worker, outside any request: their links start here.
        PUBLIC_URL=os.environ.get("RETURNS_PUBLIC_URL", "http://127.0.0.1:5000"),
        # How many rendered pages the shelf all workers share keeps (page_cache.py); 0: none.
        # The provider's bankgiro number customers pay invoices to, printed with each invoice's
        # OCR reference; a bank file for another account is refused. RETURNS_BANK_IBAN: the
        # account's IBAN, for banks that name it instead in camt.054.
        BANKGIRO=os.environ.get("RETURNS_BANKGIRO", "991-2346"),  # bank_payments.DEFAULT_BANKGIRO
        BANK_IBAN=os.environ.get("RETURNS_BANK_IBAN", ""),
        PAGE_CACHE_SIZE=int(os.environ.get("RETURNS_PAGE_CACHE_SIZE", "4096")),
        # How many reverse proxies stand in front of the app (proxies.py); 0: none, and
        # X-Forwarded-* headers are ignored.
        TRUSTED_PROXIES=_count("RETURNS_TRUSTED_PROXIES"),
        # Who may read /metrics from elsewhere than this machine (Authorization: Bearer); unset:
        # only a scraper on loopback.
        METRICS_TOKEN=os.environ.get("RETURNS_METRICS_TOKEN", ""),
    )
    if overrides:
        app.config.update(overrides)
    if not {"RETURNS_DATABASE", "RETURNS_DATABASE_URL"} & set(os.environ) \
            and "DATABASE" not in (overrides or {}):
        instance.mkdir(parents=True, exist_ok=True)  # a first `migrate` makes the file in it
    if "SECRET_KEY" not in (overrides or {}):
        app.config["SECRET_KEY"] = _secret_key(instance)
