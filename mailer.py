"""Outbox mail: written in the transaction of the change that causes it,
delivered after the commit by Flask-Mail, retried with backoff.

Without a mail server, mail stays in the outbox: in development it is printed
on the console and listed on the development page; elsewhere only a warning
without the mail (whose links are secrets) is logged.

A web worker runs at most one delivery thread at a time; new mail committed
while it runs makes it go round once more. Every SMTP connection has a timeout
(MAIL_TIMEOUT), and a pass stops at the first sign that the server is
unreachable, so neither the thread nor `flask send-mail` can hang."""

from __future__ import annotations

import re
import smtplib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, g, render_template, url_for
from flask_babel import force_locale

import config
import i18n
import statements
from mail_message import PortalMessage, TimedConnection, load_dkim_key, sender_domain
from models import OutboxMail, User, db

LEASE = timedelta(minutes=5)
# Delivery starts this long after the request that queued the mail, once its
# answer has gone: sending must not slow that answer down, which would tell
# an address with an account (a mail) from one without (none).
KICK_DELAY_SECONDS = 0.05

# Errors that say the server cannot be reached at all (down, hung, gone):
# the other mail of the pass would only wait for the same timeout.
UNREACHABLE = (
    TimeoutError,
    ConnectionError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


def init_app(app: Flask) -> None:
    try:
        timeout = float(app.config["MAIL_TIMEOUT"])
    except (TypeError, ValueError):
        timeout = 0.0
    if not timeout > 0:
        raise RuntimeError("FLASK_MAIL_TIMEOUT must be a number of seconds above 0.")
    app.config["MAIL_TIMEOUT"] = timeout
    if app.config["MAIL_DELIVERY"] and "." not in sender_domain(app.config["MAIL_DEFAULT_SENDER"]):
        app.logger.warning(
            "FLASK_MAIL_DEFAULT_SENDER has no domain of its own (%s): mail will look like spam.",
            app.config["MAIL_DEFAULT_SENDER"],
        )
    app.extensions["dkim_key"] = load_dkim_key(app)
    app.extensions["mail_deliverer"] = _Deliverer(app)

    @app.after_request
    def _after_commit(response):
        # Views run their changes in transactions that have committed by now.
        kick_queued()
        return response


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail: EXTERNAL_BASE_URL if set, else the request's."""
    base = current_app.config.get("EXTERNAL_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def render(template: str, **context) -> tuple[str, str]:
    """The text and HTML bodies of a mail."""
    context.setdefault("portal_name", current_app.config["PORTAL_NAME"])
    context.setdefault("support_email", current_app.config.get("SUPPORT_EMAIL"))
    return (
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )


class NamesAnotherAccount(ValueError):
    """A mail's context holds an account other than its reader that is not
    the one it says it is ``about``: its erasure would leave the mail."""


def queue(
    recipient: str,
    subject: str,
    template: str,
    *,
    reader: User,
    about: User | None = None,
    language: str | None = None,
    **context,
) -> OutboxMail:
    """Write a mail to the outbox; call inside the transaction of the change.
    It is written in the language of ``reader``, the account it is for, or
    in ``language`` when given (a code read at once on the page that asked
    for it); the subject is a lazy text (``lazy_gettext``), translated there too.
    ``about`` is the other account the mail names (a requester to the
    manager or the operators, a successor, a former manager): erasing that
    account withdraws the mail (``rights.forget``). An account in ``context``
    besides the reader must be that one: NamesAnotherAccount otherwise."""
    _check_about(template, reader, about, context)
    language = i18n.chosen(language) or reader.language or i18n.DEFAULT
    with force_locale(language):
        subject = str(subject)
        body_text, body_html = render(template, **context)
    item = statements.create(
        OutboxMail,
        recipient=recipient,
        subject=subject,
        language=language,
        body_text=body_text,
        body_html=body_html,
        account_id=reader.id,
        about_id=about.id if about is not None else None,
    )
    g.setdefault("queued_mail", []).append(item.id)
    return item


def _check_about(template: str, reader: User, about: User | None, context: dict) -> None:
    if about is not None and about.id == reader.id:
        raise NamesAnotherAccount(f"{template}: a mail is about another account than its reader")
    others = {value.id for value in context.values() if isinstance(value, User) and value.id != reader.id}
    if others - ({about.id} if about is not None else set()):
        raise NamesAnotherAccount(f"{template}: the account it names besides its reader is not its about=")


def kick_queued() -> None:
    """Start delivering the mail this request queued (its transaction has
    committed). Done after each request; a view may do it sooner, e.g. inside
    the time that ``uniform_time`` holds."""
    ids = g.pop("queued_mail", None)
    if ids:
        kick(current_app._get_current_object(), ids)


def deliver_due_soon() -> None:
    """Mail already in the outbox was made due again (an operator's
    « Réessayer »): the delivery thread goes round now, as for new mail,
    rather than waiting for the next mail queued or ``send-mail``. Call it
    once the change has committed."""
    app = current_app._get_current_object()
    if app.config["MAIL_DELIVERY"]:
        app.extensions["mail_deliverer"].kick()


def kick(app: Flask, ids: list[int]) -> None:
    """Start delivering new mail without holding up the request."""
    if not app.config["MAIL_DELIVERY"]:
        _print_outbox(app, ids)
        return
    app.extensions["mail_deliverer"].kick()


class _Deliverer:
    """The web worker's single delivery thread."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock = threading.Lock()
        self.running = False
        self.again = False
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()  # the worker leaves: no mail is begun any more

    def kick(self) -> None:
        with self.lock:
            if self.stopping.is_set():
                return  # the outbox keeps it for send-mail or the next worker
            if self.running:
                self.again = True  # the running thread goes round once more
                return
            self.running = True
            self.thread = threading.Thread(target=self._run, name="mail-delivery", daemon=True)
            self.thread.start()

    def finish(self, timeout: float) -> None:
        """Let the mail under way be delivered and recorded, begin no other,
        and wait up to ``timeout`` seconds for it. A worker leaving (a reload,
        a stop, its max_requests) would otherwise end the thread mid-delivery:
        the mail then waits for its lease to run out, or, accepted by the
        server but not yet marked sent, goes twice. The rest of a pass stays
        due: a pass of a hundred mails would outlast gunicorn's graceful
        timeout, and the worker be killed in the middle of one anyway."""
        self.stopping.set()
        thread = self.thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)

    def _run(self) -> None:
        self.stopping.wait(KICK_DELAY_SECONDS)  # the answer that queued the mail goes first
        while True:
            with self.lock:
                if self.stopping.is_set():
                    self.running = False
                    return
                self.again = False
            try:
                with self.app.app_context(), db.connection_context():
                    deliver_due(stop=self.stopping.is_set)
            except Exception:  # noqa: BLE001 - the thread must end cleanly; send-mail retries
                self.app.logger.exception("Mail delivery pass failed")
            with self.lock:
                if not self.again:
                    self.running = False
                    return


def finish_delivery(app: Flask) -> None:
    """Called as a web worker leaves (gunicorn.conf.py's worker_exit): the
    mail being delivered is delivered and recorded first, within the time one
    delivery may take (three times MAIL_TIMEOUT); no other is begun."""
    deliverer = app.extensions.get("mail_deliverer")
    if deliverer is not None:
        deliverer.finish(3 * float(app.config["MAIL_TIMEOUT"]))


def _print_outbox(app: Flask, ids: list[int]) -> None:
    """In development, each mail on the console, its links included. Elsewhere
    the logs are kept and read by others: they are told only that mail waits,
    never its links (each one opens an account or resets a password)."""
    if not config.is_development(app):
        app.logger.warning(
            "No mail server (FLASK_MAIL_SERVER): %d mail(s) kept in the outbox, not delivered.", len(ids)
        )
        return
    for item in OutboxMail.select().where(OutboxMail.id.in_(ids)):
        app.logger.warning(
            "No mail server: mail kept in the outbox.\nTo: %s\nSubject: %s\n\n%s",
            item.recipient,
            item.subject,
            item.body_text,
        )


@dataclass
class Delivery:
    """What one pass did: mail sent, mail failed, and why it stopped early
    when the server could not be reached (None otherwise)."""

    sent: int = 0
    failed: int = 0
    unreachable: str | None = None


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Deliver what is due; returns (sent, failed)."""
    delivery = deliver_due(limit)
    return delivery.sent, delivery.failed


def deliver_due(limit: int = 100, stop: Callable[[], bool] | None = None) -> Delivery:
    """Deliver what is due, stopping at the first sign that the server is
    unreachable, or between two mails once ``stop()`` says so."""
    delivery = Delivery()
    for item in OutboxMail.due(limit):
        if stop is not None and stop():
            break
        if not item.claim(LEASE):
            continue  # another worker has it
        try:
            _send(_message(item))
        except Exception as exc:  # noqa: BLE001 - one bad mail must not stop the others
            error = described(exc)
            window = timedelta(hours=float(current_app.config["MAIL_GIVE_UP_HOURS"]))
            given_up = item.mark_failed(error, for_good=refused_for_good(exc), window=window)
            current_app.logger.warning(
                "Mail %s (to @%s) not delivered: %s%s",
                item.id,
                item.recipient.rpartition("@")[2],
                logged_reason(exc, item.recipient),
                f"; given up after {item.attempts} attempt(s)" if given_up else "",
            )
            delivery.failed += 1
            if isinstance(exc, UNREACHABLE):
                delivery.unreachable = error
                break  # the rest stay due for the next pass
        else:
            item.mark_sent()
            delivery.sent += 1
    return delivery


# An SMTP reply's enhanced status code (RFC 3463): class.subject.detail.
_ENHANCED = re.compile(rb"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


def refused_for_good(exc: Exception) -> bool:
    """The server refused this mail for a reason of its own that trying
    again cannot change: its recipient (5.1.x: no such mailbox or domain;
    5.2.x but a full mailbox, 5.2.2) or its content (5.6.x, too big: 5.3.4),
    as the enhanced status code of a 5xx reply says (RFC 3463). Any mail
    server bounces such a mail. A policy refusal (5.7.x: relay denied, sender
    not allowed, DMARC), a refusal of the sender's address that Postfix
    answers at RCPT (5.1.0, 5.1.7, 5.1.8), a reply without an enhanced code,
    a 552 to a recipient (RFC 5321 §4.5.3.1.10: a 452) or a server out of
    reach may be the portal's setting, which is mended for every mail at
    once: tried again, until the give-up window ends."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        return bool(replies) and all(code != 552 and _for_good(code, text) for code, text in replies)
    return isinstance(exc, smtplib.SMTPDataError) and _for_good(exc.smtp_code, exc.smtp_error)


def _for_good(code: int, text: bytes | str) -> bool:
    if not 500 <= code < 600:
        return False
    match = _ENHANCED.match(text.encode() if isinstance(text, str) else text)
    if match is None or match.group(1) != b"5":
        return False
    subject, detail = int(match.group(2)), int(match.group(3))
    if subject == 1:
        return detail in RECIPIENT_ADDRESS_FAULTS
    return (subject == 2 and detail != 2) or subject == 6 or (subject, detail) == (3, 4)


# X.1.y details (RFC 3463, RFC 7505) about the destination address: bad
# mailbox, bad system, bad syntax, moved, no mail accepted (null MX). Not
# 1.0 (unspecified: Postfix's « Sender address rejected »), 1.7 or 1.8 (the
# sender's address).
RECIPIENT_ADDRESS_FAULTS = frozenset({1, 2, 3, 6, 10})


def described(exc: Exception) -> str:
    """A failed delivery as « Courriels » shows it (« Dernière erreur »): the
    error's kind and the server's reply as it reads, « 550 5.1.1 User
    unknown », not Python's rendering of it."""
    kind = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = sorted({f"{code} {_text(text)}".strip() for code, text in exc.recipients.values()})
        return f"{kind}: {'; '.join(replies)}" if replies else kind
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind}: {exc.smtp_code} {_text(exc.smtp_error)}".strip()
    return f"{kind}: {exc}" if str(exc) else kind


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def logged_reason(exc: Exception, recipient: str) -> str:
    """Why a delivery failed, for the logs, which are kept and read outside
    the portal's control: the error's kind and the server's codes, never the
    address (an SMTP refusal names it, and servers echo it in their text).
    The whole error stays with the mail (« Administration » › « Courriels »)."""
    kind = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _text in exc.recipients.values()})
        return f"{kind} ({', '.join(codes)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind} ({exc.smtp_code})"
    text = str(exc)
    local = recipient.rpartition("@")[0]
    if not text or recipient.lower() in text.lower() or (local and local.lower() in text.lower()):
        return kind
    return f"{kind}: {text}"


def _send(message: PortalMessage) -> None:
    with TimedConnection(current_app.extensions["mail"], current_app.config["MAIL_TIMEOUT"]) as connection:
        connection.send(message)


def _message(item: OutboxMail) -> PortalMessage:
    config = current_app.config
    return PortalMessage(
        subject=f"{config['PORTAL_NAME']} – {item.subject}",
        recipients=[item.recipient],
        body=item.body_text,
        html=item.body_html,
        sender=config["MAIL_DEFAULT_SENDER"],
        reply_to=config.get("SUPPORT_EMAIL") or None,
        # The language both parts are written in: the text part has no lang of its own.
        extra_headers={"Content-Language": item.language},
        dkim_key=current_app.extensions["dkim_key"],
    )
