"""« Se connecter » and « Se déconnecter »."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import login_user, logout_user

from forms.auth import LoginForm
from forms.validators import normalize_email
from models import User
from passwords import verify_password
from views import invalid, page

bp = Blueprint("auth", __name__)

FAILED = "Adresse e-mail ou mot de passe incorrect."


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if not form.is_submitted():
        return page("auth/login.html", form=form, next_url=next_url)
    if not form.validate():
        return invalid("auth/login.html", form=form, next_url=next_url)
    user = authenticate(form.email.data, form.password.data)
    if user is None:
        form.form_errors.append(FAILED)
        return invalid("auth/login.html", form=form, next_url=next_url)
    sign_in(user)
    return _full_redirect(next_url or url_for("structure.choose"))


@bp.post("/deconnexion")
def logout():
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return _full_redirect(url_for("main.home"))


def authenticate(email: str, password: str) -> User | None:
    """The active account with that e-mail and password. Unknown e-mails cost
    the same hashing time as wrong passwords."""
    try:
        email = normalize_email(email)
    except ValueError:
        email = email.strip().lower()
    user = User.by_email(email)
    stored = user.password_hash if user and user.is_active else None
    ok, new_hash = verify_password(stored, password)
    if not ok:
        return None
    if new_hash:
        user.set_password_hash(new_hash)
    return user


def sign_in(user: User) -> None:
    """Sign in on a fresh session (the CSRF token, bound to the page, stays)."""
    csrf = session.get("csrf_token")
    session.clear()
    if csrf:
        session["csrf_token"] = csrf
    login_user(user)


def safe_next(target: str | None) -> str | None:
    """A ``next`` that stays on this site: a path, never a scheme or a host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _full_redirect(url: str):
    """Signing in or out changes the whole page (header included): under htmx,
    a full navigation; otherwise a 303."""
    if request.htmx:
        response = redirect(url, 303)
        response.status_code = 204
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
