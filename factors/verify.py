"""The sign-in's second step: the account waiting for it is kept in the
session (bound to its session epoch, for ``PENDING_MINUTES``), then one
method checks a code."""

from __future__ import annotations

import time
from typing import NamedTuple

from flask import session

import audit
import database
from audit import Event, Outcome
from factors import email_code, passkeys, recovery, totp
from models import EmailCode, SecondFactor, User

PENDING_KEY = "second_factor_pending"
PENDING_MINUTES = 10

TOTP = SecondFactor.TOTP
EMAIL = SecondFactor.EMAIL
RECOVERY = "recovery"
PASSKEY = SecondFactor.PASSKEY


def begin(user: User, next_url: str | None, password: bool = True) -> None:
    """The password was right (or, ``password`` False, a signed-in session
    asks for its second factor): the second step starts."""
    session[PENDING_KEY] = {
        "u": user.id, "e": user.session_epoch, "n": next_url, "t": int(time.time()), "p": password,
    }  # fmt: skip


def pending_user() -> User | None:
    """The account whose second step is under way, if still valid."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("t", 0) > PENDING_MINUTES * 60:
        return None
    user = User.get_or_none(User.id == pending.get("u"))
    if user is None or not user.is_active or user.session_epoch != pending.get("e"):
        return None
    return user


def pending_next() -> str | None:
    pending = session.get(PENDING_KEY)
    return pending.get("n") if isinstance(pending, dict) else None


def pending_since() -> int | None:
    """When (epoch seconds) the password that began the step was given; None
    when a signed-in session began it (``second_factor_gate``)."""
    pending = session.get(PENDING_KEY)
    return pending.get("t") if isinstance(pending, dict) and pending.get("p") else None


def finish() -> None:
    session.pop(PENDING_KEY, None)


class Checked(NamedTuple):
    """What a try came to: ``ok``; with a recovery code, how many are ``left``;
    ``spent``: the mailed code has had all its tries (a new one is needed)."""

    ok: bool
    left: int | None = None
    spent: bool = False


def check(user: User, method: str, code: str) -> Checked:
    """Whether ``code`` passes ``method`` for ``user``. Every attempt goes
    into the audit trail."""
    left = None
    spent = False
    for attempt in database.attempts():
        with attempt:
            if method == TOTP:
                factor = SecondFactor.of_kind(user, TOTP)
                ok = factor is not None and totp.check(factor, code)
            elif method == EMAIL:
                has_email = SecondFactor.of_kind(user, EMAIL) is not None
                outcome = email_code.check(user, code) if has_email else EmailCode.WRONG
                ok, spent = outcome == EmailCode.ACCEPTED, outcome == EmailCode.SPENT
            elif method == PASSKEY:
                ok = passkeys.authenticate(code, user) is not None
            elif method == RECOVERY:
                ok = recovery.use(user, code)
                left = recovery.left(user) if ok else None
            else:
                ok = False
            details = {"method": method}
            if left is not None:
                details["left"] = left
            if spent:
                details["spent"] = True
            audit.record(
                Event.SECOND_FACTOR_USED, user, Outcome.SUCCESS if ok else Outcome.FAILURE, **details
            )
    return Checked(ok, left, spent)


@database.transaction
def send_email_code(user: User) -> None:
    email_code.send(user)


@database.transaction
def record_trusted_device(user: User) -> None:
    """The second factor skipped: this browser is trusted (factors/trust.py)."""
    audit.record(Event.SECOND_FACTOR_USED, user, method="trusted_device")
