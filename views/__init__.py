"""Blueprints, one per area, and what they share: the ways a view answers
(a full page, or its fragment under htmx), the htmx response headers, the
registry of pages a step may answer with, and signing in.

Blueprints never import one another: a step that leads to another area's
page names its endpoint (``advance("structure.choose")``) and that area
registers the function that renders it (``@renders("structure.choose")``)."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import (
    Response,
    current_app,
    flash,
    g,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, RequestRedirect
from werkzeug.urls import iri_to_uri

import breach
import database
import devices
import drafts
import i18n
import sessions
import signing
from extensions import csrf
from forms import anything_typed, typed_fields
from forms.account import new_password_untouched
from rules.passwords import password_checks
from security import keeping_allowed

if TYPE_CHECKING:
    from models import User

# Where a step swaps in, and how: the same as the forms' data-hx-target/data-hx-swap
# (see _macros.html, htmx_form).
MAIN = "#main"
MAIN_SWAP = "innerHTML show:window:top"
# The header every answer to an htmx request carries (app.py): an error
# answer without it is not the portal's (a proxy's page) and app.js does not
# swap it in.
PORTAL_ANSWER = "X-Portail"


class RowIdConverter(IntegerConverter):
    """``<id:name>``: a database row id, 1 to 2**63 - 1. A larger number is no
    id (404), rather than an overflow in the database driver (500)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**63 - 1)


# Step 6's confirmation, which « Mon espace » shows under its own heading
# instead of its summary of the account (the same news, not said twice).
ATTACHED = _l("Votre compte est désormais actif et vous êtes rattaché à une structure.")
# A request to a structure that takes no new member now (disabled, or
# awaiting moderation): the gestionnaire's or an operator's approval.
CLOSED = _l(
    "Cette structure n'accepte pas de nouveau membre pour le moment : la demande ne peut qu'être refusée."
)
# What a step tells the next page it shows, once (in the session, as flashes are).
JUST_ATTACHED = "just_attached"  # step 6's confirmation is flashed: « Mon espace » does not repeat it
JUST_ACTIVATED = "just_activated"  # step 5 says the account is now created


def tell_next_page(what: str) -> None:
    session[what] = True


def told(what: str) -> bool:
    """Whether the step before told this page ``what`` (read once)."""
    return bool(session.pop(what, False))


def confirm_attached(message: str) -> None:
    """Flash step 6's confirmation (ATTACHED, and what follows it) for the next page."""
    flash(message, "success")
    tell_next_page(JUST_ATTACHED)


# -- where to go back to --------------------------------------------------------------


def safe_next(target: str | None) -> str | None:
    """A ``next`` that stays on this site: a path, never a scheme or a host.
    Browsers drop tabs and newlines and read a backslash as a slash, so any
    of those, and any control character, refuse it."""
    if not target or not isinstance(target, str) or len(target) > 2048:
        return None
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def here() -> str:
    """This page's address to come back to (the language switch's ``next``):
    its path with its query, unless the query carries a ``next`` off this
    site, which is never written back into a page. A page shown again by a
    form's POST at another address (``shown_at``) is at its own."""
    if request.method != "GET" and (shown := g.get("shown_at")):
        return shown
    if not request.query_string:
        return request.path
    if any(safe_next(value) is None for value in request.args.getlist("next")):
        return request.path
    return request.full_path


def shown_at(url: str) -> None:
    """The page this request renders is the one at ``url``, though it
    answers a form's POST at an address no GET shows (« Mon compte » after
    its password's form refused): the language switch comes back there, with
    what it carries, not to the home page."""
    g.shown_at = url


def page_to_show(*candidates: str | None, default: str | None = None) -> str | None:
    """The first candidate that is a page of this site (a path a GET
    answers), else ``default``. A step's POST address, where a failed submit
    was shown, is no page to come back to."""
    adapter = current_app.url_map.bind("")
    for candidate in candidates:
        path = safe_next(candidate)
        if path is None:
            continue
        try:
            adapter.match(path.split("?", 1)[0], method="GET")
        except RequestRedirect:
            pass  # a page, at an address with its slash: the GET is redirected there
        except HTTPException:
            continue
        return path
    return default


