"""How the app is served: checks made once the server has started it
(``gunicorn.conf.py`` calls them in each worker)."""

from __future__ import annotations

import logging

from flask import Flask

import config

logger = logging.getLogger("portail")


def check_limit_store(app: Flask, workers: int) -> bool:
    """Warn when several workers count rate limits each in its own memory
    (every limit is then multiplied by the number of workers). True if warned."""
    store = str(app.config.get("RATELIMIT_STORAGE_URI", ""))
    if (
        workers > 1
        and store.startswith("memory://")
        and app.config.get("RATELIMIT_ENABLED")
        and not config.is_development(app)
    ):
        logger.warning(
            "Rate limits are counted in each worker's memory (FLASK_RATELIMIT_STORAGE_URI=%s) "
            "while %d workers serve: every limit lets through up to %d times as many requests. "
            "Run Redis and set FLASK_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (README: Production).",
            store,
            workers,
            workers,
        )
        return True
    return False
