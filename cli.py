"""``flask --app app …`` commands."""

from __future__ import annotations

import copy
import json
import signal
import threading
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from peewee import DatabaseError, InterfaceError

import accounts
import audit
import config
import mailer
import migrations
import operations
import sessions
from cli_support import needs_schema, unreachable
from models import OutboxMail, db
from sirene.cli import sirene


def register(app: Flask, refusal: str | None = None) -> None:
    """The app's commands; with a ``refusal`` (see ``refusal``), each of them,
    third-party ones included, shows its --help but refuses to run."""
    app.cli.add_command(init_db)
    app.cli.add_command(send_mail)
    app.cli.add_command(purge)
    app.cli.add_command(audit_events)
    app.cli.add_command(sirene)
    app.cli.add_command(operator)
    if refusal is not None:
        app.cli = _Refusing(app.cli.commands, refusal)


def refusal(error: config.SettingError) -> str:
    """What ``create_app`` does with a missing setting. Under the ``flask``
    command, while it lists its commands or looks one up (``--help``), the app
    loads anyway and the message is returned for ``register``; once a command
    runs (``flask run``, ``flask shell``) the command stops with the message,
    one line and exit 1. Elsewhere (gunicorn, tests) the error goes on."""
    context = click.get_current_context(silent=True)
    if context is None:
        raise error
    if isinstance(context.command, click.Group):
        return str(error)
    raise click.ClickException(str(error)) from None


class _Refusing(AppGroup):
    """The app's commands, listed and with their help, that refuse to run."""

    def __init__(self, commands: dict[str, click.Command], message: str):
        super().__init__()
        self.commands = dict(commands)
        self.message = message

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            return None
        refusing = copy.copy(command)
        refusing.invoke = self._refuse
        return refusing

    def _refuse(self, ctx: click.Context):
        raise click.ClickException(self.message)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the schema, or migrate it to the current version."""
    try:
        with migrations.connection():
            before, after = migrations.migrate()
    except (DatabaseError, InterfaceError) as error:
        raise unreachable(error) from None
    if after > migrations.SCHEMA_VERSION:
        # Left as it is and not an error (migrations never go down; an older
        # process may run init-db beside a newer one), but said.
        click.echo(
            f"Database up to date (schema version {after}): newer than this code's "
            f"{migrations.SCHEMA_VERSION}, left as it is; the other commands refuse it until that newer "
            "version of the portal runs them."
        )
        return
    if before == after:
        click.echo(f"Database up to date (schema version {after}).")
    else:
        click.echo(f"Database ready: schema version {before} -> {after}.")


@click.command("send-mail")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep delivering, every --interval seconds.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between rounds.")
@needs_schema
def send_mail(loop: bool, interval: float) -> None:
    """Deliver the outbox mail that is due (retries included). Once, it
    exits 1 when the mail server cannot be reached; with --loop it goes on."""
    if not current_app.config["MAIL_DELIVERY"]:
        raise click.ClickException("No mail server configured (FLASK_MAIL_SERVER).")
    stopping = threading.Event()
    previous = None
    if loop and threading.current_thread() is threading.main_thread():
        # systemctl stop or restart (each deploy): the mail being sent is
        # delivered and recorded first, then the loop ends. Killed at once, a
        # mail the server had accepted would stay unrecorded, and go twice.
        previous = signal.signal(signal.SIGTERM, lambda _signal, _frame: stopping.set())
    try:
        delivery = _deliver(loop, interval, stopping)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if stopping.is_set():
        click.echo("Stopped (SIGTERM), no delivery left half done.")
        return
    if delivery.unreachable:  # a pass alone is a check too: cron and systemd see it fail
        raise click.ClickException(
            f"The mail server cannot be reached ({delivery.unreachable}); "
            "the mail stays in the outbox, to be retried."
        )


def _pause(stopping: threading.Event, seconds: float) -> bool:
    """The loop's pause, which SIGTERM ends at once: True when it did."""
    return stopping.wait(seconds)


def _deliver(loop: bool, interval: float, stopping: threading.Event) -> mailer.Delivery:
    """One pass, or with ``loop`` a pass every ``interval`` seconds until
    ``stopping`` is set (checked between two mails and after each pause)."""
    while True:
        try:
            with db.connection_context():
                delivery = mailer.deliver_due(stop=stopping.is_set)
        except (DatabaseError, InterfaceError) as error:
            if not loop:
                raise unreachable(error) from None
            # A database restarting: one line, and the next round tries again
            # (a traceback and a restart by systemd for each would say no more).
            click.echo(f"{unreachable(error).message}; trying again in {interval:g} s.", err=True)
            if _pause(stopping, interval):
                return mailer.Delivery()
            continue
        if delivery.sent or delivery.failed or not loop:
            click.echo(f"{delivery.sent} sent, {delivery.failed} failed (will be retried).")
        if not loop or stopping.is_set():
            return delivery
        if _pause(stopping, interval):
            return delivery


