"""Static files, served by WhiteNoise in front of Flask: no session, no
database, no view for them.

At start, each file of static/ and htmx (the npm package's own file, from
node_modules; never a CDN) is copied once per process to a folder of its
own under a fingerprinted name (``css/app.3f2a9c1b7e40.css``), our own
scripts and styles without their comments and spaces (rjsmin, rcssmin;
not in development, where the browser shows the files as written), and
compressed there (gzip and Brotli: WhiteNoise answers each browser with
the smallest it accepts). Pages link the fingerprinted names
(``asset_url``), which browsers keep for a year without asking again
(``immutable``): a change of content is a change of name. The plain names
stay served, with a short cache, for old links. HTML is breach.py's to
compress, and only where BREACH finds no oracle.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import shutil
import tempfile
from functools import cache
from pathlib import Path

import rcssmin
import rjsmin
from flask import Flask, has_request_context, request
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

import security

ROOT = Path(__file__).resolve().parent
STATIC = ROOT / "static"
# Files from npm packages, under the name pages use.
VENDOR = {"js/htmx.min.js": ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"}
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.\w+$")
PLAIN_MAX_AGE = 60  # seconds, for the names without a fingerprint
IMMUTABLE = "public, max-age=31536000, immutable"
# Our files as served: their comments explain them to their readers, not to
# browsers (half of app.js on the wire). npm's files come minified.
MINIFIERS = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}


def sources() -> dict[str, Path]:
    found = {str(path.relative_to(STATIC)): path for path in STATIC.rglob("*") if path.is_file()}
    return {**found, **VENDOR}


def fingerprinted(name: str, data: bytes) -> str:
    stem, dot, extension = name.rpartition(".")
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:12]}.{extension}" if dot else name


def minified(name: str, data: bytes) -> bytes:
    """``data`` without what only its readers need, for our scripts and styles."""
    minify = MINIFIERS.get(Path(name).suffix)
    if minify is None or name in VENDOR:
        return data
    return minify(data.decode("utf-8")).encode("utf-8")


@cache
def _build(signature: tuple, minify: bool) -> tuple[str, dict[str, str]]:
    """(folder, name -> fingerprinted name), once per process and set of files."""
    folder = Path(tempfile.mkdtemp(prefix="portail-assets-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    compressor = Compressor(quiet=True)
    manifest = {}
    for name, path, *_ in signature:
        data = Path(path).read_bytes()
        if minify:
            data = minified(name, data)
        manifest[name] = fingerprinted(name, data)
        for target_name in {name, manifest[name]}:
            target = folder / target_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if compressor.should_compress(target_name):
                compressor.compress(str(target))
    return str(folder), manifest


def build(minify: bool = True) -> tuple[str, dict[str, str]]:
    signature = []
    for name, path in sorted(sources().items()):
        stat = path.stat()  # a changed file (development) builds again
        signature.append((name, str(path), stat.st_mtime_ns, stat.st_size))
    return _build(tuple(signature), minify)


def _headers(headers, _path: str, url: str) -> None:
    for name, value in security.STATIC_HEADERS.items():
        headers[name] = value
    if FINGERPRINTED.search(url):
        headers["Cache-Control"] = IMMUTABLE


def init_app(app: Flask) -> None:
    folder, manifest = build(minify=not app.debug)
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=folder,
        prefix="static/",
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=lambda _path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=_headers,
    )

    def asset_url(name: str) -> str:
        """Under the root the application is mounted at (SCRIPT_NAME, e.g.
        gunicorn's): the proxy sends only that root's requests to it."""
        root = request.script_root if has_request_context() else ""
        return f"{root}/static/{manifest[name]}"

    app.jinja_env.globals["asset_url"] = asset_url
