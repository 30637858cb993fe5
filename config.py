"""Configuration: defaults, then explicit settings (the factory's argument and
``FLASK_*`` environment variables), then a mode's defaults for whatever was
not given explicitly. Explicit settings always win."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os
import secrets
from urllib.parse import unquote, urlsplit

from flask import Flask

try:
    # gunicorn reports an error of this kind in one line and stops (exit 4,
    # « App failed to load. ») instead of logging a traceback per worker.
    from gunicorn.errors import AppImportError as _ServerLoadError
except ImportError:  # pragma: no cover - gunicorn is a production requirement
    _ServerLoadError = Exception


class SettingError(RuntimeError, _ServerLoadError):
    """A setting that is required outside development is missing, or one
    that is refused there is set: the app does not start."""


DEFAULTS = {
    "ACTIVATION_TTL_MINUTES": 60,
    "RESET_TTL_MINUTES": 60,
    "CONTACT_TTL_MINUTES": 1440,  # the link confirming a contact e-mail
    "CAPTCHA_TTL_MINUTES": 10,
    "RESEND_COOLDOWN_SECONDS": 60,
    "MAIL_DEFAULT_SENDER": "Portail Structures <ne-pas-repondre@localhost>",
    # Mail: each subject starts with the portal's name; replies go to the
    # support address when there is one; connect and read timeout in seconds.
    "PORTAL_NAME": "Portail Structures",
    "SUPPORT_EMAIL": None,
    # The operator's texts: the organisation running the portal, the survey
    # consent's wording (None: the text of the Chorus Pro flow), and the
    # conditions and legal notice (Markdown .md or HTML .html files; None: a
    # default page that says it must be replaced).
    "OPERATOR_NAME": None,
    "SURVEY_CONSENT_TEXT": None,
    "TERMS_FILE": None,
    "LEGAL_FILE": None,
    # New structures wait for an operator's approval (« en attente de validation »).
    "STRUCTURE_MODERATION": False,
    "MAIL_TIMEOUT": 10,
    # DKIM signing, for relays that do not sign (the domain defaults to the sender's).
    "DKIM_PRIVATE_KEY_FILE": None,
    "DKIM_SELECTOR": None,
    "DKIM_DOMAIN": None,
    "EXTERNAL_BASE_URL": None,
    "PASSWORD_HASH_PROFILE": "OWASP",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "CAPTCHA_FIXED_ANSWER": None,
    # The audio captcha's voice bank, voices/<language> (scripts/make_voices.py).
    "CAPTCHA_AUDIO_LANGUAGE": "fr",
    # Fetches of one challenge's image and audio (the audio is the same each time).
    "CAPTCHA_IMAGE_FETCHES": 5,
    "CAPTCHA_AUDIO_FETCHES": 5,
    # Reverse proxies in front of the app whose X-Forwarded-* headers are
    # trusted (werkzeug ProxyFix). 0: the client address is the socket's.
    "TRUSTED_PROXIES": 0,
    # Request bodies: the whole body, a whole form (security.body_limit: also
    # each multipart field, as Werkzeug reads it), the number of multipart
    # fields. The portal's largest form is a few kilobytes; a larger body
    # gets 413.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 64 * 1024,
    "MAX_FORM_PARTS": 200,
    # Sign-in throttle: from the 5th failure in a row, attempts for that
    # account are refused for 30 s, doubling each failure, at most 15 minutes.
    "SIGN_IN_THROTTLE_AFTER": 5,
    "SIGN_IN_THROTTLE_BASE_SECONDS": 30,
    "SIGN_IN_THROTTLE_MAX_SECONDS": 900,
    "SIGN_IN_FAILURE_WINDOW_HOURS": 24,
    # A browser that signed in to an account keeps a device cookie this long:
    # it is exempt from that account's throttles (devices.py).
    "DEVICE_COOKIE_NAME": "device",
    "DEVICE_COOKIE_SECURE": False,
    "DEVICE_COOKIE_DAYS": 180,
    # Signed-in sessions end after this many days at most (sessions.py).
    "SESSION_MAX_AGE_DAYS": 30,
    # Second factors (factors/): who must have one, « optional », « managers »
    # (a gestionnaire principal) or « all »; the setting the TOTP secrets'
    # encryption key derives from (HKDF), SECRET_KEY when unset; e-mail codes.
    "TWO_FACTOR_POLICY": "optional",
    "TWO_FACTOR_KEY": None,
    "EMAIL_CODE_TTL_MINUTES": 10,
    # A passkey that verifies its user signs in on its own (no password).
    "PASSKEY_SIGN_IN": False,
    # `flask purge`: pending accounts never activated, and audit events, older than this.
    "PURGE_PENDING_AFTER_DAYS": 30,
    "AUDIT_RETENTION_DAYS": 365,
    "OUTBOX_RETENTION_DAYS": 30,  # sent (or given up) mail kept for the console, then purged
    # A mail still undelivered this long after it was written is given up
    # (Postfix's maximal_queue_lifetime: 5 days); a 5xx refusal gives it up at once.
    "MAIL_GIVE_UP_HOURS": 120,
    # Operations (health.py, metrics.py, logs.py): who may read /metrics, and
    # JSON log lines.
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"],
    "METRICS_TOKEN": None,
    # PostgreSQL: how long a request waits for a lock before it answers 503
    # (SQLite's busy_timeout is 5 s too); the commands wait as long as they must.
    "DATABASE_LOCK_TIMEOUT_MS": 5000,
    # PostgreSQL: how many times a transaction rolled back for a deadlock or a
    # serialization failure runs again (after 25–50 ms, then 50–100, 100–200)
    # before the request answers 503 (database.attempts).
    "DATABASE_TRANSACTION_RETRIES": 3,
    "LOG_JSON": False,
    # Drafts of half-filled steps (see drafts.py): step 2's, tied to the
    # browser session, and step 6's or « Mon compte »'s, tied to the account.
    "DRAFT_SIGNUP_HOURS": 24,
    "DRAFT_STRUCTURE_DAYS": 30,
    # Flask-Limiter. Several workers need a shared store, e.g. redis://localhost:6379.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # Redis down: each worker counts in its own memory until it is back (logged
    # and counted in /metrics); a Redis that hangs fails fast.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    "RATELIMIT_STRATEGY": "moving-window",
    # Limits (limits' notation), by client address and, "_EMAIL", by e-mail address.
    "RATELIMIT_SIGN_IN": "20 per minute; 200 per day",
    # Not counted for a browser known to the account (device cookie): failures
    # from such a browser count per device instead.
    "RATELIMIT_SIGN_IN_EMAIL": "10 per 15 minutes; 50 per day",
    "RATELIMIT_SIGN_IN_DEVICE": "10 per 15 minutes",
    # Step 2 only: colleagues behind one company address correct their typos;
    # the captcha (below) is what gates account creation.
    "RATELIMIT_SIGN_UP": "60 per hour; 300 per day",
    # Drafts saved as a step is typed (htmx, debounced) or by its button.
    "RATELIMIT_DRAFT": "600 per hour",
    "RATELIMIT_CAPTCHA": "20 per hour; 100 per day",
    "RATELIMIT_CAPTCHA_EMAIL": "10 per hour",
    "RATELIMIT_CAPTCHA_NEW": "60 per hour",  # new challenges (captcha page, « Nouvelle image »)
    "RATELIMIT_CAPTCHA_MEDIA": "120 per hour",
    "RATELIMIT_CAPTCHA_AUDIO": "15 per 10 minutes; 60 per day",
    "RATELIMIT_RESET": "10 per hour; 50 per day",
    "RATELIMIT_RESET_EMAIL": "3 per 15 minutes; 10 per day",
    "RATELIMIT_RESET_LINK": "20 per hour",
    "RATELIMIT_ACTIVATION_LINK": "60 per hour",  # as many as sign-ups from one address
    "RATELIMIT_CONTACT_LINK": "20 per hour",
    # Directory look-ups (step 6's in-place fill, the attachment search): each
    # may call the optional online source, whose quota the portal shares.
    "RATELIMIT_SIRENE_LOOKUP": "120 per hour",
    "RATELIMIT_RESEND": "10 per hour; 50 per day",
    "RATELIMIT_RESEND_EMAIL": "3 per 15 minutes; 10 per day",
    # Links confirming a contact e-mail (« Mon compte », and the activation of
    # a sign-up that named one): to one address, sent by one account whatever
    # the changes of address in between, and caused from one client address
    # (its accounts together; the captcha bounds how many it makes).
    "RATELIMIT_CONTACT_EMAIL": "3 per 15 minutes; 10 per day",
    "RATELIMIT_CONTACT_EMAIL_ACCOUNT": "5 per hour; 20 per day",
    "RATELIMIT_CONTACT_EMAIL_CLIENT": "30 per hour; 100 per day",
    "RATELIMIT_PASSWORD_CHANGE": "10 per 15 minutes",
    "RATELIMIT_PASSWORD_CHANGE_EMAIL": "5 per 15 minutes",
    # The password typed again by a signed-in person, by account, whatever the
    # form (its change, before a change of second factors, the account's
    # deletion) and the client address: one allowance of guesses for a stolen session.
    "RATELIMIT_PASSWORD_RETYPED": "10 per 15 minutes",
    "RATELIMIT_ADMIN": "60 per minute; 1000 per day",  # each action of « Administration »
    "RATELIMIT_ACCOUNT_DELETE": "5 per 15 minutes",
    "RATELIMIT_DATA_EXPORT": "10 per hour",
    # « Mes données », by account: it reads the account's whole history (the
    # latest of each list and how many there are in all).
    "RATELIMIT_DATA_PAGE": "60 per hour",
    # Changes a signed-in person makes to what the portal keeps of them (« Mon
    # compte »'s details, the survey's consent, the hand-over of a structure),
    # each form counted on its own, by account and by client address: each is
    # a row of the account's history (« Mes données ») and the hand-over a mail.
    "RATELIMIT_ACCOUNT_CHANGE": "120 per hour; 600 per day",
    "RATELIMIT_ACCOUNT_CHANGE_ACCOUNT": "30 per hour; 100 per day",
    # New recovery codes and a second factor removed, each counted on its own:
    # each mails the account (« Vos méthodes de connexion ont été modifiées »).
    "RATELIMIT_FACTOR_CHANGE": "60 per hour; 300 per day",
    "RATELIMIT_FACTOR_CHANGE_ACCOUNT": "10 per hour; 30 per day",
    # INSEE's SIRENE directory (`flask sirene import`): refuse at step 6 an
    # unknown SIRET and a closed establishment when a directory is loaded.
    "SIRENE_CHECK": True,
    # Optional online source for SIRETs missing from the local copy
    # (recherche-entreprises: https://recherche-entreprises.api.gouv.fr).
    "SIRENE_API_URL": None,
    "SIRENE_API_TIMEOUT": 2.0,
    "SIRENE_API_CACHE_SECONDS": 86400,
    "SIRENE_API_FAILURES_BEFORE_PAUSE": 3,
    "SIRENE_API_PAUSE_SECONDS": 60,
    # Structures and attachments, by client address and, "_ACCOUNT", by account.
    # Structure creations count only the forms that go on to create one,
    # counted as they are sent.
    "RATELIMIT_STRUCTURE_CREATE": "10 per day",
    "RATELIMIT_STRUCTURE_CREATE_ACCOUNT": "3 per day",
    "RATELIMIT_ATTACHMENT": "30 per hour",
    "RATELIMIT_ATTACHMENT_ACCOUNT": "10 per hour; 30 per day",
    "RATELIMIT_CANCEL": "30 per hour",
    "RATELIMIT_CANCEL_ACCOUNT": "10 per hour; 30 per day",
    # Structures one account may create in 24 hours, whatever the limit store
    # (counted in the database).
    "STRUCTURES_PER_ACCOUNT_PER_DAY": 3,
    # A gestionnaire principal gets at most one mail per requester and
    # structure in this interval (request, cancellation, request again...).
    "MANAGER_NOTICE_INTERVAL_MINUTES": 60,
    # Second-factor codes (sign-in and enrolment), by client and by account;
    # codes mailed; the password asked again before a change of factors.
    "RATELIMIT_SECOND_FACTOR": "30 per 15 minutes",
    "RATELIMIT_SECOND_FACTOR_EMAIL": "10 per 15 minutes; 50 per day",
    # For a browser that signed in to the account before (devices.py): exempt
    # from the account's limit above, counted on its own instead.
    "RATELIMIT_SECOND_FACTOR_DEVICE": "10 per 15 minutes",
    "RATELIMIT_EMAIL_CODE": "20 per hour",
    "RATELIMIT_EMAIL_CODE_EMAIL": "5 per 15 minutes; 20 per day",
    # Codes mailed on the sign-in's second step to a browser known to the
    # account: exempt from the account's limit above, counted on their own.
    "RATELIMIT_EMAIL_CODE_DEVICE": "5 per 15 minutes; 20 per day",
    "RATELIMIT_SECOND_FACTOR_REAUTH": "10 per 15 minutes",
    "RATELIMIT_SECOND_FACTOR_REAUTH_EMAIL": "5 per 15 minutes",
}

# Defaults outside development (neither debug nor testing): cookies only over
# HTTPS, the session cookie with the __Host- prefix (no Domain, Path=/).
PRODUCTION_DEFAULTS = {
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-session",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_NAME": "__Host-remember_token",
    "DEVICE_COOKIE_SECURE": True,
    "DEVICE_COOKIE_NAME": "__Host-device",
    "PREFERRED_URL_SCHEME": "https",
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
    "PORTAL_NAME",
    "SUPPORT_EMAIL",
    "OPERATOR_NAME",
    "SURVEY_CONSENT_TEXT",
    "TERMS_FILE",
    "LEGAL_FILE",
    "DKIM_PRIVATE_KEY_FILE",
    "DKIM_SELECTOR",
    "DKIM_DOMAIN",
    "CAPTCHA_FIXED_ANSWER",
    "CAPTCHA_AUDIO_LANGUAGE",
    "DATABASE_URL",
    "EXTERNAL_BASE_URL",
    "RATELIMIT_STORAGE_URI",
    "SESSION_COOKIE_NAME",
    "SIRENE_API_URL",
    "METRICS_TOKEN",
    "DEVICE_COOKIE_NAME",
    "TWO_FACTOR_POLICY",
    "TWO_FACTOR_KEY",
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
    # Every wrong value is reported (the first one stops the start) and
    # replaced by a harmless one, so that ``flask --help`` still loads the app.
    problems: list[SettingError] = []
    _check_booleans(app, problems)

    if app.testing:
        for key, value in TESTING_DEFAULTS.items():
            if key not in explicit_keys:
                app.config[key] = value
    if not is_development(app):
        for key, value in PRODUCTION_DEFAULTS.items():
            if key not in explicit_keys:
                app.config[key] = value

    app.config.setdefault("DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'portail.db')}")
    for check in CHECKS:
        check(app, problems)
    # Without a mail server, mail stays in the outbox: printed on the console
    # and listed on a development page.
    app.config["MAIL_DELIVERY"] = bool(app.config.get("MAIL_SERVER"))
    app.config.setdefault("DEV_OUTBOX_PAGE", is_development(app) and not app.config["MAIL_DELIVERY"])
    for check in (_check_secrets, _check_texts):
        try:
            check(app)
        except SettingError as error:
            problems.append(error)
    _check_secret_length(app, problems)
    if problems:
        raise problems[0]


def _raw(key: str, parsed) -> str:
    """The environment's own text when the value came from there."""
    env = os.environ.get(f"FLASK_{key}")
    return env if env is not None else str(parsed)


