"""Prometheus metrics at ``/metrics``.

Under gunicorn every worker is a process of its own: ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` before any worker imports this module, so each
worker writes its counters to files there and a scrape, whichever worker
answers it, adds up all of them (prometheus_client's multiprocess mode; the
``child_exit`` hook marks a dead worker's gauges). Without that variable (one
process: ``flask run``, the tests) the process's own registry is served.

What the database knows (the outbox) is read at scrape time, so the figures
hold across workers and the ``send-mail`` process alike.

Who may read the metrics: clients from ``METRICS_ALLOWED_NETWORKS`` (local
addresses by default), or any client sending ``Authorization: Bearer
<METRICS_TOKEN>`` when a token is set. Anyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

import audit
import config
from audit import Event, Outcome
from extensions import limiter
from models import OutboxMail, utcnow

PREFIX = "portail_"
disable_created_metrics()  # no *_created series: they double the output for nothing here

REQUEST_SECONDS = Histogram(
    PREFIX + "http_request_duration_seconds",
    "Time to answer a request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter(
    PREFIX + "http_requests",
    "Requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
RATE_LIMIT_REFUSALS = Counter(
    PREFIX + "rate_limit_refusals", "Requests refused with 429 by a rate limit, by endpoint.", ["endpoint"]
)
RATE_LIMIT_STORAGE_FAILURES = Counter(
    PREFIX + "rate_limit_storage_failures",
    "Times a worker found the rate-limit storage (Redis) unreachable and fell back "
    "to counting in its own memory.",
)
RATE_LIMIT_STORAGE_RECOVERIES = Counter(
    PREFIX + "rate_limit_storage_recoveries", "Times a worker went back to the shared rate-limit storage."
)
RATE_LIMIT_IN_FALLBACK = Gauge(
    PREFIX + "rate_limit_storage_fallback_workers",
    "Workers counting rate limits in their own memory because the shared storage is down.",
    multiprocess_mode="livesum",
)

# Audit events (audit.py) counted as business metrics: (event, outcome) -> counter.
SIGN_UPS = Counter(PREFIX + "sign_ups", "Accounts created (pending until activated).")
ACTIVATIONS = Counter(PREFIX + "activations", "Accounts activated.")
STRUCTURES = Counter(PREFIX + "structures_created", "Structures created.")
ATTACHMENT_REQUESTS = Counter(PREFIX + "attachment_requests", "Requests to be attached to a structure.")
SIGN_IN_THROTTLES = Counter(
    PREFIX + "sign_in_throttles", "Sign-ins refused by the per-account throttle (too many failures)."
)
SIGN_IN_FAILURES = Counter(PREFIX + "sign_in_failures", "Failed sign-ins (wrong password, unknown address…).")
EVENT_COUNTERS = {
    (Event.ACCOUNT_CREATED, Outcome.SUCCESS): SIGN_UPS,
    (Event.ACCOUNT_ACTIVATED, Outcome.SUCCESS): ACTIVATIONS,
    (Event.STRUCTURE_CREATED, Outcome.SUCCESS): STRUCTURES,
    (Event.MEMBERSHIP_REQUESTED, Outcome.SUCCESS): ATTACHMENT_REQUESTS,
    (Event.SIGN_IN, Outcome.THROTTLED): SIGN_IN_THROTTLES,
    (Event.SIGN_IN, Outcome.FAILURE): SIGN_IN_FAILURES,
}

bp = Blueprint("metrics", __name__)
PROBES = {"/livez": "health.livez", "/readyz": "health.readyz"}  # answered before routing


def count_event(event: str, outcome: str) -> None:
    """An audit event was recorded (audit.LISTENERS)."""
    counter = EVENT_COUNTERS.get((event, outcome))
    if counter is not None:
        counter.inc()


class OutboxCollector:
    """Outbox depth and failures, read from the database at scrape time."""

    def collect(self):
        pending = OutboxMail.select().where(OutboxMail.sent_at.is_null() & OutboxMail.given_up_at.is_null())
        depth = GaugeMetricFamily(
            PREFIX + "outbox_pending", "Mails in the outbox not delivered yet, still tried."
        )
        depth.add_metric([], pending.count())
        given_up = GaugeMetricFamily(
            PREFIX + "outbox_given_up",
            "Undelivered mails no longer tried (refused for good, or past MAIL_GIVE_UP_HOURS), until purged.",
        )
        given_up.add_metric(
            [],
            OutboxMail.select()
            .where(OutboxMail.sent_at.is_null() & OutboxMail.given_up_at.is_null(False))
            .count(),
        )
        failing = GaugeMetricFamily(
            PREFIX + "outbox_failing",
            "Undelivered mails whose last delivery attempt failed (they are retried with backoff).",
        )
        failing.add_metric([], pending.where(OutboxMail.attempts > 0).count())
        oldest = pending.order_by(OutboxMail.created_at).first()
        age = GaugeMetricFamily(
            PREFIX + "outbox_oldest_pending_seconds", "Age of the oldest undelivered mail (0 when none)."
        )
        age.add_metric([], (utcnow() - oldest.created_at).total_seconds() if oldest else 0.0)
        yield from (depth, failing, age, given_up)


def exposition() -> bytes:
    """The metrics text: every worker's (multiprocess) or this process's, and the outbox's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    return text + generate_latest(outbox)


