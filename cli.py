"""``flask --app app …`` commands."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

import mailer
import migrations
from models import db


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(send_mail)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the schema, or migrate it to the current version."""
    with db.connection_context():
        before, after = migrations.migrate()
    if before == after:
        click.echo(f"Database up to date (schema version {after}).")
    else:
        click.echo(f"Database ready: schema version {before} -> {after}.")


@click.command("send-mail")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep delivering, every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
def send_mail(loop: bool, interval: float) -> None:
    """Deliver the outbox mail that is due (retries included)."""
    if not current_app.config["MAIL_DELIVERY"]:
        raise click.ClickException("No mail server configured (FLASK_MAIL_SERVER).")
    while True:
        with db.connection_context():
            sent, failed = mailer.deliver_pending()
        if sent or failed or not loop:
            click.echo(f"{sent} sent, {failed} failed (will be retried).")
        if not loop:
            return
        time.sleep(interval)