def is_development(app: Flask) -> bool:
    return bool(app.debug or app.testing)


def _check_texts(app: Flask) -> None:
    """The operator's text files must exist: a typo is found at start, not by a visitor."""
    for key in ("TERMS_FILE", "LEGAL_FILE"):
        path = app.config.get(key)
        if path and not os.path.isfile(path):
            raise SettingError(f"FLASK_{key}: no such file: {path}")
        if path and not path.lower().endswith((".md", ".markdown", ".html", ".htm")):
            raise SettingError(f"FLASK_{key}: a Markdown (.md) or HTML (.html) file is expected: {path}")


# The placeholders of deploy/portail.env.example: a secret copied from there is
# public (anyone could sign session cookies and CSRF tokens, derive captcha
# answers, decrypt TOTP secrets or read /metrics).
PLACEHOLDER_SECRETS = frozenset({"change-me", "change-me-too"})
SECRET_SETTINGS = ("SECRET_KEY", "TWO_FACTOR_KEY", "METRICS_TOKEN")


def _check_secrets(app: Flask) -> None:
    if not is_development(app):
        for key in SECRET_SETTINGS:
            if str(app.config.get(key) or "").strip().lower() in PLACEHOLDER_SECRETS:
                raise SettingError(
                    f"FLASK_{key} is still the example's placeholder: set a secret of your own "
                    '(python3 -c "import secrets; print(secrets.token_hex(32))").'
                )
        # The example's database password too: any local account (or any
        # host, where PostgreSQL listens further) could sign in as the portal.
        password = urlsplit(str(app.config.get("DATABASE_URL") or "")).password
        if password is not None and unquote(password).strip().lower() in PLACEHOLDER_SECRETS:
            raise SettingError(
                "FLASK_DATABASE_URL still has the example's password: give the portal's "
                "PostgreSQL role a password of its own (README, « Production »)."
            )
    if app.config["TWO_FACTOR_POLICY"] not in ("optional", "managers", "all"):
        raise SettingError("FLASK_TWO_FACTOR_POLICY must be optional, managers or all.")
    if app.config.get("CAPTCHA_FIXED_ANSWER") and not app.testing:
        raise SettingError("FLASK_CAPTCHA_FIXED_ANSWER is a test hook: it is refused unless TESTING is true.")
    if app.config.get("DEV_OUTBOX_PAGE") and not (is_development(app) or app.testing):
        raise SettingError(
            "FLASK_DEV_OUTBOX_PAGE shows every mail, its activation and new-password links included, "
            "to anyone: it is refused outside development."
        )
    if not app.config.get("SECRET_KEY"):
        if not is_development(app):
            raise SettingError(
                "FLASK_SECRET_KEY must be set outside development "
                '(e.g. python -c "import secrets; print(secrets.token_hex(32))").'
            )
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    if not is_development(app) and not (
        app.config.get("EXTERNAL_BASE_URL") or app.config.get("TRUSTED_HOSTS")
    ):
        # Links in mails (activation, reset) must never follow a Host header
        # that a client chose.
        raise SettingError(
            "FLASK_EXTERNAL_BASE_URL (e.g. https://portail.example.fr) or FLASK_TRUSTED_HOSTS "
            "must be set outside development: links in mails are built from it."
        )


