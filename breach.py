"""Compressed pages without a BREACH oracle.

BREACH reads a secret out of a compressed HTTPS response by its length: the
attacker makes the victim's browser send many requests that reflect a guess
next to the secret, and watches the sizes. Two defences, each enough alone:

- The CSRF token is never written as it is: each time a page carries it, it
  carries it under a fresh random mask (the mask, then the token XOR the
  mask, as Django and Rails do), so no two answers share the secret's bytes
  and a guess cannot compress against it. What the browser sends back is
  unmasked before Flask-WTF checks it; an unmasked token still passes.
- HTML is compressed only for requests the browser itself marks as coming
  from the portal's own pages (``Sec-Fetch-Site: same-origin``) or from the
  person (``none``: a typed address, a bookmark), never for one another site
  made it send: the requests an attacker can make the browser send never get
  a compressed answer. A browser that sends no fetch metadata (plain HTTP on
  an intranet name, old browsers) gets its pages uncompressed.

Static files are WhiteNoise's, compressed ahead of time (assets.py)."""

from __future__ import annotations

import base64
import binascii
import secrets
import zlib
from contextlib import contextmanager

import flask_wtf.csrf
from flask import Flask, Response, g, request

import signing

MASKED = "m~"  # itsdangerous' tokens start with base64 of '"': never this
TOKEN_LONGEST = 1024  # far above a masked token; longer is refused unread
COMPRESSED_SMALLEST = 1024  # below this, gzip's header and the CPU are not worth it
LEVEL = 6
TRUSTED_FETCHES = frozenset({"same-origin", "none"})
VARY = "Accept-Encoding, Sec-Fetch-Site"  # what a compressed answer depends on

_generate_csrf = signing.generate_csrf  # Flask-WTF's, at less cost
_validate_csrf = flask_wtf.csrf.validate_csrf


def mask(token: str) -> str:
    """``token`` under a fresh random mask."""
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    masked = (int.from_bytes(raw, "big") ^ int.from_bytes(pad, "big")).to_bytes(len(raw), "big")
    return MASKED + base64.urlsafe_b64encode(pad + masked).decode().rstrip("=")


def unmask(value):
    """The token a masked value carries; a value not masked is given back
    as it is, one that does not decode as "" (Flask-WTF: token missing)."""
    if not isinstance(value, str) or not value.startswith(MASKED):
        return value
    if len(value) > TOKEN_LONGEST:
        return ""
    body = value[len(MASKED) :]
    try:
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, binascii.Error):
        return ""
    size, odd = divmod(len(data), 2)
    if odd or not size:
        return ""
    raw = (int.from_bytes(data[:size], "big") ^ int.from_bytes(data[size:], "big")).to_bytes(size, "big")
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        return ""


def generate_csrf(secret_key=None, token_key=None) -> str:
    """Flask-WTF's token, masked afresh on each call (every form, every page)."""
    token = _generate_csrf(secret_key, token_key)
    return token if g.get("_csrf_unmasked") else mask(token)


def validate_csrf(data, secret_key=None, time_limit=None, token_key=None):
    return _validate_csrf(unmask(data), secret_key, time_limit, token_key)


@contextmanager
def unmasked():
    """Tokens written as they are inside: for a page whose token is a
    stand-in that each answer replaces (views.shared_page)."""
    g._csrf_unmasked = True
    try:
        yield
    finally:
        g.pop("_csrf_unmasked", None)


def raw_token_payload() -> str:
    """The part of the request's unmasked token that names its secret (what
    comes before the timestamp and signature)."""
    return _generate_csrf().split(".", 1)[0]


def fill(html: str, stand_in: str) -> str:
    """``html`` with each ``stand_in`` replaced by the request's token, masked afresh."""
    first, *rest = html.split(stand_in)
    if not rest:
        return html
    token = _generate_csrf()
    return first + "".join(mask(token) + part for part in rest)


def _compress(response: Response) -> Response:
    # Read from the headers and the environ directly: this runs on every answer.
    headers = response.headers
    if not headers.get("Content-Type", "").startswith("text/html") or response.direct_passthrough:
        return response
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, {VARY}" if vary else VARY
    if (
        request.environ.get("HTTP_SEC_FETCH_SITE") not in TRUSTED_FETCHES
        or "Content-Encoding" in headers
        or response.status_code in (204, 304)
        or response.is_streamed
        or not request.accept_encodings["gzip"]
    ):
        return response
    data = response.get_data()
    if len(data) < COMPRESSED_SMALLEST:
        return response
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: the gzip format
    response.set_data(compressor.compress(data) + compressor.flush())
    headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    """Before CSRFProtect's init_app (it hands ``generate_csrf`` to the
    templates) and before the hooks that set headers: the compression runs
    after them all."""
    # Flask-WTF's forms and CSRFProtect find both functions in their module.
    flask_wtf.csrf.generate_csrf = generate_csrf
    flask_wtf.csrf.validate_csrf = validate_csrf
    app.after_request(_compress)
