"""Returns assistant: the Flask application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import config
from .domain import masking
from .web import (
    auth,
    cookie_session,
    database_session,
    filters,
    http_errors,
    i18n,
    page_cache,
    proxies,
    request_log,
    security_headers,
)
from .web.converters import IdConverter
from .web.extensions import babel, csrf, login_manager

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent


def template_folder() -> Path:
    """A wheel carries the templates inside the package (setup.py copies them there); a checkout,
    and an editable install of it, keeps them at the top of the repository."""
    packaged = PACKAGE / "templates"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "templates"


def instance_folder() -> Path:
    """Where the database, its kept pages and (in development) the secret key live:
    RETURNS_INSTANCE_PATH, else `instance/` of the checkout, else `instance/` in the working
    directory of an installed package (never inside site-packages)."""
    if path := os.environ.get("RETURNS_INSTANCE_PATH"):
        return Path(path).resolve()
    if (PROJECT_ROOT / "setup.cfg").is_file() and (PROJECT_ROOT / "templates").is_dir():
        return PROJECT_ROOT / "instance"
    return Path.cwd() / "instance"


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(template_folder()),
                instance_path=str(instance_folder()))
    config.load(app, overrides)
    masking.install_log_masking()
    request_log.init_app(app)  # first: its hooks see every request, refused ones too
    app.url_map.converters["id"] = IdConverter

    cookie_session.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    auth.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    database_session.init_app(app)
    page_cache.init_app(app)
    filters.init_app(app)
    http_errors.init_app(app)
    proxies.init_app(app)
    security_headers.init_app(app)
    # Not imported with the package: prometheus-client picks its multiprocess mode when first
    # imported, and gunicorn's master imports this package before it sets the folder (metrics.py).
    from .web import metrics
    metrics.init_app(app)

    from .api import bp as api_bp
    from .cli import register as register_cli
    from .customer import bp as customer_bp
    from .merchant import bp as merchant_bp
    from .support import bp as support_bp
    from .web.operations import bp as operations_bp

    app.register_blueprint(customer_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(support_bp, url_prefix="/support")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    if app.config["ENV_NAME"] == "development":  # every email, signed links included
        from .web.dev_inbox import bp as dev_mail_bp

        app.register_blueprint(dev_mail_bp, url_prefix="/dev/mail")
    app.register_blueprint(operations_bp)
    csrf.exempt(api_bp)  # bearer tokens, never cookies: nothing for a forged request to ride on
    register_cli(app)
    _wire_events()
    return app


def _wire_events() -> None:
    """Who acts on what happened (services/events.py): merchants' webhooks, then emails, then a
    check that no open card checkout asks for more than may now be paid."""
    from .notifications.subscriber import on_event as queue_emails
    from .services import events
    from .services.checkouts import on_event as guard_checkouts
    from .webhooks.subscriber import on_event as tell_webhooks

    events.subscribe(tell_webhooks, queue_emails, guard_checkouts)
