"""A real SMTP server (aiosmtpd) on 127.0.0.1, on a port the system picks."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(handler) -> Iterator:
    """Serve ``handler`` (an aiosmtpd handler); its ``port`` is set while it runs."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


class Mailbox:
    """An SMTP handler that keeps what it accepts, and can refuse (4xx) first,
    refuse some recipients for good (5xx: ``unknown``) or every sender."""

    def __init__(self):
        self.messages = []
        self.raw = []  # the bytes as received: a DKIM signature covers those
        self.refuse = 0
        self.unknown: set[str] = set()  # « no such user »
        self.refuse_senders = False  # the portal's sender, not allowed here
        self.tried: list[str] = []  # every recipient asked for, accepted or not

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_senders:
            return "553 5.7.1 Sender address rejected: not owned by user"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tried.append(address)
        if address in self.unknown:
            return "550 5.1.1 User unknown"
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages
