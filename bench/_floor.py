"""The second yardstick: the least any page of the portal does, on the same
stack, with the libraries as they come.

Every GET page of the flow carries a form (the header's language switch at
least), so it opens a session, signs its CSRF secret into the session cookie
and its token into the page (Flask-WTF); it writes one log line per request
and sends the security headers. This app does exactly that and nothing else:
a template with one form. The portal's pages cannot cost less than this;
what they cost above it is the portal's own work (its language, its account,
its database, its forms), which is where optimising can still go."""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader

app = Flask(__name__)
app.config["SECRET_KEY"] = "bench-floor-secret-key"
CSRFProtect(app)

_handler = logging.StreamHandler(sys.stderr)
_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
_log = logging.getLogger("floor.request")
_log.addHandler(_handler)
_log.setLevel(logging.INFO)
_log.propagate = False

HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cache-Control", "no-store"),
]

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Accueil</title></head>
<body><form method="post" action="/langue">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button name="language" value="en">English</button></form></body></html>"""
app.jinja_loader = DictLoader({"home.html": PAGE})  # compiled once, as a template folder's


@app.before_request
def _begin() -> None:
    request.environ["floor.started"] = time.perf_counter()


@app.after_request
def _finish(response):
    response.headers.extend(HEADERS)
    took = (time.perf_counter() - request.environ["floor.started"]) * 1000
    _log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, took)
    return response


@app.get("/")
def home() -> str:
    return render_template("home.html")
