"""Error pages in the visitor's language, without internals."""

from __future__ import annotations

from flask import Flask, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from peewee import InterfaceError, OperationalError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

import breach
import database
import drafts
import logs
import operations
from extensions import login_manager
from forms import anything_typed, secret_typed, typed_fields
from forms.language import LanguageForm
from security import client_address, keeping_allowed, retry_after_seconds
from views import MAIN, needs_account, page_to_show, referrer_path, retarget, sent_by_this_session

# The database cannot be reached, refuses connections or was cut off (a
# restart, a full disk), or the pool had no connection free in time: the
# request may succeed again in a moment, which is what 503 says. Errors of
# these classes that come from the code (« no such column », a syntax error)
# stay 500s with their traceback (database.unavailable tells them apart).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, MaxConnectionsExceeded)
DATABASE_RETRY_AFTER_SECONDS = 10
FLASHES = "#flashes"

MESSAGES = {
    400: (_l("Requête invalide"), _l("La demande n'a pas pu être traitée. Revenez en arrière et réessayez.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas accès à cette page.")),
    404: (_l("Page introuvable"), _l("La page demandée n'existe pas ou n'existe plus.")),
    405: (_l("Action impossible"), _l("Cette action n'est pas possible sur cette page.")),
    410: (_l("Page expirée"), _l("Cette page n'est plus disponible.")),
    413: (
        _l("Envoi trop volumineux"),
        _l(
            "Les données envoyées sont trop volumineuses. Revenez en arrière, raccourcissez votre saisie "
            "puis réessayez."
        ),
    ),
    429: (
        _l("Trop de tentatives"),
        _l("Vous avez fait trop de demandes en peu de temps. Patientez quelques minutes puis réessayez."),
    ),
    503: (
        _l("Service indisponible"),
        _l("Le service est momentanément indisponible. Réessayez dans quelques instants."),
    ),
    500: (
        _l("Erreur du service"),
        _l("Une erreur inattendue s'est produite. Réessayez dans quelques instants."),
    ),
}


