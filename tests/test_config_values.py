"""Settings that are wrong stop the start, each with one line naming it:
config.load checks every value's kind (a text from the environment where a
boolean, a number, a limit, a URL or a list is expected), not the first
request that reads it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import config
from app import create_app
from tests.support.app import clean_environment, make_app, production_app
from tests.support.gunicorn_server import ROOT, Gunicorn, production_environment


def refused(tmp_path, monkeypatch, key: str, value: str, *, testing: bool = False, **settings) -> str:
    """The message of the refusal when FLASK_<key>=value is in the environment."""
    clean_environment(monkeypatch)
    monkeypatch.setenv(f"FLASK_{key}", value)
    with pytest.raises(config.SettingError) as error:
        make_app(tmp_path, **settings) if testing else production_app(tmp_path, **settings)
    message = str(error.value)
    assert message.startswith(f"FLASK_{key}") and "\n" not in message
    return message


def started(tmp_path, monkeypatch, testing: bool = False, **environment: str):
    clean_environment(monkeypatch)
    for key, value in environment.items():
        monkeypatch.setenv(f"FLASK_{key}", value)
    return make_app(tmp_path) if testing else production_app(tmp_path)


# -- 1. rate limits --------------------------------------------------------------------


@pytest.mark.parametrize("value", ["20 par minute", "20 per minute; deux cents par jour", "", "null", "20"])
def test_attack_a_misspelt_limit_does_not_turn_it_off(tmp_path, monkeypatch, value):
    """Flask-Limiter skips a limit it cannot parse: every sign-in let through."""
    message = refused(tmp_path, monkeypatch, "RATELIMIT_SIGN_IN", value)
    assert "20 per minute" in message  # what is expected


def test_attack_a_misspelt_mail_limit_stops_the_start_not_each_mail(tmp_path, monkeypatch):
    refused(tmp_path, monkeypatch, "RATELIMIT_RESET_EMAIL", "3 par quart d'heure")


def test_attack_an_unknown_strategy_stops_the_start(tmp_path, monkeypatch):
    message = refused(tmp_path, monkeypatch, "RATELIMIT_STRATEGY", "leaky-bucket")
    assert "moving-window" in message


def test_limits_in_the_notation_start(tmp_path, monkeypatch):
    app = started(tmp_path, monkeypatch, RATELIMIT_SIGN_IN="5/minute;100 per day")
    assert app.config["RATELIMIT_SIGN_IN"] == "5/minute;100 per day"


# -- 3. booleans and numbers -----------------------------------------------------------


@pytest.mark.parametrize("word", ["False", "FALSE", "false", "no", "No", "off", "OFF", "0"])
@pytest.mark.parametrize(
    "key", ["PASSKEY_SIGN_IN", "STRUCTURE_MODERATION", "RATELIMIT_ENABLED", "SIRENE_CHECK"]
)
def test_attack_a_false_written_otherwise_is_false(tmp_path, monkeypatch, key, word):
    app = started(tmp_path, monkeypatch, **{key: word})
    assert app.config[key] is False


@pytest.mark.parametrize("word", ["no", "off", "No"])
def test_attack_debug_no_is_not_development(tmp_path, monkeypatch, word):
    """FLASK_DEBUG=no was a true text: development mode, a random secret, the mail page open."""
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_DEBUG", word)
    monkeypatch.setenv("FLASK_SECRET_KEY", "s")
    with pytest.raises(config.SettingError, match="must be set outside development"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"})


@pytest.mark.parametrize("word", ["True", "TRUE", "yes", "On", "1"])
def test_a_true_written_otherwise_is_true(tmp_path, monkeypatch, word):
    app = started(tmp_path, monkeypatch, STRUCTURE_MODERATION=word, LOG_JSON=word)
    assert app.config["STRUCTURE_MODERATION"] is True and app.config["LOG_JSON"] is True


@pytest.mark.parametrize("word", ["maybe", "non", "2", "null", "[]"])
@pytest.mark.parametrize(
    "key", ["PASSKEY_SIGN_IN", "RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE", "MAIL_USE_TLS"]
)
def test_attack_a_boolean_that_is_neither_stops_the_start(tmp_path, monkeypatch, key, word):
    assert "true or false" in refused(tmp_path, monkeypatch, key, word)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TRUSTED_PROXIES", "abc"),
        ("TRUSTED_PROXIES", "-1"),
        ("MAIL_PORT", "smtp"),
        ("SIGN_IN_THROTTLE_AFTER", "cinq"),
        ("DATABASE_LOCK_TIMEOUT_MS", "5 s"),
        ("SIRENE_API_TIMEOUT", "deux"),
        ("MAX_CONTENT_LENGTH", "1 Mo"),
        ("SESSION_MAX_AGE_DAYS", "true"),
    ],
)
def test_attack_a_text_where_a_number_is_expected_stops_the_start(tmp_path, monkeypatch, key, value):
    assert "a number" in refused(tmp_path, monkeypatch, key, value)


def test_numbers_start(tmp_path, monkeypatch):
    app = started(tmp_path, monkeypatch, TRUSTED_PROXIES="1", SIRENE_API_TIMEOUT="1.5", MAIL_PORT="587")
    assert started(tmp_path, monkeypatch, MAIL_TIMEOUT="0.5").config["MAIL_TIMEOUT"] == 0.5
    assert (app.config["TRUSTED_PROXIES"], app.config["SIRENE_API_TIMEOUT"], app.config["MAIL_PORT"]) == (
        1,
        1.5,
        587,
    )


# -- 4. the password hash profile ---------------------------------------------------------


def test_attack_an_unknown_hash_profile_stops_the_start_not_each_sign_in(tmp_path, monkeypatch):
    refused(tmp_path, monkeypatch, "PASSWORD_HASH_PROFILE", "bogus")
    refused(tmp_path, monkeypatch, "PASSWORD_HASH_PROFILE", "bogus", testing=True)


def test_attack_the_tests_cheap_profile_is_refused_outside_testing(tmp_path, monkeypatch):
    assert "OWASP" in refused(tmp_path, monkeypatch, "PASSWORD_HASH_PROFILE", "CHEAPEST")
    assert started(tmp_path, monkeypatch, testing=True, PASSWORD_HASH_PROFILE="CHEAPEST").testing
    app = started(tmp_path, monkeypatch, PASSWORD_HASH_PROFILE="RFC_9106_LOW_MEMORY")
    assert app.config["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"


# -- 5. the external base URL -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "portail.example.fr",
        "//portail.example.fr",
        "ftp://portail.example.fr",
        "https://",
        "https://portail.example.fr/?next=/x",
        "https://portail.example.fr/#x",
        "https://moi@portail.example.fr",
        "https://portail.example.fr:99999",
        "https://portail.example.fr:port",
        " https://portail.example.fr",
    ],
)
def test_attack_a_base_url_that_is_not_one_stops_the_start(tmp_path, monkeypatch, url):
    refused(tmp_path, monkeypatch, "EXTERNAL_BASE_URL", url)
    refused(tmp_path, monkeypatch, "EXTERNAL_BASE_URL", url, testing=True)


def test_attack_a_plain_http_base_url_with_secure_cookies_stops_the_start(tmp_path, monkeypatch):
    assert "https://" in refused(tmp_path, monkeypatch, "EXTERNAL_BASE_URL", "http://portail.example.fr")


def test_plain_http_starts_when_its_cookies_are_set_for_it(tmp_path, monkeypatch):
    """The README's plain-HTTP setup: FLASK_SESSION_COOKIE_SECURE=false and a name without prefix."""
    app = started(
        tmp_path, monkeypatch, EXTERNAL_BASE_URL="http://portail.test:8080/portail",
        SESSION_COOKIE_SECURE="false", SESSION_COOKIE_NAME="session",
    )  # fmt: skip
    assert app.config["EXTERNAL_BASE_URL"] == "http://portail.test:8080/portail"
    assert started(tmp_path, monkeypatch, testing=True, EXTERNAL_BASE_URL="http://localhost:5000").testing


