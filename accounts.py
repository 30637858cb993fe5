"""Account use cases: each runs its changes, and the mail they cause, in one
transaction. Answers never tell whether an address already has an account."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

import audit
import database
import mailer
import rights
import statements
from audit import Event, Outcome
from models import (
    AuditEvent,
    CaptchaChallenge,
    ChangedMeanwhile,
    ConsentChange,
    Draft,
    OutboxMail,
    Token,
    User,
    utcnow,
)
from passwords import hash_password, verify_password


def _ttl(key: str) -> timedelta:
    return timedelta(minutes=current_app.config[key])


def sign_up(data: dict, language: str = "fr") -> bool:
    """Create the pending account and mail its activation link; if the address
    has an account already, mail its owner instead. True in that case: the
    slower branch, whose time the caller hides (``uniform_time``).

    The details typed belong to the sign-up, not to the address: a new sign-up
    of a still pending account replaces the previous one's details, and its
    link (a new link revokes older ones) is then the only one that activates
    the account, showing those details to be checked first. So someone who
    signed up a victim's address beforehand leaves nothing in her account.
    ``language`` is the one the sign-up was made in: the account's mail uses it."""
    try:
        for attempt in database.attempts():
            with attempt:
                user = statements.create(User, terms_accepted_at=utcnow(), language=language, **data)
                if user.survey_consent:
                    statements.create(ConsentChange, user=user, consent=True)
                send_activation(user)
                audit.record(Event.ACCOUNT_CREATED, user)
        return False
    except IntegrityError:
        # The database's unique index decides, even between concurrent sign-ups.
        for attempt in database.attempts():
            with attempt:
                existing = User.by_email(data["email"])
                if existing is not None:
                    # Updated first: the row's lock orders concurrent sign-ups.
                    existing.replace_sign_up_details(data)
                _notify_existing(existing)
                audit.record(Event.SIGNUP_EXISTING, existing)
        return True


def link_just_sent(user: User, purpose: str = Token.ACTIVATION) -> bool:
    """Whether a link of ``purpose`` went to ``user`` less than the cooldown
    (RESEND_COOLDOWN_SECONDS) ago: another one waits (a new link would
    revoke the one just mailed, which its holder may be opening)."""
    last = Token.last_issued_at(user, purpose)
    cooldown = timedelta(seconds=current_app.config["RESEND_COOLDOWN_SECONDS"])
    return last is not None and utcnow() - last < cooldown


@database.transaction
def resend_activation(email: str) -> bool:
    """Send the link again (a new one, revoking the old), at most once per
    cooldown; for an active account, the « account exists » mail. When no
    mail goes, the same work is done for nothing: the answer takes as long."""
    user = User.by_email(email)
    if user is None or link_just_sent(user):
        _as_long_as_a_link(email, Token.ACTIVATION)
        outcome = Outcome.UNKNOWN_ACCOUNT if user is None else Outcome.THROTTLED
        audit.record(Event.ACTIVATION_RESENT, user, outcome)
        return False
    _notify_existing(user)
    audit.record(Event.ACTIVATION_RESENT, user)
    return True


def _notify_existing(user: User | None) -> None:
    if user is None:
        return
    if user.status == User.PENDING:
        send_activation(user)
        return
    mailer.queue(
        user.notification_email,
        _l("Votre compte existe déjà"),
        "account_exists",
        reader=user,
        user=user,
        login_url=mailer.external_url("auth.login"),
        reset_url=mailer.external_url("recovery.request"),
    )


def send_activation(user: User) -> None:
    _send_link(user, Token.ACTIVATION, _l("Activez votre compte"))


LINK_ENDPOINTS = {
    Token.ACTIVATION: "activation.set_password",
    Token.RESET: "recovery.reset",
    Token.CONTACT: "account.confirm_contact",
}


def _send_link(user: User, purpose: str, subject: str, recipient: str | None = None) -> None:
    """A new single-use link (older ones revoked), mailed to the login e-mail
    (or ``recipient``) with the template named after its purpose."""
    ttl_key = f"{purpose.upper()}_TTL_MINUTES"
    raw = Token.issue(user, purpose, _ttl(ttl_key))
    mailer.queue(
        recipient or user.email,
        subject,
        purpose,
        reader=user,
        user=user,
        url=mailer.external_url(LINK_ENDPOINTS[purpose], token=raw),
        ttl_minutes=current_app.config[ttl_key],
    )