def render_error(status: int, message: str | None = None, **context):
    title, text = MESSAGES.get(status, MESSAGES[500] if status >= 500 else MESSAGES[400])
    response = make_response(
        render_template(
            "errors/error.html", title=str(title), text=message or str(text), status=status, **context
        ),
        status,
    )
    if request.htmx:
        # Show the error in place of the page's content, whatever was targeted.
        return retarget(response, MAIN, "innerHTML")
    return response


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return _("moins d'une minute")
    minutes = -(-seconds // 60)
    if minutes <= 60:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    hours = -(-minutes // 60)
    return ngettext("%(num)d heure", "%(num)d heures", hours)


def too_many_requests(_error: RateLimitExceeded):
    """429 with how long to wait; the limit's details stay in the log."""
    seconds = retry_after_seconds()
    current_app.logger.warning(
        # The path without its token (an activation or contact link's): logs are read by others.
        "Rate limit reached: %s %s from %s",
        request.method,
        logs.redact(request.path),
        client_address(),
    )
    text = str(MESSAGES[429][1])
    if seconds:
        text = _(
            "Vous avez fait trop de demandes en peu de temps. Patientez %(wait)s avant de réessayer.",
            wait=_wait_text(seconds),
        )
    if request.htmx and (request.method != "GET" or request.headers.get("HX-Target", MAIN[1:]) != MAIN[1:]):
        # A part of the page asked (a field's check, an autosave, the SIRENE
        # lookup as the SIRET is typed, a row's button), or a form was sent
        # in place: the page, what was typed and where the focus is stay; the
        # notice goes above the page, to be sent again once the wait is over.
        # Only a page asked for (a link followed in place) is replaced.
        notice = render_template("errors/_notice.html", text=text)
        response = retarget(make_response(notice, 429), FLASHES, "innerHTML")
    elif (there := _limited_form_kept()) is not None:
        # Without JavaScript, a form sent from one of this site's pages: back
        # to that page, the notice above its form, what was typed in it again.
        flash(text, "error")
        response = redirect(there, 303)
    else:
        response = render_error(429, text)
    if seconds:
        response.headers["Retry-After"] = str(seconds)
    return response


def too_large(_error):
    """413. A form sent in place (htmx) keeps its page and what was typed: the
    notice goes above the page, as a limit's does. Without JavaScript the
    body was never read, so nothing of it can be offered again: the error
    page, and the browser's Back finds the form as it was; the page links
    back to the form's page too (a link only: never sent again from here)."""
    if request.htmx and request.method != "GET":
        text = _("Les données envoyées sont trop volumineuses : raccourcissez votre saisie puis réessayez.")
        notice = render_template("errors/_notice.html", text=text)
        return retarget(make_response(notice, 413), FLASHES, "innerHTML")
    return render_error(413, back=page_to_show(referrer_path()))


def csrf_error(_error):
    """400. A form sent in place (htmx) keeps its page and what was typed: the
    notice goes into the flash region and the answer names the session's
    token (sessions._announce_token), so sending the form again works. Its
    token had gone stale: a sign-in in another tab renews it, an ended
    session drops it. Only the page itself could have sent that header."""
    if request.htmx:
        g.csrf_renewed = True
        notice = render_template("errors/_notice.html", text=str(STALE_FORM))
        return retarget(make_response(notice, 400), FLASHES, "innerHTML")
    if _sent_from_this_site() and not current_user.is_authenticated:
        # Not kept for an account an ended session's cookie names: its token
        # outlives the session, so a stale one says the form was not that
        # session's (an anonymous tab's, an earlier account's).
        there = _stale_form_kept()
        if there is not None:
            return redirect(there, 303)
    return render_error(
        400, _("Votre session a expiré ou le formulaire n'est plus valide. Rechargez la page et recommencez.")
    )


def _stale_form_kept() -> str | None:
    """A full page's form whose token went stale (JavaScript off: its session
    cookie expired or was dropped), sent by a visitor signed in to no
    account: what it held, but its secrets, carried back to the page it was
    sent from (drafts.carry, as the language switch does), which is
    returned; that page's form says so as it takes it back. None when it
    held nothing typed, or its page needs an account (nothing would take it
    back). A signed-in session's stale form is not carried: another account
    may have signed in since, in another tab, and would get it. Only a form
    the browser says this site's own page sent (``_sent_from_this_site``):
    another site's form must not fill the portal's page for the person who
    opens it next. Bounded as a draft."""
    there = page_to_show(referrer_path())
    if there is None or needs_account(there):
        return None
    return there if _carried_back(there, stale=True) else None


def _carried_back(there: str, stale: bool = False) -> bool | None:
    """What the form sent held, but its secrets, kept for ``there`` in this
    browser (drafts.carry, as the language switch does; for the account
    signed in, if any), which that page's form takes back. None when it
    held nothing typed; False past the drafts' own limit (by client
    address: nothing kept); True when kept."""
    own = LanguageForm.OWN if request.endpoint == "language.switch" else frozenset()
    fields = typed_fields(request.form, own)
    if not anything_typed(fields):
        return None
    if not keeping_allowed("DRAFT", ""):
        return False
    user = current_user.id if current_user.is_authenticated else None
    for attempt in database.attempts():
        with attempt:
            drafts.carry(there, fields, user, stale=stale)
    return True


def _limited_form_kept() -> str | None:
    """A full page's form sent past a limit (JavaScript off) from one of this
    site's pages (``_sent_from_this_site``): the page it was sent from, to go
    back to, and what it held, but its secrets, carried back to it
    (drafts.carry, as the language switch does), which that page's form
    takes back. For a signed-in person, only a form with this session's own
    CSRF token: the account signed in now is the one that typed it. None
    (the 429 page) for a GET, another site's form, a page that would ask to
    sign in first, or past the drafts' own limit when something is to keep."""
    if request.method != "POST" or not _sent_from_this_site():
        return None
    there = page_to_show(referrer_path())
    signed_in = current_user.is_authenticated
    if there is None or (needs_account(there) if not signed_in else not sent_by_this_session()):
        return None
    return None if _carried_back(there) is False else there


def _sent_from_this_site() -> bool:
    """The browser says this request comes from one of this site's pages:
    ``Sec-Fetch-Site: same-origin``, or, from a browser that does not send
    it, an ``Origin`` that is this site's. No site can set either for a
    request it makes a browser send elsewhere."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    return origin is not None and origin + "/" == request.host_url


# Said after a submit and after what the page sends by itself (a field's
# check, an autosave) alike: neither was taken into account.
STALE_FORM = _l(
    "Cette page n'était plus à jour : elle l'est de nouveau, et ce que vous avez saisi est conservé. "
    "Si vous veniez d'envoyer le formulaire, envoyez-le de nouveau."
)


def database_unavailable(error: Exception):
    """503 « Service indisponible », one line in the log (an outage would
    otherwise log a traceback per request). The page is drawn for an
    anonymous visitor: loading the signed-in account needs the database.
    Under htmx the notice goes into the flash region, so that the form and
    what was typed stay on the page, ready to be sent again; without
    JavaScript, the page offers to send the form again (``_resendable``)."""
    if not isinstance(error, MaxConnectionsExceeded) and not database.unavailable(error):
        return unexpected(error)  # a programming error, not an outage
    kind = type(error).__name__
    current_app.logger.error("Database unavailable (%s): %s", kind, database.first_line(error))
    g._login_user = login_manager.anonymous_user()  # as Flask-Login stores it
    if request.htmx:
        notice = render_template("errors/_notice.html", text=str(MESSAGES[503][1]))
        response = retarget(make_response(notice, 503), FLASHES, "innerHTML")
    else:
        response = render_error(503, resend=_resendable())
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _resendable() -> dict | None:
    """A form sent without JavaScript from one of this site's pages
    (``_sent_from_this_site``) while the database was unavailable: what it
    held, but its secrets, and its own CSRF token (checked again when it
    comes back), for the 503 page to send again once the database is back.
    Nothing is stored: the database is what failed, and the browser would
    lose the form (its pages are ``no-store``: Back fetches them afresh).
    None for another site's form, or one that held nothing typed."""
    if request.method != "POST" or request.url_rule is None or not _sent_from_this_site():
        return None
    fields = typed_fields(request.form)
    if not anything_typed(fields):
        return None
    # The address built again from its route (under the app's prefix, if
    # any), not from the decoded path: « %3F » there would read as a query.
    action = url_for(request.endpoint, **(request.view_args or {}))
    if request.query_string:
        action += "?" + request.query_string.decode("latin-1")
    token = breach.unmask(request.form.get("csrf_token", ""))
    return {
        "action": action,
        "fields": fields,
        "token": breach.mask(token) if token else "",  # under a mask of this page's own
        "secrets_left": secret_typed(request.form),
    }


def unexpected(error: Exception):
    current_app.logger.error("Unhandled error", exc_info=error)
    return render_error(500)


def no_longer_operator(_error: operations.NoLongerOperator):
    """A console action whose operator lost the role (or their account) as
    it was served: nothing was done, and the answer is the console's to
    anyone who is not an operator, a 404."""
    current_app.logger.warning("Console action refused: the operator's role or account ended meanwhile")
    return render_error(404)


def register(app: Flask) -> None:
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(operations.NoLongerOperator, no_longer_operator)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        response = render_error(error.code or 500)
        # What the error tells beyond its page: a 405's Allow, for instance.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    app.register_error_handler(Exception, unexpected)
