"""Logs: plain text in development, one JSON object per line when
``FLASK_LOG_JSON=true``; and the app's own line per request (request id,
method, path with its tokens redacted, status, duration, account id).

``redact`` is also used by ``gunicorn.conf.py`` for gunicorn's access log, so
this module imports nothing of the app at module level.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

REDACTED = "[redacted]"
# A path segment that looks like a secret token: 20 URL-safe characters or more
# (activation, reset and contact-address links carry 43, from token_urlsafe(32)),
# unless it is lowercase words joined by hyphens, as the portal's own long words
# are (« verification-en-deux-etapes »). A token_urlsafe string is made of
# lowercase letters and hyphens alone once in 3·10^7 draws at 20 characters, once
# in 10^16 at 43; a hex string has no digit once in 3·10^8 at 20 (10^17 at 40),
# a string of digits never.
# The exemption reads the whole segment, never a prefix of it.
TOKEN_SEGMENT = re.compile(r"(?<=/)(?![a-z]+(?:-[a-z]+)*(?:/|$))[A-Za-z0-9_\-]{20,}(?=/|$)")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
# Probes are logged at DEBUG only: they would drown everything else.
QUIET_PATHS = frozenset({"/livez", "/readyz", "/metrics"})

LOGGER = "portail"
REQUEST_LOGGER = "portail.request"
_REQUEST_LOG = logging.getLogger(REQUEST_LOGGER)


# Control characters (a line feed, an escape sequence...) and Unicode's line
# separators: a client writes them in a path as %0A, Werkzeug decodes them.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with its control characters percent-encoded (a line feed as
    %0A): a client-supplied value never starts a line of its own in a log."""
    return CONTROL.sub(lambda match: quote(match.group(), safe=""), text)


def redact(path: str | None) -> str:
    """The path without its query string, with token-like segments replaced
    and control characters percent-encoded."""
    if not path:
        return path or ""
    path = path.split("?", 1)[0]
    return printable(TOKEN_SEGMENT.sub(REDACTED, path))


def redact_url(url: str | None) -> str:
    """A full URL (a Referer) with its path redacted and its query dropped."""
    if not url or url == "-":
        return url or ""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact(url)
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}{slash and redact('/' + path)}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the
    record's extra fields (request_id, method, path, status…)."""

    STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self.STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """One line per record: control characters in the message are
    percent-encoded (a traceback, added after it, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return printable(super().formatMessage(record))


class _OurHandler(logging.StreamHandler):
    """The handler this module installs (replaced, never stacked, when the
    factory runs again); writes to whatever sys.stderr is at the time."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


# Flask-Limiter says at INFO each refusal with the limit's key (a client
# address, an account, an e-mail address's key): only its warnings and errors
# are written. Its logger stays at INFO for metrics.LimiterStorageWatch.
QUIETER = {"flask-limiter": logging.WARNING}


def configure(json_lines: bool, names=(LOGGER, "flask-limiter"), level: int = logging.INFO) -> None:
    """Send the records of these loggers (the portal's, Flask-Limiter's) to
    stderr, as JSON lines or plain text."""
    formatter = (
        JsonFormatter() if json_lines else PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handlers: dict[int, _OurHandler] = {}
    for name in names:
        handler_level = QUIETER.get(name, logging.NOTSET)
        handler = handlers.get(handler_level)
        if handler is None:
            handler = handlers[handler_level] = _OurHandler()
            handler.setLevel(handler_level)
            handler.setFormatter(formatter)
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _OurHandler)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)


def unconfigure() -> None:
    """Remove what ``configure`` installed (tests)."""
    for logger in [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]:
        for old in [h for h in logger.handlers if isinstance(h, _OurHandler)]:
            logger.removeHandler(old)


# -- per request -----------------------------------------------------------------------


def _begin() -> None:
    from flask import g, request

    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.log_started = time.perf_counter()


def _account_id() -> int | None:
    """The signed-in account's id, when the request loaded it (never loads it)."""
    from flask import g

    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "id", None)


def _finish(response):
    from flask import current_app, g, request

    request = request._get_current_object()  # one look-up through the proxy, not eleven
    started = g.pop("log_started", None)
    request_id = g.get("request_id")
    if request_id:
        response.headers.setdefault("X-Request-ID", request_id)
    if started is None or not current_app.config["LOG_REQUESTS"]:
        return response
    raw_path = request.path
    level = logging.DEBUG if raw_path in QUIET_PATHS else logging.INFO
    logger = _REQUEST_LOG
    if not logger.isEnabledFor(level):
        return response
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    path, method, status = redact(raw_path), printable(request.method), response.status_code
    fields = {
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "account_id": _account_id(),
        "client": request.remote_addr,
    }
    # The record made directly: Logger.log would walk the stack for the
    # caller's file and line, which no format here shows (always this function).
    record = logger.makeRecord(
        logger.name, level, __file__, 0, "%s %s %s %.1f ms", (method, path, status, duration_ms), None,
        "_finish", fields,
    )  # fmt: skip
    logger.handle(record)
    return response


def init_app(app) -> None:
    """LOG_JSON: JSON lines. LOG_REQUESTS: the app's line per request (on
    outside development, where gunicorn's access log is then unneeded)."""
    import config

    app.config.setdefault("LOG_JSON", False)
    app.config.setdefault("LOG_REQUESTS", not config.is_development(app))
    json_lines = bool(app.config["LOG_JSON"])
    if json_lines:
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)
        configure(True, names=(LOGGER, "flask-limiter", app.logger.name))
    elif not config.is_development(app):
        configure(False)
    app.before_request(_begin)
    app.after_request(_finish)
