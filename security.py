"""Security helpers: headers on every response, the client address behind
trusted proxies, and the rate limits the views declare."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import time
from collections.abc import Callable
from functools import cache

from flask import Flask, abort, current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES, RateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from extensions import client_key, limiter
from rules.email import lookup_email

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"
# On every response, static files included (assets.py sends them).
STATIC_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Token links sit in URLs: never send them to another site.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_STATIC_ITEMS = tuple(STATIC_HEADERS.items())


def _refuse_oversized_body() -> None:
    """A body larger than its limit is refused (413) before anything parses
    it: the CSRF check and the NUL check below both read the form. On its
    announced length; a body sent without one (chunked) is read up to the
    limit here, and kept for the view if it fits."""
    limit = body_limit(request.mimetype)
    if limit is None:
        return
    if request.content_length is not None:
        if request.content_length > limit:
            abort(413)
        return
    environ = request.environ
    if not environ.get("wsgi.input_terminated"):
        return  # Werkzeug reads no body at all without a length
    body = _read_at_most(environ["wsgi.input"], limit + 1)
    if len(body) > limit:
        abort(413)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["wsgi.input_terminated"]
    environ.pop("HTTP_TRANSFER_ENCODING", None)  # else the length is not read


# What browsers and htmx send a form as. The portal takes no file: no form
# of it comes near MAX_FORM_MEMORY_SIZE (64 KB; a passkey's answer, the
# largest field, is held to 16 KB of JSON).
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def body_limit(mimetype: str) -> int | None:
    """MAX_CONTENT_LENGTH, and for a form MAX_FORM_MEMORY_SIZE too, as a
    whole. Werkzeug holds each multipart field to that size, not the form,
    and reads and decodes an URL-encoded body whole: each « %C3%A9 » of a
    megabyte of them is decoded in Python (130 ms of CPU on « Se connecter »,
    and 6-10 ms for a megabyte of multipart fields, for what a form of the
    portal sends in a few kilobytes)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if mimetype in FORM_TYPES:
        form = current_app.config["MAX_FORM_MEMORY_SIZE"]
        if form is not None:
            limit = form if limit is None else min(limit, form)
    return limit


def _read_at_most(stream, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _refuse_nul_characters() -> None:
    """No field or URL of this portal holds a NUL character; PostgreSQL cannot
    store one. Refuse such a request whole (400) before any view sees it."""
    values = [request.path]
    for _name, given in request.args.lists():
        values.extend(given)
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for _name, given in request.form.lists():
            values.extend(given)
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    # First of all the request hooks, before CSRFProtect's (it reads the form).
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_oversized_body)
    app.before_request(_refuse_nul_characters)
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies > 0:
        # Only then are X-Forwarded-For/-Proto/-Host believed, and only the
        # hops the configured proxies added: a client cannot choose its address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    limiter.init_app(app)
    # Behind a TLS proxy whose X-Forwarded-Proto is not trusted, is_secure is
    # false: the configured scheme says HTTPS all the same.
    https_outside_development = app.config.get("PREFERRED_URL_SCHEME") == "https" and not (
        app.debug or app.testing
    )

    @app.after_request
    def _headers(response):
        headers = response.headers
        # What a view set stays (setdefault), read in one pass over the headers.
        present = {name.lower() for name, _value in headers}
        headers.extend([item for item in _STATIC_ITEMS if item[0].lower() not in present])
        if "cache-control" not in present and response.mimetype == "text/html":
            # Pages carry CSRF tokens, personal data or token links: never stored.
            headers.add("Cache-Control", "no-store")
        if "strict-transport-security" not in present and (https_outside_development or request.is_secure):
            headers.add("Strict-Transport-Security", HSTS)
        return response


def client_address() -> str:
    """The client's address: the socket's, or the one trusted proxies saw."""
    return get_remote_address()


# The label of the key derived from SECRET_KEY for the e-mail addresses' keys.
EMAIL_KEY_CONTEXT = b"portail/rate-limit/email-key/v1"


@cache
def _email_key_secret(secret: str | bytes) -> bytes:
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, EMAIL_KEY_CONTEXT, hashlib.sha256).digest()


def email_key(email: str | None) -> str:
    """A rate-limit key for an e-mail address: normalised, then an HMAC under
    a key derived from SECRET_KEY, so that neither the limits' storage nor a
    log line lets anyone confirm a guessed address (a plain hash would)."""
    if not email or not isinstance(email, str):
        return ""
    secret = _email_key_secret(current_app.config["SECRET_KEY"])
    return "email:" + hmac.new(secret, lookup_email(email).encode(), hashlib.sha256).hexdigest()