def allowed() -> bool:
    """The request may read /metrics (and /readyz's details)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions["metrics_networks"])


@bp.get("/metrics")
def metrics() -> Response:
    if not allowed():
        abort(404)
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)


# -- per request -----------------------------------------------------------------------


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


# Each metric's labelled series, kept: ``labels()`` turns the values to
# strings and takes the metric's lock each time. The series themselves are
# prometheus_client's (per process, and per worker file in multiprocess mode).
_SERIES: dict[tuple, object] = {}
_SERIES_KEPT = 2000  # endpoints x methods x statuses
# A label takes only values the portal chose: a client's method (gunicorn
# accepts any 3 to 20 capitals) would add series, in every worker's file, for
# as long as the metrics directory lives. The endpoint is a route's name (or
# « unmatched » for every 404), the status one the app answered.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _series(metric, *values):
    key = (metric, *values)
    found = _SERIES.get(key)
    if found is None:
        found = metric.labels(*values)
        if len(_SERIES) < _SERIES_KEPT:
            _SERIES[key] = found
    return found


def _observe(response):
    started = g.pop("metrics_started", None)
    current = request._get_current_object()
    endpoint = current.endpoint or PROBES.get(current.path, "unmatched")
    method, status = current.method, response.status_code
    if method not in METHODS:
        method = "other"
    if started is not None:
        _series(REQUEST_SECONDS, endpoint, method).observe(time.perf_counter() - started)
    _series(REQUESTS, endpoint, method, str(status)).inc()
    # A refusal answered otherwise than with a 429 (the captcha's audio, spoken
    # to a player: views.captcha) is one all the same.
    if status == 429 or g.get("refused_otherwise"):
        _series(RATE_LIMIT_REFUSALS, endpoint).inc()
    return response


# -- the rate-limit storage ---------------------------------------------------------------


class LimiterStorageWatch(logging.Handler):
    """Flask-Limiter falls back to per-process memory when Redis is down
    (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and says so on its logger, once per
    outage and worker: count it, and say it again loudly on the app's logger
    (the limits keep working, but per worker: never a silent fail-open)."""

    FELL_BACK = "falling back to in-memory storage"
    RECOVERED = "storage recovered"

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.FELL_BACK in message:
            RATE_LIMIT_STORAGE_FAILURES.inc()
            RATE_LIMIT_IN_FALLBACK.set(1)
            logging.getLogger("portail").error(
                "Rate-limit storage unreachable: limits are counted per worker until it is back."
            )
        elif self.RECOVERED in message:
            RATE_LIMIT_STORAGE_RECOVERIES.inc()
            RATE_LIMIT_IN_FALLBACK.set(0)
            logging.getLogger("portail").warning("Rate-limit storage back: shared limits restored.")


def _watch_limiter_storage() -> None:
    logger = logging.getLogger("flask-limiter")
    if not any(isinstance(handler, LimiterStorageWatch) for handler in logger.handlers):
        logger.addHandler(LimiterStorageWatch(level=logging.INFO))
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    try:
        app.extensions["metrics_networks"] = [
            ipaddress.ip_network(network, strict=False)
            for network in app.config["METRICS_ALLOWED_NETWORKS"] or []
        ]
    except (TypeError, ValueError) as error:  # config.load refused it already
        message = f"FLASK_METRICS_ALLOWED_NETWORKS: a JSON list of networks ({error})"
        raise config.SettingError(message) from None
    if count_event not in audit.LISTENERS:
        audit.LISTENERS.append(count_event)
    _watch_limiter_storage()
    RATE_LIMIT_IN_FALLBACK.set(0)
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)
    limiter.exempt(bp)