# -- the values' kinds ---------------------------------------------------------------------
# from_prefixed_env() keeps a value that is not JSON as text: « False », « no »
# or « off » would be a true string, « 20 par minute » a limit Flask-Limiter
# skips (every request let through). Each is checked here, at start.

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
# Booleans of Flask, Flask-Mail and this portal that have no default above
# (DEBUG: FLASK_DEBUG=no would be a true text, development mode).
OTHER_BOOLEANS = (
    "DEBUG",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_SUPPRESS_SEND",
    "LOG_REQUESTS",
    "DEV_OUTBOX_PAGE",
)
# Numbers Flask reads as « no limit » when None.
NULLABLE_NUMBERS = frozenset({"MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"})
OTHER_INTEGERS = ("MAIL_PORT",)
# Numbers 0 would make senseless: a give-up window of no time gives every
# mail up at its first failure, a greylisting's « try again later » included.
POSITIVE_NUMBERS = frozenset({"MAIL_GIVE_UP_HOURS"})
# Limits in the limits' notation that are not one of the portal's RATELIMIT_* above.
NOT_LIMITS = frozenset({"RATELIMIT_STORAGE_URI", "RATELIMIT_STRATEGY"})
LIBRARY_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")
# Cookies whose name prefix browsers enforce: without Secure they are dropped.
COOKIES = (
    ("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "session"),
    ("REMEMBER_COOKIE_NAME", "REMEMBER_COOKIE_SECURE", "remember_token"),
    ("DEVICE_COOKIE_NAME", "DEVICE_COOKIE_SECURE", "device"),
)
SECRET_KEY_MIN_LENGTH = 32


def _refuse(app: Flask, problems: list, key: str, message: str, fallback) -> None:
    problems.append(SettingError(f"FLASK_{key}: {message}"))
    app.config[key] = fallback


def _boolean_keys() -> list[str]:
    keys = {
        key
        for defaults in (Flask.default_config, DEFAULTS, PRODUCTION_DEFAULTS, TESTING_DEFAULTS)
        for key, value in defaults.items()
        if isinstance(value, bool)
    }
    return sorted(keys | set(OTHER_BOOLEANS))


def _check_booleans(app: Flask, problems: list) -> None:
    """true/false in any case, 1/0, yes/no, on/off: a real bool, or the start stops."""
    for key in _boolean_keys():
        if key not in app.config:
            continue
        value = app.config[key]
        if isinstance(value, bool) or (value is None and key == "DEBUG"):
            continue
        word = str(value).strip().lower() if isinstance(value, str | int) else None
        if word in TRUE_WORDS:
            app.config[key] = True
        elif word in FALSE_WORDS:
            app.config[key] = False
        else:
            fallback = DEFAULTS.get(key, Flask.default_config.get(key, False))
            _refuse(app, problems, key, f"true or false expected, not {value!r}.", bool(fallback))


def _check_numbers(app: Flask, problems: list) -> None:
    """A text where a number is expected stops the start (not a 500 later)."""
    keys = [key for key, value in DEFAULTS.items() if isinstance(value, int | float)]
    for key in [*keys, *OTHER_INTEGERS]:
        if key not in app.config or isinstance(DEFAULTS.get(key), bool):
            continue
        value, default = app.config[key], DEFAULTS.get(key, 0)
        if value is None and key in NULLABLE_NUMBERS:
            continue
        fractions = isinstance(default, float) or key.endswith("_TIMEOUT")  # seconds: 0.5 is one
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value) if fractions else int(value.strip())
        kinds = (int, float) if fractions else (int,)
        least = 1 if key in POSITIVE_NUMBERS else 0
        if isinstance(value, bool) or not isinstance(value, kinds) or not least <= value < math.inf:
            message = f"a number ({least} or more) is expected, not {app.config[key]!r}."
            _refuse(app, problems, key, message, default)
        else:
            app.config[key] = value


