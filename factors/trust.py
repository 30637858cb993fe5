"""« Faire confiance à cet appareil pendant 30 jours »: a signed cookie naming
the accounts this browser may sign in to without the second factor, each
bound to its account's session epoch. A password change or « Se déconnecter
partout » moves the epoch on and so revokes it; a plain « Se déconnecter »
keeps it.

The API is the device cookie's (devices.py, with sessions): ``trust(user)``
is ``devices.remember(user, trust_for=TRUST_FOR)`` and ``is_trusted(user)``
is ``devices.is_trusted(user)``; this module switches to it once both are on
the same branch, and its own cookie goes."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import after_this_request, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from models import User

TRUST_FOR = timedelta(days=30)
SALT = "trusted-device"
MAX_ACCOUNTS = 5


def _name() -> str:
    return "__Host-trusted_device" if current_app.config.get("SESSION_COOKIE_SECURE") else "trusted_device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _entries() -> dict:
    """{user id: [epoch, trusted until]} of this browser."""
    if "trusted_entries" not in g:
        entries = {}
        raw = request.cookies.get(_name())
        if raw:
            try:
                loaded = _serializer().loads(raw, max_age=int(TRUST_FOR.total_seconds()))
                entries = loaded if isinstance(loaded, dict) else {}
            except BadSignature:
                pass
        g.trusted_entries = entries
    return g.trusted_entries


def is_trusted(user: User) -> bool:
    entry = _entries().get(str(user.id))
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and entry[0] == user.session_epoch
        and isinstance(entry[1], int | float)
        and entry[1] > time.time()
    )


def trust(user: User) -> None:
    """This browser skips ``user``'s second factor for TRUST_FOR (call after
    signing in: the epoch is the new session's)."""
    entries = {key: value for key, value in _entries().items() if key != str(user.id)}
    entries[str(user.id)] = [user.session_epoch, int(time.time() + TRUST_FOR.total_seconds())]
    g.trusted_entries = dict(list(entries.items())[-MAX_ACCOUNTS:])

    @after_this_request
    def _set_cookie(response):
        response.set_cookie(
            _name(),
            _serializer().dumps(g.trusted_entries),
            max_age=int(TRUST_FOR.total_seconds()),
            path="/",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            httponly=True,
            samesite="Lax",
        )
        return response
