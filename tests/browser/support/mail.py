"""The SMTP inbox the app delivers to (an aiosmtpd handler)."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

# A mailbox that does not exist: the server refuses it for good.
UNKNOWN_LOCAL_PART = "inexistant"


class Inbox:
    """An aiosmtpd handler that keeps every mail it accepts, and refuses
    for good the mailboxes that do not exist (``inexistant.…@``)."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.port: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith(UNKNOWN_LOCAL_PART + "."):
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(([address.lower() for address in envelope.rcpt_tos], message))
        return "250 Message accepted"

    def received(self, recipient: str, subject: str | None = None) -> list[EmailMessage]:
        recipient = recipient.lower()
        return [
            message
            for recipients, message in list(self.messages)
            # Subjects start with the portal's name: « Portail Structures – Activez… ».
            if recipient in recipients and (subject is None or message["Subject"].endswith(f" – {subject}"))
        ]

    def wait_for(self, recipient: str, subject: str | None = None, count: int = 1, timeout: float = 10.0):
        """The ``count``-th mail to ``recipient`` (with that subject), once it has arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received(recipient, subject)
            if len(found) >= count:
                return found[count - 1]
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.received(recipient)]
                raise AssertionError(f"no mail #{count} {subject!r} for {recipient} (received: {subjects})")
            time.sleep(0.02)

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @classmethod
    def link_in(cls, message: EmailMessage) -> str:
        """The first link of the mail's text, as a person would copy it."""
        match = re.search(r"https?://\S+", cls.text(message))
        assert match, f"no link in the mail {message['Subject']!r}"
        return match.group(0)
