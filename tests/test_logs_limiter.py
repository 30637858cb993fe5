"""What the rate limits leave behind: keys for e-mail addresses that only the
portal can compute (an HMAC under a key derived from SECRET_KEY), and no line
per refusal in the logs (Flask-Limiter's INFO lines name the key)."""

from __future__ import annotations

import hashlib
import logging

import metrics
import security
from rules.email import lookup_email
from tests.support.app import clean_environment, production_app_over_http
from tests.support.constants import EMAIL

SECRET = "production-secret-0123456789abcdef"


def plain_hash(email: str) -> str:
    return hashlib.sha256(lookup_email(email).encode()).hexdigest()


def test_attack_a_refusal_in_the_logs_does_not_confirm_a_guessed_address(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path, RATELIMIT_SIGN_IN_EMAIL="1 per hour")
    client = app.test_client()
    statuses = [
        client.submit("/connexion", {"email": EMAIL, "password": "pas le bon"}).status_code for _ in range(2)
    ]
    assert statuses[-1] == 429
    written = capsys.readouterr().err
    assert "portail.request" in written  # the logs are written, at INFO
    assert plain_hash(EMAIL) not in written
    assert "exceeded" not in written and "email:" not in written


def test_attack_an_email_key_is_not_a_plain_hash_of_the_address(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = production_app_over_http(tmp_path)
    with app.test_request_context():
        key = security.email_key(EMAIL)
        assert key.startswith("email:") and plain_hash(EMAIL) not in key
        assert security.email_key(EMAIL.upper()) == key  # normalised first
        app.config["SECRET_KEY"] = SECRET + "-other"
        assert security.email_key(EMAIL) != key  # no one without the secret computes it


def test_the_limit_storage_watch_still_hears_flask_limiter(tmp_path, monkeypatch, capsys):
    clean_environment(monkeypatch)
    production_app_over_http(tmp_path)
    before = metrics.RATE_LIMIT_STORAGE_RECOVERIES._value.get()
    logging.getLogger("flask-limiter").info("Rate limit storage recovered")
    assert metrics.RATE_LIMIT_STORAGE_RECOVERIES._value.get() == before + 1
    assert "Rate-limit storage back" in capsys.readouterr().err
    logging.getLogger("flask-limiter").warning("This storage type does not support being reset")
    assert "does not support being reset" in capsys.readouterr().err  # its warnings are written
