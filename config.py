"""Configuration: defaults, then explicit settings (the factory's argument and
``FLASK_*`` environment variables), then a mode's defaults for whatever was
not given explicitly. Explicit settings always win."""

from __future__ import annotations

import os
import secrets

from flask import Flask

DEFAULTS = {
    "ACTIVATION_TTL_MINUTES": 60,
    "RESET_TTL_MINUTES": 60,
    "CAPTCHA_TTL_MINUTES": 10,
    "RESEND_COOLDOWN_SECONDS": 60,
    "MAIL_DEFAULT_SENDER": "Portail Structures <ne-pas-repondre@localhost>",
    "EXTERNAL_BASE_URL": None,
    "PASSWORD_HASH_PROFILE": "OWASP",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "CAPTCHA_FIXED_ANSWER": None,
    "MAIL_OUTBOX_DELIVERY_DELAY": 0.0,
}

# Defaults of the test mode, for keys not set explicitly.
TESTING_DEFAULTS = {
    "PASSWORD_HASH_PROFILE": "CHEAPEST",
    "RATELIMIT_ENABLED": False,
    "MAIL_SUPPRESS_SEND": True,
}

# from_prefixed_env() parses values as JSON; these must stay strings.
STRING_KEYS = (
    "SECRET_KEY",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "CAPTCHA_FIXED_ANSWER",
    "DATABASE_URL",
    "EXTERNAL_BASE_URL",
)


def load(app: Flask, config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    explicit = dict(config or {})
    app.config.from_mapping(explicit)
    app.config.from_prefixed_env()
    explicit_keys = set(explicit) | {
        key.removeprefix("FLASK_") for key in os.environ if key.startswith("FLASK_")
    }
    for key in STRING_KEYS:
        if app.config.get(key) is not None:
            app.config[key] = _raw(key, app.config[key])

    if app.testing:
        for key, value in TESTING_DEFAULTS.items():
            if key not in explicit_keys:
                app.config[key] = value

    app.config.setdefault("DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'portail.db')}")
    # Without a mail server, mail stays in the outbox: printed on the console
    # and listed on a development page.
    app.config["MAIL_DELIVERY"] = bool(app.config.get("MAIL_SERVER"))
    app.config.setdefault("DEV_OUTBOX_PAGE", is_development(app) and not app.config["MAIL_DELIVERY"])
    _check_secrets(app)


def _raw(key: str, parsed) -> str:
    """The environment's own text when the value came from there."""
    env = os.environ.get(f"FLASK_{key}")
    return env if env is not None else str(parsed)


def is_development(app: Flask) -> bool:
    return bool(app.debug or app.testing)


def _check_secrets(app: Flask) -> None:
    if app.config.get("CAPTCHA_FIXED_ANSWER") and not app.testing:
        raise RuntimeError("FLASK_CAPTCHA_FIXED_ANSWER is a test hook: it is refused unless TESTING is true.")
    if not app.config.get("SECRET_KEY"):
        if not is_development(app):
            raise RuntimeError(
                "FLASK_SECRET_KEY must be set outside development "
                '(e.g. python -c "import secrets; print(secrets.token_hex(32))").'
            )
        app.config["SECRET_KEY"] = secrets.token_hex(32)