def _as_long_as_a_link(email: str, purpose: str) -> None:
    """For an address that gets no mail: the queries and templates of
    ``_send_link`` for a stand-in account that is not stored, nothing kept,
    so that the answer takes as long: times do not tell an address with an
    account from one without."""
    stand_in = User(id=0, email=email, first_name="", last_name="", contact_email=email)
    Token.last_issued_at(stand_in, purpose)
    Token.revoke(stand_in, purpose)  # matches nothing
    Token.peek(secrets.token_urlsafe(32), purpose)  # stands for the token's insert
    ttl_key = f"{purpose.upper()}_TTL_MINUTES"
    url = mailer.external_url(LINK_ENDPOINTS[purpose], token=secrets.token_urlsafe(32))
    mailer.render(purpose, user=stand_in, url=url, ttl_minutes=current_app.config[ttl_key])


def pending_activation(raw_token: str) -> User | None:
    """The account a still valid activation link is for; changes nothing."""
    token = Token.peek(raw_token, Token.ACTIVATION)
    if token is None or token.user.status != User.PENDING:
        return None
    return token.user


def activated_with(raw_token: str, user: User) -> bool:
    """Whether ``user``'s account is active and that activation link was its
    own (used, replaced or expired since): the link opened again by its owner."""
    return user.status == User.ACTIVE and Token.owner_id(raw_token, Token.ACTIVATION) == user.id


# Whether a link may go to a contact address: the account, the address (the
# limits: security.ContactLinks).
LinkAllowed = Callable[[User, str], bool]


def _always(_user: User, _address: str) -> bool:
    return True


def activate(
    raw_token: str, password: str, details: dict, link_allowed: LinkAllowed = _always
) -> User | None:
    """Consume the link, save the details checked on the activation page and
    set the first password; None if the link was used, revoked or expired
    meanwhile (of two concurrent submits, one wins). A contact e-mail other
    than the login e-mail gets its confirmation link now, if ``link_allowed``
    lets it go: else the account is active all the same, the link withheld
    (« Renvoyer le lien de confirmation » in « Mon compte », later)."""
    password_hash = hash_password(password)  # slow: outside the write lock
    for attempt in database.attempts():
        with attempt:
            token = Token.consume(raw_token, Token.ACTIVATION)
            if token is None:
                return None
            user = token.user
            if not user.activate(password_hash, details):
                return None  # no longer pending
            audit.record(Event.ACCOUNT_ACTIVATED, user)
            _confirm_contact_email(user, link_allowed)
            return user


def password_context(user: User) -> tuple[str, ...]:
    """Words a password may not contain."""
    return (user.first_name, user.last_name, user.email, user.contact_email)


# --------------------------------------------------------------------------- signing in


def _throttle(user: User):
    config = current_app.config
    return user.sign_in_blocked_until(
        config["SIGN_IN_THROTTLE_AFTER"],
        timedelta(seconds=config["SIGN_IN_THROTTLE_BASE_SECONDS"]),
        timedelta(seconds=config["SIGN_IN_THROTTLE_MAX_SECONDS"]),
    )


def authenticate(email: str, password: str, known_device=lambda user: False) -> User | None:
    """The active account with that e-mail and password, else None whatever
    the reason: unknown address, wrong password, inactive account, or an
    account in its sign-in delay. The password is always hashed (a dummy hash
    for an unknown address) so that every answer takes as long. For a browser
    ``known_device(user)`` says signed in there before, the account's delay
    neither applies nor counts (devices.py: strangers cannot lock it out)."""
    user = User.by_email(email)
    stored = user.password_hash if user and user.is_active else None
    ok, new_hash = verify_password(stored, password)
    for attempt in database.attempts():
        with attempt:
            if user is None:
                audit.record(Event.SIGN_IN, None, Outcome.FAILURE, reason="unknown_account")
                return None
            known = known_device(user)
            blocked_until = None if known else _throttle(user)
            if blocked_until and utcnow() < blocked_until:
                # Refused without counting: the delay ends at a known time.
                audit.record(Event.SIGN_IN, user, Outcome.THROTTLED)
                return None
            if not ok and known:
                audit.record(Event.SIGN_IN, user, Outcome.FAILURE, reason="wrong_password", known_device=True)
                return None
            if not ok:
                user.record_failed_sign_in(
                    timedelta(hours=current_app.config["SIGN_IN_FAILURE_WINDOW_HOURS"])
                )
                reason = "wrong_password" if user.is_active else f"account_{user.status}"
                audit.record(
                    Event.SIGN_IN, user, Outcome.FAILURE, reason=reason, failures=user.failed_sign_ins
                )
                return None
            if new_hash:
                user.set_password_hash(new_hash)
            user.clear_failed_sign_ins()
            audit.record(Event.SIGN_IN, user)
    return user


# --------------------------------------------------------------------------- password reset


