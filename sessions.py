"""Signed-in sessions, listed server-side.

The session cookie carries a random key whose hash is a ``UserSession`` row.
« Se déconnecter » deletes that row only: a copy of the cookie is signed out
with it, while the account's other browsers and this browser's device cookie
(devices.py) are untouched. « Se déconnecter partout » and a password change
move the account's session epoch on: every session and every device cookie
of the account ends."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, session
from flask_login import login_user, logout_user

from models import User, UserSession, db

KEY = "session_key"


def max_age() -> timedelta:
    return timedelta(days=current_app.config["SESSION_MAX_AGE_DAYS"])


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session (the CSRF token, bound to the page,
    stays)."""
    csrf = session.get("csrf_token")
    session.clear()
    if csrf:
        session["csrf_token"] = csrf
    with db.atomic():
        session[KEY] = UserSession.open(user)
    login_user(user)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the account, if its epoch has not moved and
    this session is still listed."""
    user = User.from_session_id(session_id)
    if user is None or not UserSession.is_open(user.id, session.get(KEY), max_age()):
        return None
    return user


def end() -> None:
    """« Se déconnecter »: this session only."""
    with db.atomic():
        UserSession.close(session.get(KEY))
    logout_user()
    session.clear()


def end_everywhere(user: User) -> None:
    """« Se déconnecter partout »: every session and device cookie of the account."""
    with db.atomic():
        user.sign_out_everywhere()
    logout_user()
    session.clear()


def purge() -> int:
    """Rows of sessions past their maximum age (browsers closed without
    signing out)."""
    with db.atomic():
        return UserSession.purge(max_age())
