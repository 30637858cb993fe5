"""Languages: French (the default, the seed's words) and English.

The language of a request is, in order: the one chosen with the header's
switch (kept in the session), the account's (signed in), the browser's
``Accept-Language``, French. Catalogues live in ``translations/`` (message
ids are the French texts); ``make install`` compiles them. Mail goes out in
the language of the account it is for (``mailer.queue``).
"""

from __future__ import annotations

import flask_babel
from babel.support import NullTranslations
from flask import Flask, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Domain, get_locale, gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

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
    locale = _kept("babel_locale") or get_locale()
    return locale.language if locale is not None else DEFAULT


def choose(language: str) -> None:
    """The person's choice, for the rest of the session (the account keeps it too: see accounts)."""
    session[SESSION_KEY] = language


# French elides « de » before a vowel and before a mute h, which the h of
# first names almost always is (« d'Hélène », « d'Hugo »); before a y that
# sounds a vowel (« d'Yves »), not one before a vowel (« de Yann »).
_VOWELS = frozenset("aeiouàâäéèêëîïôöùûüæœ")


def of_person(name: str) -> str:
    """A person's name as the complement of a noun: « de Bob », « d'Erin » in
    French; in English the bare name, which its sentence places itself
    (« the request from Erin »). Messages write ``%(of_name)s`` for it."""
    if current() != "fr":
        return name
    first, second = name[:1].lower(), name[1:2].lower()
    elided = first in _VOWELS or first == "h" or (first == "y" and second not in _VOWELS)
    return f"d'{name}" if name and elided else f"de {name}"


def catalogued(text: str) -> bool:
    """Whether the catalogue of the page translates ``text``, even as itself
    (« Captcha »): a text of French data shown as French otherwise. Never on
    a French page: French has no catalogue, its texts are the msgids."""
    return text in getattr(translations(), "_catalog", {})


def _escaped(text: LazyString):
    return escape(str(text))


# -- the request's catalogue, looked up once ---------------------------------------------
# Flask-Babel finds the catalogue again for each text (the locale's name, the
# domain, three lookups through ``g``): some 6 µs a text, a hundred texts a
# page. The request's catalogue is kept where Flask-Babel keeps the request's
# locale (``g._flask_babel``), under the name its ``refresh()`` and
# ``force_locale()`` already clear and restore: a change of language within a
# request (a mail in the addressee's language) is never served the other
# language's catalogue. ``g`` is the app context's: nothing outlives a request.
_NO_TRANSLATIONS = NullTranslations()
_babel_domain = flask_babel.get_domain


def _kept(name: str):
    """What Flask-Babel keeps for this request under ``name`` (``g._flask_babel``), or None."""
    context = _cv_app.get(None)
    return None if context is None else getattr(context.g.__dict__.get("_flask_babel"), name, None)


def _domain() -> Domain:
    """flask_babel.get_domain, the request's domain read without its three
    look-ups through ``g`` (every gettext of Python code, lazy texts included)."""
    return _kept("babel_domain") or _babel_domain()


class _RequestDomain(Domain):
    """Flask-Babel's domain, its catalogue kept for the rest of the request."""

    def get_translations(self):
        return translations()


def translations():
    """The catalogue of the language being rendered."""
    context = _cv_app.get(None)
    if context is None:
        return _NO_TRANSLATIONS
    found = getattr(context.g.__dict__.get("_flask_babel"), "babel_translations", None)
    if found is None:
        found = Domain.get_translations(_babel_domain())  # Flask-Babel's own lookup
        context.g._flask_babel.babel_translations = found
    return found


# Jinja's newstyle gettext (what Flask-Babel installs), without its detours:
# the same text, marked safe when the template autoescapes, then formatted
# with the variables (« %% » becomes « % » even without any, as there).
def _finish(eval_ctx, text: str, variables: dict):
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - the catalogue's text, as Jinja's own gettext marks it
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_gettext(eval_ctx, string: str, /, **variables):
    return _finish(eval_ctx, translations().ugettext(string), variables)


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, /, **variables):
    variables.setdefault("num", num)
    return _finish(eval_ctx, translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _template_pgettext(eval_ctx, context: str, string: str, /, **variables):
    variables.setdefault("context", context)
    return _finish(eval_ctx, translations().upgettext(context, string), variables)


@pass_eval_context
def _template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, /, **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _finish(eval_ctx, translations().unpgettext(context, singular, plural, num), variables)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Paris")
    babel.init_app(app, locale_selector=select_locale)
    # Every text, in Python or in a template, takes the request's catalogue.
    flask_babel.get_domain = _domain  # what flask_babel.gettext and the lazy texts call
    if not isinstance(babel.__dict__.get("domain_instance"), _RequestDomain):
        babel.domain_instance = _RequestDomain(domain=app.extensions["babel"].default_domain)
    app.jinja_env.globals.update(
        _=_template_gettext,
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
    )
    # Flask-Babel's lazy texts call themselves markup (``__html__`` returns
    # the text as is): one built with a value a person typed would reach the
    # page unescaped. Here a template escapes them like any string.
    LazyString.__html__ = _escaped
    rules.i18n.install(gettext, current)
    # Flask-Login's flash, in the language of the page it is shown on.
    login_manager.login_message = lazy_gettext("Connectez-vous pour accéder à cette page.")
    login_manager.localize_callback = str
    app.jinja_env.globals.update(
        current_language=current, LANGUAGE_NAMES=NAMES, LANGUAGES=LANGUAGES, catalogued=catalogued
    )
