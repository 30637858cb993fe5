"""Signed-in sessions, listed server-side.

The session cookie carries a random key whose hash is a ``UserSession`` row.
« Se déconnecter » deletes that row only: a copy of the cookie is signed out
with it, while the account's other browsers and this browser's device cookie
(devices.py) are untouched. « Se déconnecter partout » and a password change
move the account's session epoch on: every session and every device cookie
of the account ends."""

from __future__ import annotations

import json
from datetime import timedelta

import flask_wtf.csrf
from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user, logout_user
from itsdangerous import URLSafeTimedSerializer

import breach
import database
import drafts
import i18n
import signing
from models import User, UserSession
from signing import Serializer

KEY = "session_key"


def max_age() -> timedelta:
    return timedelta(days=current_app.config["SESSION_MAX_AGE_DAYS"])


# What a fresh session keeps of the one before: the language chosen with the
# header's switch. Signing in never keeps the CSRF token: one known before (a
# cookie planted in the browser, with its token) would pass afterwards.
# Signing out keeps it, so the portal's other tabs answer with « Se
# connecter » rather than an expired form (the signed-in session's token
# gives nothing to whoever holds it once signed out).
KEPT = (i18n.SESSION_KEY,)
# The event (HX-Trigger) by which a page swapped in place under htmx learns
# the fresh session's token, for the forms and headers it already holds.
NEW_SESSION_EVENT = "portail:session"


def _clear(keep_token: bool) -> None:
    kept = [*KEPT, signing.csrf_field()] if keep_token else KEPT
    kept = {key: session[key] for key in kept if key in session}
    session.clear()
    session.update(kept)
    if not keep_token:
        signing.forget_request_token()  # it was the old session's
        g.csrf_renewed = True


def _announce_token(response):
    """Under htmx, an answer that renewed the session names its new token."""
    if not g.pop("csrf_renewed", False) or not request.htmx:
        return response
    triggers = {}
    if "HX-Trigger" in response.headers:
        given = response.headers["HX-Trigger"]
        triggers = json.loads(given) if given.startswith("{") else dict.fromkeys(given.split(","), None)
    triggers[NEW_SESSION_EVENT] = breach.generate_csrf()
    response.headers["HX-Trigger"] = json.dumps(triggers)
    return response


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session, the account's last sign-in. A
    language chosen before signing in becomes the account's."""
    for attempt in database.attempts():
        with attempt:
            carried_over = drafts.carry_over_sign_in(user)
            _clear(keep_token=False)
            session[KEY] = UserSession.open(user)
            user.record_sign_in()
            carried_over()
            language = i18n.chosen(session.get(i18n.SESSION_KEY))
            if language:
                user.choose_language(language)
    login_user(user)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the account, if its epoch has not moved and
    this session is still listed."""
    return UserSession.signed_in_user(session_id, session.get(KEY), max_age())


def ended_account() -> User | None:
    """The active account this browser's session was signed in to, when
    that session has ended: its signed cookie still names it (Flask-Login's
    "user:epoch"), though it no longer signs anyone in."""
    user_id = str(session.get("_user_id", "")).partition(":")[0]
    if not user_id.isdigit() or len(user_id) > 18:
        return None
    return User.get_or_none((User.id == int(user_id)) & (User.status == User.ACTIVE))


def end() -> None:
    """« Se déconnecter »: this session only; what it kept of a form sent
    before its second factor is forgotten with it (a shared computer)."""
    for attempt in database.attempts():
        with attempt:
            UserSession.close(session.get(KEY))
            drafts.forget_kept_for_sign_in()
    logout_user()
    _clear(keep_token=True)


def end_everywhere(user: User) -> None:
    """« Se déconnecter partout »: every session and device cookie of the account."""
    for attempt in database.attempts():
        with attempt:
            user.sign_out_everywhere()
            drafts.forget_kept_for_sign_in()
    logout_user()
    _clear(keep_token=True)


@database.transaction
def purge() -> int:
    """Rows of sessions past their maximum age (browsers closed without
    signing out)."""
    return UserSession.purge(max_age())


# The messages waiting to be shown (Flask's flash) that a session keeps: a
# message already waiting is not queued again, and only the latest few wait.
# A request that queues one and is never followed to a page that shows it (a
# redirect to « Se connecter » not followed, again and again) would otherwise
# add one to the cookie each time, and each request would read and sign them
# all again: zlib packs thousands of the same sentence into a cookie of a few
# kilobytes.
FLASHES_KEPT = 5


def _bounded_flashes(data) -> None:
    flashes = data.get("_flashes")
    if flashes and len(flashes) > 1:
        distinct = list(dict.fromkeys(tuple(flash) for flash in flashes))[-FLASHES_KEPT:]
        if len(distinct) < len(flashes):
            data["_flashes"] = distinct


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, the same cookie, its serializer built
    once per set of keys, its waiting messages bounded (FLASHES_KEPT)."""

    def __init__(self):
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        found = self._serializers.get(keys)
        if found is None:
            found = Serializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
            )
            self._serializers = {keys: found}  # the keys of the moment only
        return found

    def save_session(self, app: Flask, session, response) -> None:
        _bounded_flashes(session)
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.after_request(_announce_token)
    # Flask-WTF signs its tokens with the serializer of its module's namespace.
    flask_wtf.csrf.URLSafeTimedSerializer = Serializer