@database.transaction
def request_reset(email: str) -> bool:
    """« Mot de passe oublié ? »: mail a reset link (revoking older ones) if the
    address has an active account; a pending account gets its activation link
    instead. Not within the cooldown after the last one: anybody may ask for
    any address, and a new link would revoke the one its holder is opening.
    The caller answers the same whatever happened; True when a mail was
    queued (the branch whose time ``uniform_time`` hides)."""
    user = User.by_email(email)
    if user is not None and user.status == User.DISABLED:
        # No link (it would sign in nowhere), but a word to the owner, who
        # would otherwise wait for a mail that never comes; at most one per
        # cooldown, whoever asks.
        audit.record(Event.RESET_REQUESTED, user, Outcome.DISABLED_ACCOUNT)
        if _mailed_lately(user):
            _as_long_as_a_link(email, Token.RESET)
            return False
        mailer.queue(user.email, _l("Votre compte est désactivé"), "reset_disabled", reader=user, user=user)
        return True
    if user is None:
        _as_long_as_a_link(email, Token.RESET)
        audit.record(Event.RESET_REQUESTED, user, Outcome.UNKNOWN_ACCOUNT)
        return False
    purpose = Token.ACTIVATION if user.status == User.PENDING else Token.RESET
    if link_just_sent(user, purpose):
        _as_long_as_a_link(email, purpose)
        audit.record(Event.RESET_REQUESTED, user, Outcome.THROTTLED)
        return False
    if user.status == User.PENDING:
        send_activation(user)
        audit.record(Event.RESET_REQUESTED, user, Outcome.PENDING_ACCOUNT)
        return True
    _send_link(user, Token.RESET, _l("Réinitialisez votre mot de passe"))
    audit.record(Event.RESET_REQUESTED, user)
    return True


def _mailed_lately(user: User) -> bool:
    """Whether any mail went to ``user`` less than the cooldown
    (RESEND_COOLDOWN_SECONDS) ago."""
    since = utcnow() - timedelta(seconds=current_app.config["RESEND_COOLDOWN_SECONDS"])
    return OutboxMail.written_for_since(user, since)


def _active_owner(raw_token: str, purpose: str) -> User | None:
    """The active account a still valid link of ``purpose`` is for; changes nothing."""
    token = Token.peek(raw_token, purpose)
    if token is None or not token.user.is_active:
        return None
    return token.user


def pending_reset(raw_token: str) -> User | None:
    """The account a still valid reset link is for; changes nothing."""
    return _active_owner(raw_token, Token.RESET)


def is_current_password(user: User, password: str) -> bool:
    """Whether ``password`` is the account's password (one check of its hash)."""
    return user.password_hash is not None and verify_password(user.password_hash, password)[0]


def reset_password(raw_token: str, password: str) -> User | None:
    """Consume the link and set the new password; every session of the
    account ends. None if the link was used, revoked or expired meanwhile."""
    password_hash = hash_password(password)  # slow: outside the write lock
    for attempt in database.attempts():
        with attempt:
            token = Token.consume(raw_token, Token.RESET)
            if token is None:
                return None
            user = token.user
            if not user.is_active:
                return None
            user.change_password(password_hash)
            _notify_password_changed(user)
            audit.record(Event.PASSWORD_RESET, user)
            return user


def _notify_password_changed(user: User) -> None:
    for recipient in dict.fromkeys((user.email, user.notification_email)):
        mailer.queue(
            recipient,
            _l("Votre mot de passe a été modifié"),
            "password_changed",
            reader=user,
            user=user,
            reset_url=mailer.external_url("recovery.request"),
        )


# --------------------------------------------------------------------------- « Mon compte »


def change_password(user: User, current: str, new: str) -> bool:
    """Replace the password if ``current`` is right; every session of the
    account ends (the caller signs the current one in again)."""
    ok, _ = verify_password(user.password_hash, current)
    if not ok:
        for attempt in database.attempts():
            with attempt:
                audit.record(Event.PASSWORD_CHANGED, user, Outcome.FAILURE)
        return False
    password_hash = hash_password(new)
    for attempt in database.attempts():
        with attempt:
            user.change_password(password_hash)
            _notify_password_changed(user)
            audit.record(Event.PASSWORD_CHANGED, user)
    return True


@dataclass(frozen=True)
class ProfileSaved:
    changed: list[str]  # the names of the fields changed
    # Nothing saved: the new contact e-mail's link was held back by ``link_allowed``.
    too_many_links: bool = False