def form_email() -> str | None:
    return request.form.get("email")


def limit(
    setting: str,
    email: Callable[[], str | None] | None = None,
    methods=("POST",),
    key: Callable[[], str | None] | None = None,
    exempt: Callable[[], bool] | None = None,
):
    """A limit read from ``RATELIMIT_<setting>`` at each request, keyed by the
    client address, or with ``email`` by the e-mail address it returns, or by
    what ``key`` returns (requests without an e-mail or key, or ``exempt``,
    are not counted by that limit). Each request is counted before the view,
    at once with the test (one atomic hit): requests sent together cannot
    all pass a count that is only tested first (Flask-Limiter's
    ``deduct_when``, which counts after the view, would let them)."""

    def value() -> str:
        return current_app.config[f"RATELIMIT_{setting}"]

    if email is not None:
        key = lambda: email_key(email())  # noqa: E731
    # Flask answers a HEAD with the GET view, its work included: counted too,
    # in the same count (one count per limit, whatever the method counted).
    methods = [*methods, "HEAD"] if "GET" in methods and "HEAD" not in methods else list(methods)
    options = {"methods": methods, "per_method": False}
    if key is None and exempt is None:
        return limiter.limit(value, **options)
    return limiter.limit(
        value,
        key_func=(lambda: key() or "") if key else client_key,
        exempt_when=lambda: bool((key and not key()) or (exempt and exempt())),
        **options,
    )


def limits(
    setting: str,
    email: Callable[[], str | None] | None = None,
    methods=("POST",),
    exempt: Callable[[], bool] | None = None,
    counted_when: Callable[[], bool] | None = None,
):
    """Both limits of an endpoint: ``RATELIMIT_<setting>`` by client address,
    and ``RATELIMIT_<setting>_EMAIL`` by e-mail address when ``email`` is given
    (not counted when ``exempt`` says so). With ``counted_when()``, neither
    limit applies to a request it refuses: what decides it is known before
    the view (see ``limit``), so only what will do the work is counted."""
    uncounted = (lambda: not counted_when()) if counted_when else None

    def decorate(view):
        view = limit(setting, methods=methods, exempt=uncounted)(view)
        if email is not None:
            either = exempt
            if uncounted is not None:
                either = (lambda: uncounted() or exempt()) if exempt else uncounted
            view = limit(f"{setting}_EMAIL", email=email, methods=methods, exempt=either)(view)
        return view

    return decorate


RETYPED_SCOPE = "retyped"  # one count for every form of RATELIMIT_PASSWORD_RETYPED


def password_retyped(counted_when: Callable[[], bool] | None = None):
    """``RATELIMIT_PASSWORD_RETYPED``: the password a signed-in person types
    again (to change it, before a change of second factors, to delete the
    account), counted by account, every such form together: someone holding a
    stolen session gets one allowance of guesses, not one per form, whatever
    the client addresses. Counted before the view (atomic), only when
    ``counted_when()`` says the password will be checked (by default, when
    a ``password`` field was typed: an empty one is refused unchecked).
    Declared above the route's other limits, so hit after them: a request
    they refuse checks no password and spends none of it."""
    counted = counted_when or (lambda: bool(request.form.get("password")))

    def uncounted() -> bool:
        return not account_key() or not counted()

    return limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_PASSWORD_RETYPED"],
        scope=RETYPED_SCOPE,
        key_func=lambda: account_key() or "",
        exempt_when=uncounted,
        methods=["POST"],
    )


def account_key() -> str | None:
    """A rate-limit key for the signed-in account, else None."""
    return f"account:{current_user.id}" if current_user.is_authenticated else None


def account_limits(setting: str, counted_when: Callable[[], bool] | None = None):
    """``RATELIMIT_<setting>`` by client address and ``RATELIMIT_<setting>_ACCOUNT``
    by signed-in account, on POST; with ``counted_when()``, neither applies
    to a request it refuses (as ``limits``: the others are counted at once
    with their test). The account's is hit first (Flask-Limiter hits a
    route's limits of one time unit in the order they are declared, inner
    first): a request it refuses spends none of the address's allowance,
    which one account retrying past its own must not use up for the office."""
    uncounted = (lambda: not counted_when()) if counted_when else None

    def decorate(view):
        view = limit(f"{setting}_ACCOUNT", key=account_key, exempt=uncounted)(view)
        return limit(setting, exempt=uncounted)(view)

    return decorate


