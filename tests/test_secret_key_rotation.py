"""A new FLASK_SECRET_KEY rolled out with the former one in
FLASK_SECRET_KEY_FALLBACKS: the sessions signed with the former key stay
open; without it they end (the person signs in again). As a full page and
under htmx."""

from __future__ import annotations

import pytest

from tests.support.app import Client, HtmxClient, make_app
from tests.support.responses import is_fragment, sent_to_sign_in
from tests.support.structures import sign_up

FORMER = "former-secret-key-0123456789abcdef-0123"
NEW = "new-secret-key-0123456789abcdef-01234567"


@pytest.fixture(params=[Client, HtmxClient], ids=["page", "htmx"])
def client_class(request):
    return request.param


def signed_in_cookie(tmp_path, mailbox) -> tuple[str, str]:
    app = make_app(tmp_path, SECRET_KEY=FORMER)
    app.test_client_class = Client
    client = sign_up(app.test_client(), mailbox)
    assert client.get("/espace/").status_code == 200
    name = app.config["SESSION_COOKIE_NAME"]
    return name, client.get_cookie(name).value


def after_rotation(tmp_path, cookie: tuple[str, str], client_class, **settings):
    """A client of the app restarted with the new key, holding the session cookie."""
    app = make_app(tmp_path, SECRET_KEY=NEW, **settings)
    app.test_client_class = client_class
    client = app.test_client()
    client.set_cookie(*cookie)
    return client


def test_a_session_signed_with_the_former_key_stays_open_while_it_is_a_fallback(
    tmp_path, mailbox, client_class
):
    cookie = signed_in_cookie(tmp_path, mailbox)
    client = after_rotation(tmp_path, cookie, client_class, SECRET_KEY_FALLBACKS=[FORMER])
    response = client.get("/espace/")
    assert response.status_code == 200
    assert is_fragment(response) == client.htmx
    assert "Se déconnecter" in response.get_data(as_text=True)


def test_attack_a_session_signed_with_a_key_no_longer_listed_is_not_taken(tmp_path, mailbox, client_class):
    cookie = signed_in_cookie(tmp_path, mailbox)
    client = after_rotation(tmp_path, cookie, client_class)
    sent_to_sign_in(client, client.get("/espace/"))


def test_the_fallbacks_are_read_from_the_environment_as_a_json_list(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY_FALLBACKS", f'["{FORMER}"]')
    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": NEW, "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}"})
    assert app.config["SECRET_KEY_FALLBACKS"] == [FORMER]