@click.command("purge")
@with_appcontext
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Age in days of the pending accounts to delete (default: PURGE_PENDING_AFTER_DAYS).",
)
@click.option(
    "--audit-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep audit events this many days (default: AUDIT_RETENTION_DAYS).",
)
@click.option(
    "--outbox-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep sent or given-up mail this many days (default: OUTBOX_RETENTION_DAYS).",
)
@needs_schema
def purge(days: int | None, audit_days: int | None, outbox_days: int | None) -> None:
    """Delete accounts never activated, used and expired links, spent and
    expired captcha challenges, sessions past their age, expired drafts, old
    audit events and old sent or given-up mail."""
    days = days or int(current_app.config["PURGE_PENDING_AFTER_DAYS"])
    audit_days = audit_days or int(current_app.config["AUDIT_RETENTION_DAYS"])
    outbox_days = outbox_days or int(current_app.config["OUTBOX_RETENTION_DAYS"])
    with db.connection_context():
        counts = accounts.purge(days, audit_days)
        ended = sessions.purge()
        with db.atomic():
            sent = OutboxMail.purge(outbox_days)
    click.echo(
        f"Deleted {counts['accounts']} pending account(s) older than {days} days, "
        f"{counts['tokens']} link(s), {counts['captcha_challenges']} captcha challenge(s), "
        f"{ended} session(s), "
        f"{counts['drafts']} expired draft(s), "
        f"{counts['audit_events']} audit event(s) older than {audit_days} days, "
        f"{sent} mail(s) sent or given up more than {outbox_days} days ago."
    )


def _utc_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    for shape in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, shape)
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC).")


@click.command("audit")
@with_appcontext
@click.option("--account", help="Login e-mail of the account.")
@click.option("--since", help="From this date or time, UTC (YYYY-MM-DD[THH:MM]).")
@click.option("--until", help="Before this date or time, UTC; a date alone includes that day.")
@click.option("--event", help="Event name, e.g. auth.sign_in (see audit.py).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="Latest N events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@needs_schema
def audit_events(
    account: str | None, since: str | None, until: str | None, event: str | None, limit: int, as_json: bool
) -> None:
    """List security events, oldest first, times in UTC."""
    start, end = _utc_date(since), _utc_date(until)
    if end is not None and until is not None and len(until) == 10:
        end += timedelta(days=1)
    with db.connection_context():
        rows = audit.events(account=account, since=start, until=end, event=event, limit=limit)
    for row in rows:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "at": row.at.isoformat() + "Z",
                        "account": row.account,
                        "client_address": row.client_address,
                        "event": row.event,
                        "outcome": row.outcome,
                        "details": json.loads(row.details) if row.details else {},
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(
                "  ".join(
                    [
                        row.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        row.account or "-",
                        row.client_address or "-",
                        row.event,
                        row.outcome,
                        row.details or "",
                    ]
                ).rstrip()
            )
    if not rows and not as_json:
        click.echo("No event.")


@click.group("operator")
def operator() -> None:
    """Grant, revoke and list the operator role (« Administration »)."""


@operator.command("grant")
@with_appcontext
@click.argument("email")
@needs_schema
def operator_grant(email: str) -> None:
    """Make the active account EMAIL an operator."""
    with db.connection_context():
        try:
            changed = operations.grant(email)
        except LookupError:
            raise click.ClickException(f"No account with the address {email}.") from None
        except operations.NotEligible:
            raise click.ClickException(f"The account {email} is not active.") from None
    click.echo(f"{email} is {'now' if changed else 'already'} an operator.")


@operator.command("revoke")
@with_appcontext
@click.argument("email")
@needs_schema
def operator_revoke(email: str) -> None:
    """Take the operator role from the account EMAIL (never from the last
    operator with an open account: grant another one first)."""
    with db.connection_context():
        try:
            changed = operations.revoke(email)
        except LookupError:
            raise click.ClickException(f"No account with the address {email}.") from None
        except operations.LastOperator:
            raise click.ClickException(
                f"{email} is the last operator with an open account: grant the role to another "
                "active account first (flask --app app operator grant EMAIL), then revoke this one."
            ) from None
    click.echo(f"{email} is {'no longer' if changed else 'not'} an operator.")


@operator.command("list")
@with_appcontext
@needs_schema
def operator_list() -> None:
    """List the operators' accounts."""
    with db.connection_context():
        rows = operations.operators()
    for user in rows:
        click.echo(f"{user.email}  {user.full_name}  {user.status}")
    if not rows:
        click.echo("No operator.")
