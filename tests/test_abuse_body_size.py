"""Request bodies have a size limit: an oversized body is refused with the
French 413 page before anything parses it (full page and htmx partial)."""

from __future__ import annotations

import io

import pytest
from flask import Request

from tests.support.app import clean_environment, make_app

MIB = 1024 * 1024


@pytest.fixture
def parsed(monkeypatch):
    """How many times a request's form was parsed."""
    calls = []
    original = Request._load_form_data

    def spy(self):
        calls.append(self.path)
        return original(self)

    monkeypatch.setattr(Request, "_load_form_data", spy)
    return calls


def assert_413_page(client, response):
    """Without JavaScript, the error page. A form sent in place keeps its
    page and what was typed in it: the notice goes above the page, as a
    limit's does."""
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "Request Entity" not in text
    if client.htmx:
        assert "<html" not in text and "<main" not in text
        assert "trop volumineuses : raccourcissez votre saisie puis réessayez." in text
        assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#flashes", "innerHTML")
    else:
        assert "Envoi trop volumineux" in text and "<html" in text
        assert "Revenez en arrière, raccourcissez votre saisie puis réessayez." in text


def test_without_javascript_the_413_page_links_back_to_the_form_of_this_site_only(client):
    """The body was never read: what was typed is the browser's to give back
    (Back), and the page links to the form's page, never elsewhere."""
    body = f"csrf_token={client.csrf_token()}&password=".encode() + b"x" * (2 * MIB)
    sent = {"data": body, "content_type": "application/x-www-form-urlencoded"}
    response = client.post("/connexion", headers={"Referer": "http://localhost/connexion"}, **sent)
    assert response.status_code == 413
    assert '<a href="/connexion">Revenir au formulaire</a>' in response.get_data(as_text=True)
    for elsewhere in (
        "https://evil.example/connexion",
        "//evil.example/",
        "http://localhost//evil.example/phish",  # this site's host, then a path read as another site
        "http://localhost/\\evil.example/phish",
        "http://localhost/inscription/champ/email",  # this site's, but a POST's address: no page
        None,
    ):
        headers = {"Referer": elsewhere} if elsewhere else {}
        response = client.post("/connexion", headers=headers, **sent)
        assert response.status_code == 413 and "Revenir au formulaire" not in response.get_data(as_text=True)


def post_chunked(client, body: bytes):
    """« Se connecter » sent ``body`` without a length, as a chunked request."""
    return client.post(
        "/connexion",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_huge_sign_in_body_is_refused_before_it_is_parsed(any_client, parsed):
    token = any_client.csrf_token()
    body = f"csrf_token={token}&email=a%40exemple.fr&password=".encode() + b"x" * (2 * MIB)
    response = any_client.post("/connexion", data=body, content_type="application/x-www-form-urlencoded")
    assert_413_page(any_client, response)
    assert "/connexion" not in parsed


def test_a_huge_chunked_body_is_refused_at_the_limit(any_client):
    token = any_client.csrf_token()
    body = f"csrf_token={token}&email=a%40exemple.fr&password=".encode() + b"x" * (2 * MIB)
    response = post_chunked(any_client, body)
    assert_413_page(any_client, response)


def test_a_small_body_without_a_length_still_reaches_the_view(any_client):
    body = f"csrf_token={any_client.csrf_token()}&email=a%40exemple.fr&password=Pas-le-bon-1234"
    response = post_chunked(any_client, body.encode())
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_attack_an_url_encoded_body_past_the_form_size_is_refused_before_it_is_parsed(any_client, parsed):
    """Werkzeug decodes an URL-encoded body whole, each « %C3%A9 » in Python:
    a megabyte of them sent to « Se connecter » cost 130 ms of CPU, against
    1 ms for a sign-in. Such a body is held to FLASK_MAX_FORM_MEMORY_SIZE (64 KB), as a
    multipart field is, announced or sent chunked."""
    token = any_client.csrf_token()
    body = f"csrf_token={token}&email=a%40exemple.fr&password=".encode() + b"%C3%A9" * 20_000
    response = any_client.post("/connexion", data=body, content_type="application/x-www-form-urlencoded")
    assert_413_page(any_client, response)
    response = post_chunked(any_client, body)
    assert_413_page(any_client, response)
    assert "/connexion" not in parsed


def test_an_url_encoded_body_within_the_form_size_reaches_the_view(any_client):
    """Just under 64 KB: the sign-in form answers, its error next to the field."""
    head = f"csrf_token={any_client.csrf_token()}&email=a%40exemple.fr&password=".encode()
    body = head + b"%C3%A9" * ((64 * 1024 - len(head)) // 6)
    response = any_client.post("/connexion", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert 'class="error-message"' in response.get_data(as_text=True)


def test_attack_a_multipart_body_past_the_form_size_is_refused_before_it_is_parsed(any_client, parsed):
    """Werkzeug holds each multipart field to 64 KB, not the form: sixteen
    fields of 60 KB (a megabyte, 6-10 ms of CPU to parse) are refused whole."""
    fields = {f"f{n}": "y" * 60_000 for n in range(16)}
    fields |= {"csrf_token": any_client.csrf_token(), "email": "a@exemple.fr", "password": "Pas-le-bon-1234"}
    # Encoded here: the test client would spool so large a body to a file it never closes.
    boundary = "portail-boundary"
    body = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    data = f"{body}--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    response = any_client.post("/connexion", data=data, content_type=content_type)
    assert_413_page(any_client, response)
    assert "/connexion" not in parsed


def test_a_multipart_form_within_the_form_size_reaches_the_view(any_client):
    data = {"csrf_token": any_client.csrf_token(), "email": "a@exemple.fr", "password": "Pas-le-bon-1234"}
    response = any_client.post("/connexion", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_the_form_limit_follows_the_form_size_setting(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv("FLASK_MAX_FORM_MEMORY_SIZE", "2048")
    client = make_app(tmp_path).test_client()
    assert client.post("/connexion", data={"password": "x" * 4096}).status_code == 413
    fields = {f"f{n}": "x" * 1000 for n in range(4)}
    assert client.post("/connexion", data=fields, content_type="multipart/form-data").status_code == 413
    assert client.post("/connexion", data={"password": "x" * 1024}).status_code == 400  # no CSRF token


def test_a_huge_multipart_field_is_refused(any_client):
    data = {"csrf_token": any_client.csrf_token(), "email": "a@exemple.fr", "password": "y" * (100 * 1024)}
    response = any_client.post("/connexion", data=data, content_type="multipart/form-data")
    assert_413_page(any_client, response)


def test_thousands_of_multipart_fields_are_refused(any_client):
    data = {f"f{n}": "1" for n in range(500)}
    data["csrf_token"] = any_client.csrf_token()
    response = any_client.post("/connexion", data=data, content_type="multipart/form-data")
    assert_413_page(any_client, response)


def test_an_ordinary_form_is_well_under_the_limits(any_client):
    response = any_client.submit("/connexion", {"email": "a@exemple.fr", "password": "Pas-le-bon-1234"})
    assert response.status_code == 422


def test_the_limit_is_one_mib_by_default_and_configurable(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    assert make_app(tmp_path).config["MAX_CONTENT_LENGTH"] == MIB
    monkeypatch.setenv("FLASK_MAX_CONTENT_LENGTH", "2048")
    app = make_app(tmp_path)
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    response = app.test_client().post("/connexion", data={"password": "x" * 4096})
    assert response.status_code == 413
