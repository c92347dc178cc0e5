"""Returns assistant: the Flask application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import (
    config,
    cookie_session,
    database_session,
    filters,
    http_errors,
    i18n,
    masking,
    page_cache,
    request_log,
    security_headers,
)
from .converters import IdConverter
from .extensions import babel, csrf, login_manager

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    config.load(app, overrides)
    masking.install_log_masking()
    request_log.init_app(app)  # first: its hooks see every request, refused ones too
    app.url_map.converters["id"] = IdConverter

    cookie_session.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    database_session.init_app(app)
    page_cache.init_app(app)
    filters.init_app(app)
    http_errors.init_app(app)
    security_headers.init_app(app)
    # Not imported with the package: prometheus-client picks its multiprocess mode when first
    # imported, and gunicorn's master imports this package before it sets the folder (metrics.py).
    from . import metrics
    metrics.init_app(app)

    from .api import bp as api_bp
    from .cli import register as register_cli
    from .customer import bp as customer_bp
    from .merchant import bp as merchant_bp
    from .notifications.dev_inbox import bp as dev_mail_bp
    from .operations import bp as operations_bp
    from .support import bp as support_bp

    app.register_blueprint(customer_bp)
    app.register_blueprint(merchant_bp)
    app.register_blueprint(support_bp, url_prefix="/support")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(dev_mail_bp, url_prefix="/dev/mail")
    app.register_blueprint(operations_bp)
    csrf.exempt(api_bp)  # bearer tokens, never cookies: nothing for a forged request to ride on
    register_cli(app)
    return app