def _check_limits(app: Flask, problems: list) -> None:
    """Each limit in the limits' notation (« 20 per minute; 200 per day »), a
    strategy the library knows."""
    from limits import parse_many
    from limits.strategies import STRATEGIES

    keys = [key for key in DEFAULTS if key.startswith("RATELIMIT_") and isinstance(DEFAULTS[key], str)]
    for key in [*keys, *LIBRARY_LIMITS]:
        value = app.config.get(key)
        if key in NOT_LIMITS or (key not in DEFAULTS and value is None):
            continue
        try:
            valid = isinstance(value, str) and bool(parse_many(value))
        except ValueError:
            valid = False
        if not valid:
            message = f"a limit such as « 20 per minute; 200 per day » is expected, not {value!r}."
            _refuse(app, problems, key, message, DEFAULTS.get(key))
    strategy = app.config.get("RATELIMIT_STRATEGY")
    if strategy not in STRATEGIES:
        message = f"one of {', '.join(sorted(STRATEGIES))} is expected, not {strategy!r}."
        _refuse(app, problems, "RATELIMIT_STRATEGY", message, DEFAULTS["RATELIMIT_STRATEGY"])


def _check_password_profile(app: Flask, problems: list) -> None:
    import passwords

    names = passwords.profile_names(testing=app.testing)
    if app.config.get("PASSWORD_HASH_PROFILE") not in names:
        _refuse(
            app, problems, "PASSWORD_HASH_PROFILE",
            f"one of {', '.join(names)} is expected, not {app.config.get('PASSWORD_HASH_PROFILE')!r}.",
            DEFAULTS["PASSWORD_HASH_PROFILE"],
        )  # fmt: skip


