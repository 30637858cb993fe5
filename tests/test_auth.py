"""Signing in and out."""

from __future__ import annotations

import pytest

from tests.support.constants import PASSWORD


def test_sign_in_with_the_right_password(any_client, account):
    response = any_client.submit("/connexion", {"email": "Marie.Curie@exemple.fr", "password": PASSWORD})
    if any_client.htmx:
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/structure/"
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/structure/"
    assert "Se déconnecter" in any_client.get("/structure/").get_data(as_text=True)


@pytest.mark.parametrize("email", ["marie.curie@exemple.fr", "personne@exemple.fr"])
def test_wrong_password_and_unknown_address_get_the_same_answer(any_client, account, email):
    response = any_client.submit("/connexion", {"email": email, "password": "Pas-le-bon-1234"})
    assert response.status_code == 422
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_a_pending_account_cannot_sign_in(any_client, signup):
    signup.create_account()
    response = any_client.submit("/connexion", {"email": "marie.curie@exemple.fr", "password": PASSWORD})
    assert response.status_code == 422


def test_the_structure_step_needs_a_signed_in_user(any_client):
    response = any_client.get("/structure/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_never_leads_off_site(client, account, target):
    response = client.submit(f"/connexion?next={target}", {"email": account, "password": PASSWORD})
    assert response.headers["Location"] == "/structure/"


def test_next_leads_to_a_path_of_this_site(client, account):
    response = client.submit("/connexion?next=/structure/", {"email": account, "password": PASSWORD})
    assert response.headers["Location"] == "/structure/"


def test_sign_out(any_client, account):
    any_client.submit("/connexion", {"email": account, "password": PASSWORD})
    response = any_client.submit("/deconnexion")
    assert response.status_code in (204, 303)
    assert any_client.get("/structure/").status_code == 302


def test_bumping_the_session_epoch_signs_the_user_out_everywhere(app, any_client, account):
    from models import User, db

    any_client.submit("/connexion", {"email": account, "password": PASSWORD})
    assert any_client.get("/structure/").status_code == 200
    with app.app_context(), db.connection_context():
        User.update(session_epoch=User.session_epoch + 1).execute()
    assert any_client.get("/structure/").status_code == 302
