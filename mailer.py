"""Outbox mail: written in the transaction of the change that causes it,
delivered after the commit by Flask-Mail, retried with backoff.

Without a mail server (development), mail stays in the outbox: it is printed on
the console and listed on the development page."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Flask, current_app, g, render_template, url_for
from flask_mail import Message

from extensions import mail
from models import OutboxMail, db

LEASE = timedelta(minutes=5)


def init_app(app: Flask) -> None:
    @app.after_request
    def _after_commit(response):
        # Views run their changes in transactions that have committed by now.
        ids = g.pop("queued_mail", None)
        if ids:
            kick(app, ids)
        return response


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: EXTERNAL_BASE_URL if set, else the request's."""
    base = current_app.config.get("EXTERNAL_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def queue(recipient: str, subject: str, template: str, **context) -> OutboxMail:
    """Write a mail to the outbox; call inside the transaction of the change."""
    item = OutboxMail.create(
        recipient=recipient,
        subject=subject,
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
    )
    g.setdefault("queued_mail", []).append(item.id)
    return item


def kick(app: Flask, ids: list[int]) -> None:
    """Start delivering new mail without holding up the request."""
    if not app.config["MAIL_DELIVERY"]:
        _print_outbox(app, ids)
        return
    threading.Thread(target=_deliver_in_background, args=(app,), daemon=True).start()


def _deliver_in_background(app: Flask) -> None:
    with app.app_context(), db.connection_context():
        deliver_pending()


def _print_outbox(app: Flask, ids: list[int]) -> None:
    for item in OutboxMail.select().where(OutboxMail.id.in_(ids)):
        app.logger.warning(
            "No mail server: mail kept in the outbox.\nTo: %s\nSubject: %s\n\n%s",
            item.recipient,
            item.subject,
            item.body_text,
        )


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Deliver what is due; returns (sent, failed)."""
    sent = failed = 0
    for item in OutboxMail.due(limit):
        if not item.claim(LEASE):
            continue  # another worker has it
        try:
            mail.send(_message(item))
        except Exception as exc:  # noqa: BLE001 - one bad mail must not stop the others
            item.mark_failed(f"{type(exc).__name__}: {exc}")
            current_app.logger.warning("Mail %s to %s not delivered: %s", item.id, item.recipient, exc)
            failed += 1
        else:
            item.mark_sent()
            sent += 1
    return sent, failed


def _message(item: OutboxMail) -> Message:
    return Message(
        subject=item.subject,
        recipients=[item.recipient],
        body=item.body_text,
        html=item.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