# -- 9. cookie prefixes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "plain"), [("SESSION", "session"), ("REMEMBER", "remember_token"), ("DEVICE", "device")]
)
def test_attack_a_prefixed_cookie_without_secure_stops_the_start(tmp_path, monkeypatch, prefix, plain):
    """Browsers drop a __Host- cookie without Secure: every form would fail its CSRF check."""
    message = refused(tmp_path, monkeypatch, f"{prefix}_COOKIE_SECURE", "false")
    assert f"FLASK_{prefix}_COOKIE_NAME={plain}" in message


def test_attack_a_secure_prefix_of_ones_own_without_secure_stops_the_start(tmp_path, monkeypatch):
    refused(tmp_path, monkeypatch, "SESSION_COOKIE_SECURE", "false", SESSION_COOKIE_NAME="__Secure-s")


# -- 11. values that stopped the start with a traceback -----------------------------------


@pytest.mark.parametrize("value", ["10.0.0.0/8", '"10.0.0.0/8"', '["10.0.0.0/33"]', "[8]", "{}"])
def test_attack_networks_not_in_a_list_stop_the_start(tmp_path, monkeypatch, value):
    refused(tmp_path, monkeypatch, "METRICS_ALLOWED_NETWORKS", value)


def test_a_list_of_networks_starts(tmp_path, monkeypatch):
    app = started(tmp_path, monkeypatch, METRICS_ALLOWED_NETWORKS='["10.0.0.0/8", "::1/128"]')
    assert len(app.extensions["metrics_networks"]) == 2