def mail_allowed(setting: str, email: str | None) -> bool:
    """Counts one mail to ``email`` against ``RATELIMIT_<setting>``; False once
    the limit is reached. Per-address limits stop mails, never the person's
    next step: the page answered is the same either way."""
    return _counted("mail", setting, email_key(email))


def mail_allowed_from_client(setting: str) -> bool:
    """Counts one mail caused by this request's client address against
    ``RATELIMIT_<setting>``; False once the limit is reached."""
    return _counted("mail", setting, "client:" + client_key())


def keeping_allowed(setting: str, key: str) -> bool:
    """Counts one record kept on the server for this request's client address,
    then (if that let it through) for ``key``, against ``RATELIMIT_<setting>``;
    False once either limit is reached."""
    return _counted("kept", setting, "client:" + client_key()) and _counted("kept", setting, key)


def online_lookup_allowed() -> bool:
    """Counts one request to the SIRENE online source against
    ``RATELIMIT_SIRENE_LOOKUP``: for the signed-in account (every page that
    asks it needs one), else for the client address; False once reached.
    Not by address for an account: colleagues behind one office address
    must not spend each other's share."""
    key = f"account:{current_user.get_id()}" if current_user.is_authenticated else "client:" + client_key()
    return _counted("online", "SIRENE_LOOKUP", key)


ONCE_PER_REQUEST = frozenset({"mail", "kept"})


def _counted(kind: str, setting: str, key: str) -> bool:
    """Counts one ``kind`` (a mail, a record kept) for ``key`` against
    ``RATELIMIT_<setting>``; False once the limit is reached. No key, no count.
    A mail or a record kept is counted once per request: a transaction run
    again (database.transaction, after PostgreSQL rolled it back) asks again
    for the same mail, which must not spend the allowance twice, nor be held
    back by its own first count. Each call to the online source counts."""
    if not current_app.config["RATELIMIT_ENABLED"] or not key:
        return True
    if kind not in ONCE_PER_REQUEST:
        return _count(kind, setting, key)
    answers = g.setdefault("_limits_counted", {})
    if (kind, setting, key) not in answers:
        answers[kind, setting, key] = _count(kind, setting, key)
    return answers[kind, setting, key]


def _count(kind: str, setting: str, key: str) -> bool:
    items = parse_many(current_app.config[f"RATELIMIT_{setting}"])
    keys = (kind, setting, key)
    # hit() checks and counts at once (atomic in the store): concurrent
    # requests cannot all pass a separate test() first.
    try:
        return all([limiter.limiter.hit(item, *keys) for item in items])
    except Exception:
        # The shared store (Redis) went away after this request's own limit
        # was checked: counted in this worker's memory meanwhile, as
        # Flask-Limiter does for the routes; never a 500.
        if not current_app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"]:
            raise
        logging.getLogger("portail").warning(
            "Rate-limit storage unreachable: a %s limit counted in memory.", kind
        )
        return all([_memory_limiter().hit(item, *keys) for item in items])


class ContactLinks:
    """Whether a link confirming a contact e-mail may go (``accounts``'
    ``link_allowed``): counted by account, then by client address, then by
    the address it goes to (``RATELIMIT_CONTACT_EMAIL_ACCOUNT``, ``…_CLIENT``,
    ``RATELIMIT_CONTACT_EMAIL``), each counted only when those before let it
    through: an account past its own limit spends neither its colleagues'
    allowance (one office address) nor the target's. One answer
    whichever limit refused: it tells nothing of the address. ``withheld``
    says afterwards whether a link was held back."""

    def __init__(self):
        self.withheld = False

    def __call__(self, user, address: str) -> bool:
        allowed = (
            mail_allowed("CONTACT_EMAIL_ACCOUNT", user.email)
            and mail_allowed_from_client("CONTACT_EMAIL_CLIENT")
            and mail_allowed("CONTACT_EMAIL", address)
        )
        self.withheld = self.withheld or not allowed
        return allowed


@cache
def _memory_limiter() -> RateLimiter:
    return STRATEGIES[current_app.config["RATELIMIT_STRATEGY"]](MemoryStorage())


def retry_after_seconds() -> int | None:
    """Seconds until the limit the request broke lets it through again."""
    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    return max(1, int(current.reset_at - time.time()))
