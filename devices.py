"""Device cookies (OWASP "device cookies" against lockout).

A browser that signed in to an account carries a signed cookie naming that
account: for it, the per-account sign-in throttles do not apply (failures
from it are limited per device instead), so strangers failing on purpose
cannot keep the owner out. One cookie holds entries for a few accounts.

An entry is bound to the account's session epoch: « Se déconnecter partout »
and a password change revoke every device cookie of the account; a plain
« Se déconnecter » keeps it.

API (also for « Faire confiance à cet appareil »):
- ``remember(user, trust_for=None)``: (re)issue this browser's entry for
  ``user``, with a trust until now + ``trust_for`` if given (an existing trust
  is kept);
- ``is_known(user)`` / ``is_trusted(user)``: does this browser carry a valid
  entry / a valid entry with an unexpired trust;
- ``device_id(user)``: the entry's random id (a rate-limit key), or None;
- ``known_account(email)``: the account this browser is known for under
  that e-mail, or None;
- ``forget(user)``: drop this browser's entry for ``user``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import after_this_request, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from models import User

SALT = "device-cookie"
MAX_ACCOUNTS = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _max_age() -> int:
    return int(current_app.config["DEVICE_COOKIE_DAYS"]) * 86400


def _entries() -> dict:
    """This browser's entries, {user id: {"e": epoch, "n": id, "t": trusted until}}."""
    if "device_entries" not in g:
        raw = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
        entries = {}
        if raw:
            try:
                loaded = _serializer().loads(raw, max_age=_max_age())
                if isinstance(loaded, dict):
                    entries = loaded
            except BadSignature:
                pass
        g.device_entries = entries
    return g.device_entries


def _account_tag(user: User) -> str:
    """Names the account itself, not only its id: SQLite may give a deleted
    account's id to the next sign-up, whose epoch may well match."""
    return hashlib.sha256(f"{user.email}|{user.created_at.isoformat()}".encode()).hexdigest()[:16]


def _entry(user: User) -> dict | None:
    entry = _entries().get(str(user.id))
    if (
        not isinstance(entry, dict)
        or entry.get("e") != user.session_epoch
        or entry.get("a") != _account_tag(user)
    ):
        return None
    return entry


def is_known(user: User) -> bool:
    return _entry(user) is not None


def is_trusted(user: User) -> bool:
    entry = _entry(user)
    return entry is not None and entry.get("t", 0) > time.time()


def device_id(user: User) -> str | None:
    entry = _entry(user)
    return entry["n"] if entry else None


def known_account(email: str | None) -> User | None:
    if not email or not isinstance(email, str) or not _entries():
        return None
    user = User.by_email(email)
    return user if user is not None and is_known(user) else None


def remember(user: User, trust_for: timedelta | None = None) -> None:
    previous = _entry(user)
    trusted_until = previous.get("t", 0) if previous else 0
    if trust_for is not None:
        trusted_until = time.time() + trust_for.total_seconds()
    entries = {key: value for key, value in _entries().items() if key != str(user.id)}
    entries[str(user.id)] = {
        "e": user.session_epoch,
        "a": _account_tag(user),
        "n": secrets.token_urlsafe(16),
        "t": trusted_until,
    }
    _store(dict(list(entries.items())[-MAX_ACCOUNTS:]))


def forget(user: User) -> None:
    entries = {key: value for key, value in _entries().items() if key != str(user.id)}
    _store(entries)


def _store(entries: dict) -> None:
    first = "device_cookie_pending" not in g
    g.device_entries = g.device_cookie_pending = entries
    if not first:
        return

    @after_this_request
    def _set_cookie(response):
        config = current_app.config
        name, pending = config["DEVICE_COOKIE_NAME"], g.device_cookie_pending
        if not pending:
            response.delete_cookie(name, path="/", secure=config["DEVICE_COOKIE_SECURE"], httponly=True)
            return response
        response.set_cookie(
            name,
            _serializer().dumps(pending),
            max_age=_max_age(),
            path="/",
            secure=config["DEVICE_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response