def _check_base_url(app: Flask, problems: list) -> None:
    """http(s)://host[:port][/path]: mail links and the passkeys' relying
    party come from it. HTTPS outside development, unless the cookies are set
    for plain HTTP (README: FLASK_SESSION_COOKIE_SECURE=false)."""
    base = app.config.get("EXTERNAL_BASE_URL")
    if not base:
        return
    example = "such as https://portail.example.fr is expected"
    try:
        parts = urlsplit(base)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or not port_ok
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
        or base != base.strip()
    ):
        _refuse(app, problems, "EXTERNAL_BASE_URL", f"a URL {example} (no query), not {base!r}.", None)
    elif parts.scheme == "http" and not is_development(app) and app.config.get("SESSION_COOKIE_SECURE"):
        _refuse(
            app, problems, "EXTERNAL_BASE_URL",
            f"https:// is expected outside development, not {base!r} (behind plain HTTP, set "
            "FLASK_SESSION_COOKIE_SECURE=false and FLASK_SESSION_COOKIE_NAME=session too).",
            None,
        )  # fmt: skip


def _check_cookies(app: Flask, problems: list) -> None:
    """Browsers drop a __Host- or __Secure- cookie that is not Secure: every
    form would then fail its CSRF check."""
    for name_key, secure_key, plain in COOKIES:
        name = str(app.config.get(name_key) or "")
        if name.lower().startswith(("__host-", "__secure-")) and not app.config.get(secure_key):
            _refuse(
                app, problems, secure_key,
                f"false, but the cookie is named {name}, which browsers drop without Secure: "
                f"set FLASK_{name_key}={plain} too (plain HTTP).",
                False,
            )  # fmt: skip
            app.config[name_key] = plain


