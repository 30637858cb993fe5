"""Step 4: the activation link and the first password."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import Token, User, db, utcnow
from rules import passwords
from tests.support.app import Client
from tests.support.concurrency import post_at_once
from tests.support.constants import PASSWORD
from tests.support.responses import follow, text_of
from tests.support.structures import PIERRE, sign_up


def user(app) -> User:
    with app.app_context(), db.connection_context():
        return User.get()


@pytest.fixture
def link(signup):
    signup.create_account()
    return signup.activation_path()


def test_opening_the_link_shows_the_form_and_changes_nothing(app, any_client, link):
    for _ in range(2):  # a mail scanner may open it first
        response = any_client.get(link)
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        for label in (
            "Mise à jour du mot de passe",
            "Nouveau mot de passe",
            "Confirmation du nouveau mot de passe",
            "Soumettre",
        ):
            assert label in text
        assert "12 caractères minimum" in text
    assert user(app).status == User.PENDING
    with app.app_context(), db.connection_context():
        assert Token.get().used_at is None


def test_a_good_password_activates_signs_in_and_leads_to_the_structure_step(app, any_client, link):
    response = any_client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    if any_client.htmx:
        assert response.status_code == 200
        assert response.headers["HX-Push-Url"] == "/structure/"
        text = response.get_data(as_text=True)
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/structure/"
        text = any_client.get("/structure/").get_data(as_text=True)
    assert "Créer une nouvelle structure" in text
    assert "Se déconnecter" in text
    account = user(app)
    assert account.status == User.ACTIVE and account.activated_at is not None
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("Court-1a", "Court-1a", "au moins 12 caractères"),
        ("tout en minuscules", "tout en minuscules", "3 types"),
        ("Azertyuiop123!", "Azertyuiop123!", "trop courant"),
        ("Marie-Curie-2024!", "Marie-Curie-2024!", "ni votre nom"),
        ("X" * 60 + "y1!" + "z" * 66, "X" * 60 + "y1!" + "z" * 66, "128"),
        (PASSWORD, PASSWORD + "x", "ne sont pas identiques"),
    ],
)
def test_a_password_breaking_the_rule_is_refused_and_keeps_the_link(
    app, any_client, link, password, confirm, message
):
    response = any_client.submit(link, {"password": password, "password_confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user(app).status == User.PENDING
    assert any_client.get(link).status_code == 200


def test_a_long_pasted_password_of_128_characters_is_accepted_whole(app, client, link):
    password = ("Aa1-" * 32)[:128]
    password = "Kq9!" + "".join(chr(97 + (i * 7) % 26) for i in range(124))
    response = client.submit(link, {"password": password, "password_confirm": password})
    assert response.status_code == 303
    with app.app_context():
        from passwords import verify_password

        assert verify_password(user(app).password_hash, password)[0]
        assert not verify_password(user(app).password_hash, password[:-1])[0]


def test_a_used_link_gets_a_page_offering_a_new_one(app, any_client, link):
    any_client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    app.test_client_class = type(any_client)
    elsewhere = app.test_client()  # another browser: the link says nothing of its account
    response = elsewhere.get(link)
    assert response.status_code == 410
    text = response.get_data(as_text=True)
    assert "plus valable" in text and "Recevoir un nouveau lien" in text
    again = elsewhere.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert again.status_code == 410


def test_the_used_link_opened_again_by_its_signed_in_account_goes_on_to_step_5(any_client, link):
    """Back or a reload after « Soumettre »: not « Ce lien n'est plus valable…
    connectez-vous » to someone signed in by that very link."""
    any_client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    response = any_client.get(link)
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"
    text = text_of(any_client.get("/structure/"))
    assert "Votre compte est déjà activé." in text and "Créer une nouvelle structure" in text
    again = any_client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert "Votre compte est déjà activé." in follow(any_client, again, pushed="/structure/")


def test_attack_a_used_link_opened_by_another_signed_in_account_tells_nothing(app, mailbox, link):
    """Pierre, signed in, opens Marie's used link: the page anyone gets."""
    app.test_client_class = Client
    app.test_client().submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    pierre = sign_up(app.test_client(), mailbox, PIERRE)
    response = pierre.get(link)
    assert response.status_code == 410 and "plus valable" in response.get_data(as_text=True)
    assert pierre.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD}).status_code == 410


def test_an_expired_link_is_refused(app, any_client, link):
    with app.app_context(), db.connection_context():
        Token.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert any_client.get(link).status_code == 410
    response = any_client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 410
    assert user(app).status == User.PENDING


def test_the_link_lives_for_the_configured_minutes(app, link):
    with app.app_context(), db.connection_context():
        token = Token.get()
        assert token.expires_at - token.created_at == timedelta(minutes=60)


def test_an_unknown_token_is_refused(any_client, link):
    assert any_client.get("/activation/not-a-token").status_code == 410


def test_the_same_link_submitted_twice_at_once_activates_once(app, link):
    app.test_client_class = Client
    clients = [app.test_client() for _ in range(2)]
    forms = [
        {"password": PASSWORD, "password_confirm": PASSWORD, "csrf_token": c.csrf_token()} for c in clients
    ]
    statuses = [r.status_code for r in post_at_once(link, clients, forms)]
    assert sorted(statuses) == [303, 410]
    with app.app_context(), db.connection_context():
        assert Token.select().where(Token.used_at.is_null(False)).count() == 1


def test_the_password_checklist_follows_what_is_typed(htmx_client):
    empty = htmx_client.submit("/mot-de-passe/regles", {"password": ""}).get_data(as_text=True)
    assert "checklist__item--ok" not in empty
    text = htmx_client.submit("/mot-de-passe/regles", {"password": "abcdefghijkL"}).get_data(as_text=True)
    assert text.count("checklist__item--ok") == 3  # length, upper case, lower case
    assert "(2 sur 3)" in text
    assert 'id="password-rules"' in text


def test_attack_a_huge_password_is_checked_once_per_distinct_character(htmx_client, monkeypatch):
    """The live checklist answers anything sent, up to the form's 64 KB: each
    kind is looked for among the distinct characters (a loop over each one
    cost 14 ms for 60,000, twenty times a short password's), with the same
    answer."""
    tried = []

    def counted(test):
        def test_counted(ch):
            tried.append(ch)
            return test(ch)

        return test_counted

    kinds = [(key, label, counted(test)) for key, label, test in passwords._KINDS]
    monkeypatch.setattr(passwords, "_KINDS", tuple(kinds))
    response = htmx_client.submit("/mot-de-passe/regles", {"password": "a" * 60_000 + "B1!"})
    text = response.get_data(as_text=True)
    assert text.count("checklist__item--ok") == 6  # length, three kinds of four, and the four
    assert "(3 sur 3)" in text
    assert len(tried) <= len(kinds) * 4


def test_the_password_field_asks_for_the_live_checklist(client, link):
    text = client.get(link).get_data(as_text=True)
    assert 'data-hx-post="/mot-de-passe/regles"' in text
    assert 'data-hx-trigger="input changed delay:150ms"' in text
    password_inputs = re.findall(r'<input[^>]*type="password"[^>]*>', text)
    assert len(password_inputs) == 2
    assert not any("maxlength" in tag for tag in password_inputs)  # nothing is cut from a pasted password
