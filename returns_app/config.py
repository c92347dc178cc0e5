"""Configuration from environment variables, with safe development defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


def _secret_key(instance: Path) -> str:
    # A key that survives restarts, so signed-in sessions and emailed links keep working.
    if key := os.environ.get("RETURNS_SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load(app: Flask, overrides: dict | None) -> None:
    instance = Path(app.instance_path)
    env = os.environ.get("RETURNS_ENV", "development")
    app.config.update(
        ENV_NAME=env,
        DATABASE=os.environ.get("RETURNS_DATABASE", str(instance / "returns.sqlite3")),
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env != "development",
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
    )
    if overrides:
        app.config.update(overrides)
    if "SECRET_KEY" not in (overrides or {}):
        app.config["SECRET_KEY"] = _secret_key(instance)