def _check_networks(app: Flask, problems: list) -> None:
    networks = app.config.get("METRICS_ALLOWED_NETWORKS")
    if networks is None:
        return
    try:
        if not isinstance(networks, list | tuple) or not all(isinstance(item, str) for item in networks):
            raise ValueError("not a list of texts")
        for network in networks:
            ipaddress.ip_network(network, strict=False)
    except ValueError as error:
        _refuse(
            app, problems, "METRICS_ALLOWED_NETWORKS",
            f'a JSON list of networks such as ["10.0.0.0/8"] is expected, not {networks!r} ({error}).',
            DEFAULTS["METRICS_ALLOWED_NETWORKS"],
        )  # fmt: skip


def _check_database_url(app: Flask, problems: list) -> None:
    url = app.config.get("DATABASE_URL")
    scheme = str(url).partition("://")[0].removesuffix("+pool") if isinstance(url, str) else ""
    if scheme not in DATABASE_SCHEMES or "://" not in url:
        _refuse(
            app, problems, "DATABASE_URL",
            # The scheme only: the rest may hold a password.
            "a sqlite:///path.db or postgresql://user:password@host/name URL is expected, "
            f"not a {scheme or 'schemeless'!r} one.",
            "sqlite:///:memory:",
        )  # fmt: skip


def _check_secret_length(app: Flask, problems: list) -> None:
    key = app.config.get("SECRET_KEY")
    if key and not is_development(app) and len(str(key)) < SECRET_KEY_MIN_LENGTH:
        problems.append(
            SettingError(
                f"FLASK_SECRET_KEY is too short ({len(str(key))} characters, {SECRET_KEY_MIN_LENGTH} "
                'at least outside development): python3 -c "import secrets; print(secrets.token_hex(32))"'
            )
        )


CHECKS = (
    _check_numbers,
    _check_limits,
    _check_password_profile,
    _check_base_url,
    _check_cookies,
    _check_networks,
    _check_database_url,
)
