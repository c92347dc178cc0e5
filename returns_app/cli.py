"""Admin commands on Flask's CLI: `flask --app returns_app <command>`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from flask import Flask

from .bankfiles import MAX_FILE_BYTES
from .domain.errors import DomainError, Invalid
from .domain.money import parse_amount
from .services import bank_payments, merchant_users, merchants, returns, staff_accounts, support
from .store import backups
from .store.migrations import migrate
from .web.database_session import get_db

STAFF_KIND = click.Choice(sorted(staff_accounts.TABLES))


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
        click.echo("It works for the first sign-in only: a new one must be chosen then.")

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
        click.echo("It works for the first sign-in only: a new one must be chosen then.")

    @app.cli.command("load-demo")
    def load_demo_command():
        """Load demo merchants, customers and orders into an empty database."""
        from .demo import load_demo

        migrate(get_db())
        click.echo(load_demo(get_db(), app.config["BANKGIRO"])
                   or "The database already has merchants: demo data not loaded.")

    @app.cli.command("expire-returns")
    def expire_returns_command():
        """End returns that were not sent by their send-by date."""
        migrate(get_db())
        click.echo(f"Expired {len(returns.expire_overdue(get_db()))} return(s).")

    register_operator_commands(app)


def _set_disabled(kind: str, email: str, disabled: bool, changed: str, unchanged: str) -> None:
    """disable-user and enable-user: the change, then what it did in words."""
    migrate(get_db())
    try:
        done = staff_accounts.set_disabled(get_db(), kind, email, disabled)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(changed if done else unchanged)


def register_operator_commands(app: Flask) -> None:
    @app.cli.command("disable-user")
    @click.argument("kind", type=STAFF_KIND)
    @click.argument("email")
    def disable_user_command(kind: str, email: str):
        """Stop a merchant or support user signing in; their sessions end at once and their
        support tokens stop working. Kept, not deleted: the audit trail names them."""
        _set_disabled(kind, email, True, f"Disabled {kind} user {email}.",
                      f"The {kind} user {email} was already disabled.")

    @app.cli.command("enable-user")
    @click.argument("kind", type=STAFF_KIND)
    @click.argument("email")
    def enable_user_command(kind: str, email: str):
        """Let a disabled merchant or support user sign in again."""
        _set_disabled(kind, email, False, f"Enabled {kind} user {email}.",
                      f"The {kind} user {email} was not disabled.")

    @app.cli.command("reset-password")
    @click.argument("kind", type=STAFF_KIND)
    @click.argument("email")
    def reset_password_command(kind: str, email: str):
        """Give a merchant or support user a new one-time password (the old one stops
        working); printed once for you to hand over."""
        migrate(get_db())
        try:
            password = staff_accounts.reset_password(get_db(), kind, email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"New password for {kind} user {email} (shown once): {password}")
        click.echo("It works for the next sign-in only: a new one must be chosen then.")

    @app.cli.command("reset-second-factor")
    @click.argument("kind", type=STAFF_KIND)
    @click.argument("email")
    def reset_second_factor_command(kind: str, email: str):
        """Remove a merchant or support user's two-step sign-in (a lost phone, no recovery
        codes left); their sessions end. Support users enrol again at the next sign-in."""
        migrate(get_db())
        try:
            staff_accounts.reset_second_factor(get_db(), kind, email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Removed the two-step sign-in of {kind} user {email}.")

    @app.cli.command("revoke-support-token")
    @click.argument("token", required=False)
    @click.option("--id", "token_id", type=int, help="The token's id (its audit row names it).")
    @click.option("--user", "email", help="Revoke every token of this support user.")
    def revoke_support_token_command(token: str | None, token_id: int | None,
                                     email: str | None):
        """Revoke a support API token: give the token itself, --id N, or --user EMAIL."""
        if sum(x is not None for x in (token, token_id, email)) != 1:
            raise click.UsageError("Give exactly one of TOKEN, --id or --user.")
        migrate(get_db())
        try:
            revoked = staff_accounts.revoke_support_tokens(get_db(), token=token,
                                                           token_id=token_id, email=email)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Revoked {revoked} support token(s).")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
    def backup_command(path: Path, overwrite: bool):
        """Copy the database to PATH with SQLite's online backup API: safe while the app and
        the worker run. Copy the result off the machine."""
        try:
            size = backups.backup(app.config["DATABASE"], path, overwrite=overwrite)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backed up {app.config['DATABASE']} to {path} ({size:,} bytes).")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Yes, replace everything in the database.")
    def restore_command(path: Path, yes: bool):
        """Replace the database's contents with the backup at PATH. Stop the web app and the
        worker first; start them again after."""
        database = app.config["DATABASE"]
        if not yes:
            raise click.ClickException(
                f"This replaces everything in {database} with {path}. Stop the web app and the "
                "worker, then run it again with --yes.")
        try:
            backups.restore(path, database)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        # Pages kept from the replaced contents could come back for an order whose version
        # reaches the same number again; the shelf is disposable by design.
        shelf = app.config["PAGE_CACHE_PATH"]  # page_cache.init_app sets it
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{shelf}{suffix}").unlink()
        click.echo(f"Restored {database} from {path}. Run `migrate`, then start the app.")
    @app.cli.command("import-bank-file")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_bank_file_command(path: str):
        """Book the bank's file: camt.054 (XML) or BgMax (80-character records)."""
        from .bankfiles import sniff

        migrate(get_db())
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        try:
            result = bank_payments.import_file(
                get_db(), data, sniff(data), app.config["BANKGIRO"], "cli",
                iban=app.config["BANK_IBAN"]).body
        except Invalid as exc:
            for problem in exc.details.get("problems", []):
                where = (f"line {problem['line']}" if "line" in problem
                         else problem.get("element", "/"))
                click.echo(f"{where}: {problem['message']}", err=True)
            raise click.ClickException(exc.message) from exc
        click.echo(f"Booked {result['booked']}, unmatched {result['unmatched']}, "
                   f"duplicates {result['duplicates']}.")

    @app.cli.command("sandbox-bank-file")
    @click.option("--pay", nargs=2, multiple=True, metavar="ORDER_NUMBER AMOUNT",
                  help="An invoice paid with its OCR reference, e.g. --pay 123-456-789 1497.")
    @click.option("--typed", nargs=2, multiple=True, metavar="REFERENCE AMOUNT",
                  help="A payment with the reference as the payer typed it (maybe wrong).")
    @click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="Where to write the camt.054 file.")
    def sandbox_bank_file_command(pay, typed, out: str):
        """Write the camt.054 a bank would send for these payments (demo and tests only)."""
        if not pay and not typed:
            raise click.UsageError("Give at least one --pay or --typed payment.")
        try:
            data = bank_payments.sandbox_file(
                get_db(), app.config["BANKGIRO"],
                [(number, parse_amount(amount)) for number, amount in pay],
                [(reference, parse_amount(amount)) for reference, amount in typed])
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        with open(out, "wb") as handle:
            handle.write(data)
        click.echo(f"Wrote {out}: import it with `flask --app returns_app import-bank-file "
                   f"{out}`.")
