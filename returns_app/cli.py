"""Admin commands on Flask's CLI: `flask --app returns_app <command>`."""

from __future__ import annotations

import click
from flask import Flask

from .database_session import get_db
from .db import migrate
from .errors import DomainError
from .services import merchant_users, merchants, returns, support


def register(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate_command():
        """Create the database or bring it up to the newest schema."""
        applied = migrate(get_db())
        click.echo(f"Applied {len(applied)} migration(s)." if applied else "Schema up to date.")

    @app.cli.command("create-merchant")
    @click.argument("name")
    def create_merchant_command(name: str):
        """Create a merchant and print its first API key (shown this once only)."""
        migrate(get_db())
        try:
            merchant, key = merchants.create_merchant(get_db(), name)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Created merchant {merchant['name']} (id {merchant['id']}).")
        click.echo(f"API key (store it now, it is not shown again): {key}")

    @app.cli.command("create-support-user")
    @click.argument("email")
    def create_support_user_command(email: str):
        """Create a support user and print a one-time password."""
        migrate(get_db())
        try:
            user, password = support.create_support_user(get_db(), email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Created support user {user['email']}.")
        click.echo(f"Password (shown once): {password}")

    @app.cli.command("create-support-token")
    @click.argument("email")
    def create_support_token_command(email: str):
        """Create a support API token for a support user and print it (shown this once)."""
        migrate(get_db())
        try:
            token = support.create_token(get_db(), email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Support API token (store it now, it is not shown again): {token}")

    @app.cli.command("create-merchant-user")
    @click.argument("merchant_slug")
    @click.argument("email")
    def create_merchant_user_command(merchant_slug: str, email: str):
        """Create a sign-in for a merchant's staff and print a one-time password."""
        migrate(get_db())
        try:
            user, password = merchant_users.create_merchant_user(get_db(), merchant_slug, email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Created merchant user {user['email']} for {merchant_slug}.")
        click.echo(f"Password (shown once): {password}")

    @app.cli.command("load-demo")
    def load_demo_command():
        """Load demo merchants, customers and orders into an empty database."""
        from .demo import load_demo

        migrate(get_db())
        click.echo(load_demo(get_db())
                   or "The database already has merchants: demo data not loaded.")

    @app.cli.command("expire-returns")
    def expire_returns_command():
        """End returns that were not sent by their send-by date."""
        migrate(get_db())
        click.echo(f"Expired {len(returns.expire_overdue(get_db()))} return(s).")