# The code of Flask-Login's ``login_required`` wrapper: every view it wraps
# runs that same code (functools.wraps keeps the chain to the view).
_SIGN_IN_FIRST_CODE = login_required(lambda: None).__code__


def needs_account(path: str) -> bool:
    """Whether the page at ``path`` (a page of this site: ``page_to_show``)
    sends a visitor signed in to no account to « Se connecter »."""
    adapter = current_app.url_map.bind("")
    try:
        endpoint, _args = adapter.match(path.split("?", 1)[0], method="GET")
    except RequestRedirect as redirected:
        return needs_account(urlsplit(redirected.new_url).path)
    except HTTPException:
        return False
    view = current_app.view_functions.get(endpoint)
    while view is not None:
        if getattr(view, "__code__", None) is _SIGN_IN_FIRST_CODE:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def referrer_path() -> str | None:
    """The path of the page that sent this request, when it is one of this site's."""
    return _same_site_path(request.referrer)


def current_page_path() -> str | None:
    """Under htmx, the path of the page in the address bar (``HX-Current-URL``),
    when it is one of this site's."""
    return _same_site_path(request.htmx.current_url) if request.htmx else None


def _same_site_path(url: str | None) -> str | None:
    """The path and query of ``url``, when it is one of this site's; never its
    fragment (« Aller au contenu » puts #main in the address bar, which
    HX-Current-URL names): no request for the page carries it."""
    if not url or not url.startswith(request.host_url):
        return None
    return "/" + url[len(request.host_url) :].partition("#")[0]


def sign_in_first() -> Response:
    """Flask-Login's answer to a request that needs an account (a session
    that ended, or none): « Se connecter », then back to a page a GET shows.
    That is the page asked for, for a GET (every page also answers without
    htmx); for a form's POST (its address shows nothing to a GET: an
    autosave, a field's check, a submit), the page the person was on. Under
    htmx the whole page goes to the sign-in form: swapped into a piece of
    the page, it would nest a page in a page."""
    login = current_app.login_manager
    if request.method == "GET":
        there = page_to_show(request.full_path.rstrip("?"))
    else:
        there = page_to_show(current_page_path(), referrer_path())
    if there and request.method == "POST" and _kept_for_the_account(there):
        flash(str(SESSION_ENDED_KEPT), "info")
    else:
        flash(str(login.login_message), login.login_message_category)
    url = url_for("auth.login", next=there) if there else url_for("auth.login")
    if request.htmx:
        return client_redirect(url)
    return redirect(url)


SESSION_ENDED_KEPT = _l(
    "Votre session a pris fin. Connectez-vous : ce que vous avez saisi vous attend sur la page."
)


def _kept_for_the_account(there: str) -> bool:
    """A form sent after its session ended (signed out elsewhere, too old):
    what it held, but its secrets, waits on the server for the page it was
    sent from, for the account the session was signed in to only, once it
    signs in again in this browser (drafts.carry_over_sign_in). A visitor
    who never signed in has nothing to get back, nor a form that held
    nothing typed (a button, a decision: its hidden fields), which the page
    would not take back. Each such request writes a row: counted by client
    address and by account (a copy of the ended session's cookie, sent again
    and again without the draft id each answer gives, would write one each)."""
    account = sessions.ended_account()
    fields = typed_fields(request.form) if account is not None else {}
    if not anything_typed(fields):
        return False
    if not keeping_allowed("DRAFT", f"account:{account.id}"):
        return False
    for attempt in database.attempts():
        with attempt:
            drafts.keep_for_sign_in(there, fields, account)
    return True


