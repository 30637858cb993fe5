"""Health probes for the process manager and the load balancer.

- ``/livez``: the process answers; nothing else is checked (a restart would
  not cure a database outage).
- ``/readyz``: the database answers, its schema is at the version this code
  expects, and the rate-limit storage (Redis) answers when one is configured.
  200 with each part "ok", or 503 naming the part that failed. The parts
  are named only to those who may read ``/metrics`` (its networks or its
  token): anyone else gets the status alone, for a stranger watching for
  Redis to fail would learn when the limits fall back to each worker's count.

Both are answered by the first ``before_request`` function, registered before
the database's, so they open no connection of their own accord, are never
rate-limited (Flask-Limiter's check comes later), set no cookie and are not
logged (the request log's hooks come later too).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request

PATHS = ("/livez", "/readyz")
logger = logging.getLogger("portail.health")


def _database() -> tuple[str | None, str | None]:
    """(database problem, schema problem); None where all is well."""
    import migrations
    from models import db

    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
    except Exception as error:  # noqa: BLE001 - peewee's or the driver's own error classes
        logger.warning("Readiness: database unreachable: %s", error)
        return "unreachable", "unknown"
    try:
        version = migrations.current_version()
    except Exception:  # noqa: BLE001 - no schema_version table yet
        version = 0
    if version != migrations.SCHEMA_VERSION:
        return None, f"version {version}, expected {migrations.SCHEMA_VERSION} (run init-db)"
    return None, None


def _rate_limit_storage() -> str | None:
    from extensions import limiter

    config = current_app.config
    if not config.get("RATELIMIT_ENABLED") or str(config.get("RATELIMIT_STORAGE_URI", "")).startswith(
        "memory://"
    ):
        return None
    try:
        reachable = limiter.storage.check()
    except Exception as error:  # noqa: BLE001 - any storage error means "not ready"
        logger.warning("Readiness: rate-limit storage error: %s", error)
        reachable = False
    return None if reachable else "unreachable"


def _probe():
    if request.path not in PATHS or request.method not in ("GET", "HEAD"):
        return None
    if request.path == "/livez":
        return jsonify(status="ok")
    database, schema = _database()
    checks = {"database": database, "schema": schema, "rate_limit_storage": _rate_limit_storage()}
    failing = {name: problem for name, problem in checks.items() if problem}
    status = 503 if failing else 200
    summary = "unavailable" if failing else "ok"
    from metrics import allowed

    if not allowed():
        return jsonify(status=summary), status
    body = {name: (problem or "ok") for name, problem in checks.items()}
    if failing:
        return jsonify(status=summary, checks=body, failing=sorted(failing)), status
    return jsonify(status=summary, checks=body)


def init_app(app: Flask) -> None:
    """Call before any other extension registers a ``before_request``."""
    app.before_request(_probe)