def update_profile(user: User, data: dict, link_allowed: LinkAllowed = _always) -> ProfileSaved:
    """Save the editable identity fields, only while they are still those the
    edit was checked against (else ChangedMeanwhile). A new contact e-mail
    (other than the login one) is mailed its confirmation link if
    ``link_allowed`` lets it go; else nothing is saved (``too_many_links``):
    an address no link can confirm would only wait unconfirmed."""
    changed = [name for name in User.PROFILE if getattr(user, name) != data[name]]
    if not changed:
        return ProfileSaved([])
    contact = data["contact_email"]
    if "contact_email" in changed and contact != user.email and not link_allowed(user, contact):
        for attempt in database.attempts():
            with attempt:
                audit.record(Event.PROFILE_UPDATED, user, Outcome.THROTTLED, fields=changed)
        return ProfileSaved([], too_many_links=True)
    for attempt in database.attempts(keep=(user,)):
        with attempt:
            if not user.update_profile({name: data[name] for name in changed}):
                raise ChangedMeanwhile
            if "contact_email" in changed:
                _confirm_contact_email(user)
            audit.record(Event.PROFILE_UPDATED, user, fields=changed)
    return ProfileSaved(changed)


# --------------------------------------------------------------------------- contact e-mail


def _confirm_contact_email(user: User, link_allowed: LinkAllowed = _always) -> bool | None:
    """Mail the link confirming a contact e-mail other than the login one;
    until it is followed, notifications go to the login e-mail. None when
    there is nothing to confirm, False when ``link_allowed`` held it back."""
    if user.contact_email_confirmed:
        return None
    if not link_allowed(user, user.contact_email):
        return False
    _send_link(user, Token.CONTACT, _l("Confirmez votre adresse de contact"), recipient=user.contact_email)
    return True


@database.transaction
def resend_contact_confirmation(user: User, link_allowed: LinkAllowed = _always) -> bool | None:
    """A new confirmation link for the unconfirmed contact e-mail: True when
    sent, None if there is nothing to confirm, False when held back."""
    return _confirm_contact_email(user, link_allowed)


def pending_contact(raw_token: str) -> User | None:
    """The active account a still valid contact link is for; changes nothing."""
    return _active_owner(raw_token, Token.CONTACT)


@database.transaction
def confirm_contact(raw_token: str) -> User | None:
    """Consume the link: the contact e-mail is confirmed and receives the
    notifications from now on. None if the link was used, revoked (the
    contact e-mail changed since) or expired."""
    token = Token.consume(raw_token, Token.CONTACT)
    if token is None:
        return None
    user = token.user
    if not user.is_active:
        return None
    user.confirm_contact_email()
    audit.record(Event.CONTACT_EMAIL_CONFIRMED, user)
    return user


def set_survey_consent(user: User, consent: bool) -> bool:
    """Give or withdraw the satisfaction-survey consent; True if it changed."""
    if user.survey_consent == consent:
        return False
    for attempt in database.attempts():
        with attempt:
            User.update(survey_consent=consent).where(User.id == user.id).execute()
            ConsentChange.create(user=user, consent=consent)
            user.survey_consent = consent
            audit.record(Event.SURVEY_CONSENT_CHANGED, user, consent=consent)
    return True


# --------------------------------------------------------------------------- clean-up


def purge(pending_days: int, audit_days: int | None = None) -> dict[str, int]:
    """Delete pending accounts never activated created more than
    ``pending_days`` ago (their tokens go with them; what they left in other
    tables is forgotten as for an erased account: ``rights.forget``), used and
    expired tokens, spent and expired captcha challenges, expired drafts, and
    audit events older than ``audit_days``. Returns what was deleted, by kind."""
    now = utcnow()
    for attempt in database.attempts():
        with attempt:
            stale = list(
                User.select().where(
                    (User.status == User.PENDING)
                    & User.activated_at.is_null()
                    & (User.created_at < now - timedelta(days=pending_days))
                )
            )
            rights.forget(stale)
            ids = [user.id for user in stale]
            counts = {
                "accounts": sum(
                    User.delete().where(User.id.in_(ids[start : start + rights.FORGET_BATCH])).execute()
                    for start in range(0, len(ids), rights.FORGET_BATCH)
                ),
                "tokens": Token.delete()
                .where(Token.used_at.is_null(False) | (Token.expires_at <= now))
                .execute(),
                "captcha_challenges": CaptchaChallenge.delete()
                .where(CaptchaChallenge.used_at.is_null(False) | (CaptchaChallenge.expires_at <= now))
                .execute(),
                "drafts": Draft.purge(),
                "audit_events": AuditEvent.delete()
                .where(AuditEvent.at < now - timedelta(days=audit_days))
                .execute()
                if audit_days
                else 0,
            }
            audit.record(Event.ACCOUNT_PURGED, None, pending_days=pending_days, **counts)
    return counts