def kept_until_verified(account: User) -> str | None:
    """A form sent while the session owes its second factor (the second
    step, or enrolment first: factors.second_factor_gate, views.factors):
    the page it was sent from, a page a GET shows, to come back to once that
    is done; and what it held, but its secrets, kept for that page, for this
    account in this browser only (drafts.keep_for_sign_in), which the page
    takes back once the second step signs in afresh (drafts.carry_over_sign_in)
    or the enrolment is done (drafts.resume). Only a form of this session,
    with its CSRF token (the console's gate runs before Flask-WTF's check):
    another site cannot fill the page. Bounded as for a session that ended."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    there = page_to_show(current_page_path(), referrer_path())
    if there is None:
        return None
    fields = typed_fields(request.form)
    if not anything_typed(fields):
        return there
    if not sent_by_this_session() or not keeping_allowed("DRAFT", f"account:{account.id}"):
        return there
    for attempt in database.attempts():
        with attempt:
            drafts.keep_for_sign_in(there, fields, account)
    flash(str(KEPT_UNTIL_VERIFIED), "info")
    return there


KEPT_UNTIL_VERIFIED = _l(
    "Ce que vous avez saisi est conservé : il vous attend sur la page une fois la vérification "
    "en deux étapes faite."
)


def sent_by_this_session() -> bool:
    """The request carries this session's CSRF token, as Flask-WTF checks it."""
    try:
        csrf.protect()
    except CSRFError:
        return False
    return True


def page(template: str, status: int = 200, **context) -> Response:
    """A step as a full page, or as its fragment under htmx (see app._layout)."""
    return make_response(render_template(template, **context), status)


# -- pages every anonymous visitor sees alike ----------------------------------------
# The home page, « Se connecter », « Mot de passe oublié ? » shown to someone
# not signed in, without a flash or a query string, differ from one visitor
# to the next by the CSRF token only. Each is rendered once per language,
# layout (page or htmx fragment) and path, with a stand-in for the token,
# which each answer replaces with the visitor's own. Anything else that
# could tell visitors apart (an account, a flash, a query, the language, the
# htmx headers, the root the portal is reached under) either is in the key
# or keeps the page from being shared.
TOKEN_STAND_IN = "csrf" + secrets.token_hex(20)  # per process, never a visitor's token
SHARED_PAGES_KEPT = 64


def shared_page(template: str, context: Callable[[], dict]) -> Response:
    """``page(template, **context())``, rendered once for every anonymous
    visitor (see above). ``context`` is called only when the page is
    rendered, with the stand-in in place of the token (a form made earlier
    would carry the visitor's own token)."""
    key = _shared_key(template)
    if key is None:
        return page(template, **context())
    html = _rendered_once("shared_pages", key, lambda: _render_with_stand_in(template, context))
    return make_response(breach.fill(html, TOKEN_STAND_IN))


def _rendered_once(kept: str, key: tuple, render: Callable[[], str]) -> str:
    """``render()``, kept under ``key`` in the app's ``kept`` store (at most
    SHARED_PAGES_KEPT of them) and given again from there. What holds the
    visitor's own token (masked, or raw by any path) is answered, never kept."""
    store = current_app.extensions.setdefault(kept, {})
    html = store.get(key)
    if html is None:
        html = render()
        if breach.MASKED in html or breach.raw_token_payload() in html:
            return html
        if len(store) < SHARED_PAGES_KEPT:
            store[key] = html
    return html


def _shared_key(template: str) -> tuple | None:
    """What the shared page depends on, or None when it must be rendered for this request."""
    if current_app.jinja_env.auto_reload or request.method != "GET" or request.query_string:
        return None
    if "_flashes" in session or current_user.is_authenticated or g.get("carried"):
        return None  # the page holds this visitor's message, account, or fields carried back
    htmx = request.htmx
    boosted = bool(htmx and htmx.boosted)
    return (template, i18n.current(), bool(htmx), boosted, request.script_root, request.path)


def _render_with_stand_in(template: str, context: Callable[[], dict]) -> str:
    # Flask-WTF keeps the request's signed token in g (under the field's name):
    # every csrf_token() and form of this render takes the stand-in instead.
    name = signing.csrf_field()
    own = g.pop(name, None)
    setattr(g, name, TOKEN_STAND_IN)
    try:
        with breach.unmasked():
            return render_template(template, **context())
    finally:
        g.pop(name, None)
        if own is not None:
            setattr(g, name, own)


