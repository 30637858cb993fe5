"""Codes by e-mail: 6 digits to the login e-mail through the outbox, valid
``EMAIL_CODE_TTL_MINUTES``, single use, dead after ``EmailCode.MAX_TRIES``
tries; a new code revokes the older and starts afresh."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

import audit
import i18n
import mailer
from audit import Event
from models import EmailCode, User
from rules.codes import six_digits


def ttl_minutes() -> int:
    """How long a mailed code is valid (FLASK_EMAIL_CODE_TTL_MINUTES), as the pages say it."""
    return int(current_app.config["EMAIL_CODE_TTL_MINUTES"])


def send(user: User) -> None:
    """Mail a new code (call inside the transaction of what asked for it), in
    the language of the page that asked for it: the person reads it at once.
    On the sign-in's second step, a switch of language is not yet the
    account's (nobody is signed in), so the account's stored one would lag."""
    minutes = ttl_minutes()
    code = EmailCode.issue(user, timedelta(minutes=minutes))
    mailer.queue(
        user.email,
        _l("Votre code de connexion"),
        "second_factor_code",
        reader=user,
        language=i18n.current(),
        user=user,
        code=code,
        minutes=minutes,
    )
    audit.record(Event.EMAIL_CODE_SENT, user)


def check(user: User, code: str | None) -> str:
    """What a try at the account's code came to: EmailCode.ACCEPTED, WRONG or
    SPENT (the code has had all its tries: a new one must be asked for). Call
    inside a transaction that commits on a refusal too: the try is counted."""
    code = six_digits(code)
    return EmailCode.WRONG if code is None else EmailCode.use(user, code)
