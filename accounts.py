"""Account use cases: each runs its changes, and the mail they cause, in one
transaction. Answers never tell whether an address already has an account."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from peewee import IntegrityError

import mailer
from models import Token, User, db, utcnow
from passwords import hash_password


def _ttl(key: str) -> timedelta:
    return timedelta(minutes=current_app.config[key])


def sign_up(data: dict) -> None:
    """Create the pending account and mail its activation link; if the address
    has an account already, mail its owner instead."""
    try:
        with db.atomic():
            user = User.create(terms_accepted_at=utcnow(), **data)
            _send_activation(user)
    except IntegrityError:
        # The database's unique index decides, even between concurrent sign-ups.
        with db.atomic():
            _notify_existing(User.by_email(data["email"]))


def resend_activation(email: str) -> None:
    """Send the link again (a new one, revoking the old), at most once per
    cooldown; for an active account, the « account exists » mail."""
    with db.atomic():
        user = User.by_email(email)
        if user is None:
            return
        last = Token.last_issued_at(user, Token.ACTIVATION)
        cooldown = timedelta(seconds=current_app.config["RESEND_COOLDOWN_SECONDS"])
        if last and utcnow() - last < cooldown:
            return
        _notify_existing(user)


def _notify_existing(user: User | None) -> None:
    if user is None:
        return
    if user.status == User.PENDING:
        _send_activation(user)
        return
    mailer.queue(
        user.contact_email,
        "Votre compte existe déjà",
        "account_exists",
        user=user,
        login_url=mailer.external_url("auth.login"),
        reset_url=mailer.external_url("auth.login"),
    )


def _send_activation(user: User) -> None:
    raw = Token.issue(user, Token.ACTIVATION, _ttl("ACTIVATION_TTL_MINUTES"))
    mailer.queue(
        user.email,
        "Activez votre compte",
        "activation",
        user=user,
        url=mailer.external_url("activation.set_password", token=raw),
        ttl_minutes=current_app.config["ACTIVATION_TTL_MINUTES"],
    )


def pending_activation(raw_token: str) -> User | None:
    """The account a still valid activation link is for; changes nothing."""
    token = Token.peek(raw_token, Token.ACTIVATION)
    if token is None or token.user.status != User.PENDING:
        return None
    return token.user


def activate(raw_token: str, password: str) -> User | None:
    """Consume the link and set the first password; None if the link was
    used, revoked or expired meanwhile (of two concurrent submits, one wins)."""
    password_hash = hash_password(password)  # slow: outside the write lock
    with db.atomic():
        token = Token.consume(raw_token, Token.ACTIVATION)
        if token is None:
            return None
        user = User.get_by_id(token.user_id)
        if user.status != User.PENDING:
            return None
        user.activate(password_hash)
        return user


def password_context(user: User) -> tuple[str, ...]:
    """Words a password may not contain."""
    return (user.first_name, user.last_name, user.email, user.contact_email)