def shared_part(template: str, depends_on: tuple, context: Callable[[], dict]) -> Markup:
    """A part of a page that is the same for everybody in one state (a form
    nothing has touched yet), rendered once per language, root of the site,
    and ``depends_on`` (what else the part reads); ``context`` is asked for
    only then. It must hold no token: one that reached it (masked, or raw)
    keeps it from being kept."""
    if current_app.jinja_env.auto_reload:
        return _rendered_part(template, context)
    key = (template, i18n.current(), request.script_root, *depends_on)
    return _rendered_once("shared_parts", key, lambda: _rendered_part(template, context))


def blank_password_fields(form) -> Markup | None:
    """A new password's fields with the rule's checklist
    (``_password/fields.html``) as they first show, nothing typed and no
    error, rendered once per kind of form (``shared_part``); else None, and
    the page includes its own. A password field never shows what it holds:
    the part reads nothing of the person's but what is typed there."""
    if not new_password_untouched(form):
        return None
    depends_on = (type(form).__name__, form.password.id, form.password_confirm.id)
    return shared_part(
        "_password/fields.html", depends_on, lambda: {"form": form, "checks": password_checks("")}
    )


def layout_part(name: str) -> Markup:
    """A part of every page's layout that reads nothing but the language, the
    application's settings and its root (the head after the title, the
    footer): ``layouts/<name>``, drawn once (``shared_part``)."""
    return shared_part(f"layouts/{name}", (), dict)


def _rendered_part(template: str, context: Callable[[], dict]) -> Markup:
    return Markup(render_template(template, **context()))  # noqa: S704 - Jinja's output, escaped as rendered


def in_place(template: str, status: int = 200, **context) -> Response:
    """Under htmx, a part of the page that replaces itself (a table row
    decided or cancelled), and the page's flash region swapped out of band
    (``data-hx-swap-oob``): what was flashed for this answer shows at the
    top, as it would on a full page, and no earlier message stays there."""
    flashes = get_template_attribute("_macros.html", "flashes")
    return make_response(render_template(template, **context) + str(flashes(oob=True)), status)


def invalid(template: str, **context) -> Response:
    """The same step with its errors: 422, which htmx is configured to swap."""
    return page(template, 422, **context)


