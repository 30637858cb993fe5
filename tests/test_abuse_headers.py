"""Security headers, cookies, and the error pages in French."""

from __future__ import annotations

import pytest
from flask import abort

import migrations
from models import db
from tests.support.app import Client, clean_environment, make_app, production_app


def test_every_response_carries_the_security_headers(client):
    for url in ("/", "/connexion", "/nulle-part", "/static/css/app.css"):
        response = client.get(url)
        response.close()
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")


def test_pages_are_never_stored_by_caches(client):
    assert client.get("/connexion").headers["Cache-Control"] == "no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_forged_x_forwarded_proto_is_not_believed_without_a_trusted_proxy(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_behind_a_trusted_proxy_https_is_known(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, TRUSTED_PROXIES=1)
    response = app.test_client().get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" in response.headers


def test_session_cookie_is_http_only_and_same_site_lax(client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run over plain HTTP


@pytest.fixture
def production(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = production_app(tmp_path)
    with app.app_context(), db.connection_context():
        migrations.migrate()
    return app


def test_in_production_cookies_are_secure_with_the_host_prefix(production):
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_HTTPONLY"] is True
    cookie = production.test_client().get("/", base_url="https://portail.example.fr").headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie


def test_production_settings_can_still_be_overridden(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_SESSION_COOKIE_NAME", "portail")
    app = production_app(tmp_path)
    assert app.config["SESSION_COOKIE_NAME"] == "portail"
    assert app.config["SESSION_COOKIE_SECURE"] is True


# -- error pages ---------------------------------------------------------------------


@pytest.fixture
def failing_app(app):
    @app.get("/interdit")
    def forbidden():
        abort(403)

    @app.get("/panne")
    def broken():
        raise RuntimeError("secret internals: /srv/portail/db")

    return app


@pytest.mark.parametrize(
    ("method", "url", "status", "title"),
    [
        ("post", "/connexion", 400, "Requête invalide"),  # no CSRF token
        ("get", "/interdit", 403, "Accès refusé"),
        ("get", "/nulle-part", 404, "Page introuvable"),
        ("get", "/panne", 500, "Erreur du service"),
    ],
)
def test_error_pages_are_in_french_without_internals(failing_app, any_client, method, url, status, title):
    response = getattr(any_client, method)(url)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret internals" not in text and "RuntimeError" not in text
    if any_client.htmx and status == 400:
        # A stale form sent in place keeps its page: the notice goes above it (tests/test_stale_form.py).
        assert "<html" not in text and response.headers["HX-Retarget"] == "#flashes"
        assert "Cette page n&#39;était plus à jour" in text
    elif any_client.htmx:
        assert title in text
        assert "<html" not in text and response.headers["HX-Retarget"] == "#main"
    else:
        assert title in text and 'lang="fr"' in text and "<html" in text


def test_the_429_page_says_how_long_to_wait(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_RESET="1 per hour")
    app.test_client_class = Client
    client = app.test_client()
    client.submit("/mot-de-passe-oublie/", {"email": "a@exemple.fr"})
    response = client.submit("/mot-de-passe-oublie/", {"email": "a@exemple.fr"})
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Trop de tentatives" in text and "Patientez 60 minutes" in text
    assert 3500 < int(response.headers["Retry-After"]) <= 3600
