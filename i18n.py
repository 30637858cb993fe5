"""Languages: French (the default, the seed's words) and English.

The language of a request is, in order: the one chosen with the header's
switch (kept in the session), the account's (signed in), the browser's
``Accept-Language``, French. Catalogues live in ``translations/`` (message
ids are the French texts); ``make install`` compiles them. Mail goes out in
the language of the account it is for (``mailer.queue``).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

import rules.i18n
from extensions import babel, login_manager

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
SESSION_KEY = "lang"
# How each language names itself, for the switch (shown in that language).
NAMES = {"fr": "Français", "en": "English"}


def chosen(value: object) -> str | None:
    """``value`` if it is a language the portal speaks."""
    return value if isinstance(value, str) and value in LANGUAGES else None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT
    language = chosen(session.get(SESSION_KEY))
    if language:
        return language
    if current_user and current_user.is_authenticated:
        language = chosen(getattr(current_user, "language", None))
        if language:
            return language
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def current() -> str:
    """The language of what is being rendered (« fr » or « en »)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def choose(language: str) -> None:
    """The person's choice, for the rest of the session (the account keeps it too: see accounts)."""
    session[SESSION_KEY] = language


def _escaped(text: LazyString):
    return escape(str(text))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Paris")
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel's lazy texts call themselves markup (``__html__`` returns
    # the text as is): one built with a value a person typed would reach the
    # page unescaped. Here a template escapes them like any string.
    LazyString.__html__ = _escaped
    rules.i18n.install(gettext, current)
    # Flask-Login's flash, in the language of the page it is shown on.
    login_manager.login_message = lazy_gettext("Connectez-vous pour accéder à cette page.")
    login_manager.localize_callback = str
    app.jinja_env.globals.update(current_language=current, LANGUAGE_NAMES=NAMES, LANGUAGES=LANGUAGES)