@pytest.mark.parametrize("url", ["mysql://portail:tres-secret@x/y", "portail.db", "sqlite"])
def test_attack_a_database_url_of_another_kind_stops_the_start(tmp_path, monkeypatch, url):
    message = refused(tmp_path, monkeypatch, "DATABASE_URL", url)
    assert "tres-secret" not in message


@pytest.mark.parametrize("secret", ["secret", "x" * 31])
def test_attack_a_short_secret_key_stops_the_start_outside_development(tmp_path, monkeypatch, secret):
    assert "32" in refused(tmp_path, monkeypatch, "SECRET_KEY", secret)
    assert started(tmp_path, monkeypatch, testing=True, SECRET_KEY=secret).secret_key == secret
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", secret)
    assert create_app({"DEBUG": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}).debug


# -- one line, under flask and under gunicorn ---------------------------------------------


def test_attack_a_wrong_value_is_one_line_for_a_command_and_help_still_works(tmp_path):
    env = production_environment(tmp_path, FLASK_TRUSTED_PROXIES="abc", FLASK_DATABASE_URL="mysql://x/y")

    def flask(*args):
        return subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    result = flask("routes")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: FLASK_TRUSTED_PROXIES: a number (0 or more) is expected, not 'abc'."
    ]
    shown = flask("--help")
    assert shown.returncode == 0 and "init-db" in shown.stdout and "Traceback" not in shown.stderr


def test_attack_a_misspelt_limit_stops_gunicorn_with_exit_4_and_one_line(tmp_path):
    env = production_environment(tmp_path, FLASK_RATELIMIT_SIGN_IN="20 par minute")
    server = Gunicorn(env, workers=1, log=tmp_path / "gunicorn.log")
    with pytest.raises(RuntimeError, match="gunicorn exited"):
        server.start()
    assert server.process.wait(timeout=30) == 4
    log = server.log_text()
    assert "Traceback" not in log and "App failed to load" in log
    assert sum("FLASK_RATELIMIT_SIGN_IN" in line for line in log.splitlines()) == 1
