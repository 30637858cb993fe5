"""What a delivered mail looks like and how it reaches the SMTP server.

Mail that lands in a spam folder stops the flow: the message carries the
sender's own domain in its Message-ID, says it is automatic (RFC 3834), is a
plain multipart/alternative, and is DKIM-signed when the operator gives a key.
Every connection has a timeout, so a server that never answers cannot hold a
delivery forever."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import threading
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.utils import make_msgid, parseaddr

import flask_mail
from flask import Flask

# What a DKIM signature covers: what a forger would change.
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"reply-to"]
SIGNED_HEADERS += [b"mime-version", b"content-type", b"auto-submitted"]


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: bytes


def sender_domain(sender: str) -> str:
    """The domain of an address like ``Name <user@example.fr>``, as ASCII."""
    domain = parseaddr(sender)[1].rpartition("@")[2].strip().lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def load_dkim_key(app: Flask) -> DkimKey | None:
    """The signing key from the settings; refuses to start on a half setting."""
    path = app.config.get("DKIM_PRIVATE_KEY_FILE")
    if not path:
        return None
    selector = app.config.get("DKIM_SELECTOR")
    if not selector:
        raise RuntimeError("FLASK_DKIM_SELECTOR must be set with FLASK_DKIM_PRIVATE_KEY_FILE.")
    try:
        with open(path, "rb") as handle:
            private_key = handle.read()
    except OSError as exc:
        raise RuntimeError(f"FLASK_DKIM_PRIVATE_KEY_FILE cannot be read: {exc}") from exc
    domain = app.config.get("DKIM_DOMAIN") or sender_domain(app.config["MAIL_DEFAULT_SENDER"])
    return DkimKey(selector=str(selector), domain=domain, private_key=private_key)


class PortalMessage(flask_mail.Message):
    """A text + HTML mail: multipart/alternative at the top, automatic-mail
    headers, and a DKIM signature when a key is given."""

    def __init__(self, *, dkim_key: DkimKey | None = None, **kwargs):
        super().__init__(**kwargs)
        self.msgId = make_msgid(domain=sender_domain(self.sender))
        self.dkim_key = dkim_key
        self.extra_headers = {
            "Auto-Submitted": "auto-generated",  # RFC 3834: no out-of-office replies
            "X-Auto-Response-Suppress": "All",  # the same for Exchange
            **(self.extra_headers or {}),
        }

    def _message(self):
        if self.attachments or not self.alts:
            return super()._message()
        # Flask-Mail wraps the alternative in a multipart/mixed of one part;
        # build the same message with the alternative at the top instead.
        message = super()._message()
        [alternative] = message.get_payload()
        top = MIMEMultipart("alternative")
        for part in alternative.get_payload():
            top.attach(part)
        for name, value in message.items():
            if name.lower() not in ("content-type", "mime-version"):
                top[name] = value
        top.policy = message.policy
        return top

    def as_bytes(self) -> bytes:
        raw = super().as_bytes()
        if self.dkim_key is None:
            return raw
        import dkim  # dkimpy and dnspython (3 MB) load with the first signed mail

        key = self.dkim_key
        signature = dkim.sign(
            raw,
            key.selector.encode(),
            key.domain.encode(),
            key.private_key,
            include_headers=SIGNED_HEADERS,
        )
        return signature + raw


class _Deadline:
    """Cuts a connection that outlives its deadline: a server that drips a
    byte now and then never lets a read timeout fire."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.smtp: smtplib.SMTP | None = None
        self.passed = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def _cut(self) -> None:
        self.passed = True
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes up the blocked read

    def check(self, exc: BaseException) -> None:
        if self.passed:
            raise TimeoutError(f"delivery took longer than {self.seconds:g} s") from exc


class _Watched:
    def __init__(self, *args, deadline: _Deadline, **kwargs):
        deadline.smtp = self  # before connecting: the greeting may be the slow part
        super().__init__(*args, **kwargs)


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTPSSL(_Watched, smtplib.SMTP_SSL):
    pass


class TimedConnection(flask_mail.Connection):
    """Flask-Mail's connection (0.10 opens smtplib.SMTP without a timeout)
    with a timeout on connecting and on each answer, and a deadline of
    DEADLINE_FACTOR timeouts for the whole delivery."""

    DEADLINE_FACTOR = 3

    def __init__(self, mail_state, timeout: float):
        super().__init__(mail_state)
        self.timeout = timeout
        self.deadline = _Deadline(timeout * self.DEADLINE_FACTOR)

    def __enter__(self):
        if not self.mail.suppress:
            self.deadline.start()
        try:
            return super().__enter__()
        except Exception as exc:
            self.deadline.cancel()
            self.deadline.check(exc)
            raise

    def configure_host(self):
        state = self.mail
        smtp_class = _SMTPSSL if state.use_ssl else _SMTP
        host = smtp_class(state.server, state.port, timeout=self.timeout, deadline=self.deadline)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        self.deadline.cancel()
        if self.host is None:
            return
        if exc_type is None:
            # The mail is accepted by now: a server slow to say goodbye must
            # not make it count as failed (and be sent again).
            with contextlib.suppress(OSError):
                self.host.quit()
            self.host.close()
            return
        # After a failure the server may be gone or hung: do not wait for its
        # answer to QUIT.
        self.host.close()
        self.deadline.check(exc_value)