def checked_again_once(overtaken: type[Exception]):
    """A view whose write found the data changed since its checks (``overtaken``,
    by a request sent at the same time; nothing stored) runs once more,
    checking against what is stored now."""

    def decorate(view):
        @functools.wraps(view)
        def once_more(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except overtaken:
                return view(*args, **kwargs)

        return once_more

    return decorate


# -- htmx response headers (htmx 2.0) ------------------------------------------------
# Headers carry Latin-1 only: every URL goes through iri_to_uri. htmx reads
# none of them on a 3xx, so each of these answers is a 2xx.


def push_url(response: ResponseReturnValue, url: str) -> Response:
    """The response swaps as usual and ``url`` goes into the address bar and
    the history (``HX-Push-Url``)."""
    response = make_response(response)
    response.headers["HX-Push-Url"] = iri_to_uri(url)
    return response


def replace_url(response: ResponseReturnValue, url: str) -> Response:
    """The response swaps as usual and ``url`` replaces the address in the
    bar and the current history entry (``HX-Replace-Url``): no new entry
    for Back to step through."""
    response = make_response(response)
    response.headers["HX-Replace-Url"] = iri_to_uri(url)
    return response


def client_redirect(url: str) -> Response:
    """A full page load of ``url`` (``HX-Redirect``), e.g. when signing in or
    out changes the whole page. 204: there is nothing to swap."""
    response = Response(status=204)
    response.headers["HX-Redirect"] = iri_to_uri(url)
    return response


def full_redirect(url: str) -> Response:
    """Signing in or out changes the whole page (header included): under htmx,
    a full navigation; otherwise a 303."""
    if request.htmx:
        return client_redirect(url)
    return redirect(url, 303)


def location(url: str, target: str = MAIN, swap: str = MAIN_SWAP, replace: bool = False) -> Response:
    """htmx fetches ``url`` itself, swaps it into ``target`` and pushes it
    (``HX-Location``): a navigation without a page load, at the cost of a
    second request. With ``replace``, it replaces the current history entry
    instead of pushing one. 204: this answer has nothing to swap."""
    path = iri_to_uri(url)
    spec = {"path": path, "target": target, "swap": swap}
    if replace:
        spec.update(push=False, replace=path)
    response = Response(status=204)
    response.headers["HX-Location"] = json.dumps(spec, separators=(",", ":"))
    return response


def retarget(response: ResponseReturnValue, target: str, swap: str) -> Response:
    """The response goes into ``target`` with ``swap``, whatever the element
    that asked had chosen (``HX-Retarget``, ``HX-Reswap``)."""
    response = make_response(response)
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


# -- drafts (see drafts.py) -----------------------------------------------------------


def draft_saved(saved_at, endpoint: str, set_aside_replaced: bool = False) -> Response:
    """A step's draft was saved: under htmx the status line's new text (the
    autosave, « Enregistrer le brouillon »), and with ``set_aside_replaced``
    the page's notice of a draft it had left as it was, which this one has
    just replaced, saying so (out of band); without JavaScript back to the
    step (Post/Redirect/Get), which refills it and says when it was saved."""
    if not request.htmx:
        return redirect(url_for(endpoint), 303)
    return make_response(
        render_template("_draft_saved.html", saved_at=saved_at, set_aside_replaced=set_aside_replaced)
    )


# -- the next step ---------------------------------------------------------------------

_PAGES: dict[str, Callable[..., ResponseReturnValue]] = {}


def renders(endpoint: str):
    """Registers the function that renders the page at ``endpoint`` (called
    with the URL's values). It must read only the session and those values,
    never the request's form: it also runs inside the POST of the step that
    leads to it."""

    def register(render: Callable[..., ResponseReturnValue]):
        _PAGES[endpoint] = render
        return render

    return register


def advance(endpoint: str, **values) -> Response:
    """After a successful POST, the page at ``endpoint``: without JavaScript a
    303 to it (Post/Redirect/Get); under htmx its fragment in this very
    answer, its URL pushed, so the next step costs no second request. A page
    that registered no renderer is fetched by htmx itself (``HX-Location``).

    When that page is the one in the address bar (a form that leads back to
    the page it is on), its URL replaces the current history entry instead:
    htmx pushes whatever it is told, even the same URL again, and Back would
    then show the same page twice."""
    url = url_for(endpoint, **values)
    if not request.htmx:
        return redirect(url, 303)
    if endpoint.startswith("."):
        endpoint = f"{request.blueprint}{endpoint}"
    shown = current_page_path()
    same_page = shown is not None and shown.split("#", 1)[0] == url
    render = _PAGES.get(endpoint)
    if render is None:
        return location(url, replace=same_page)
    if same_page:
        return replace_url(render(**values), url)
    return push_url(render(**values), url)


def not_the_manager(structure_name: str) -> str:
    """What a form of the gestionnaire principal answers to a member who is
    not (most often: no longer, the form sent from a page opened before they
    handed the role over). Worded to be true of both."""
    return _(
        "Vous n'êtes pas gestionnaire principal de la structure %(name)s : rien n'a été modifié.",
        name=structure_name,
    )


def account_closed(requester_name: str) -> str:
    """What an approval answers when the requester's account was closed by an
    operator since the request (the page was opened before): it can only be
    refused, by the gestionnaire principal or an operator alike."""
    return _(
        "Le compte %(of_name)s a été fermé depuis sa demande : elle ne peut pas être approuvée, "
        "seulement refusée.",
        of_name=i18n.of_person(requester_name),
    )


def turn_away(message: str, endpoint: str, **values) -> Response:
    """A form sent from a page that is out of date (the person may no longer
    do what it offers): nothing is done; ``message`` says why, on the page at
    ``endpoint``. Under htmx that page takes the whole content, whatever
    part of the page the form was to swap (a row of a table)."""
    flash(message, "error")
    response = advance(endpoint, **values)
    if request.htmx:
        response = retarget(response, MAIN, MAIN_SWAP)
    return response


def sign_in(user: User) -> None:
    """Sign in on a fresh session, listed server-side (sessions.py); this
    browser is known to the account from now on (devices.py)."""
    sessions.start(user)
    devices.remember(user)
