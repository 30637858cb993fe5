"""Signing in and out."""

from __future__ import annotations

import pytest

from tests.support.constants import PASSWORD
from tests.support.responses import led_to, sent_to_sign_in, text_of

HOST = "http://localhost"
PROFILE = {"first_name": "Marie", "last_name": "Curie", "phone": "01 23 45 67 89", "contact_email": ""}


def test_sign_in_with_the_right_password(any_client, account):
    response = any_client.submit("/connexion", {"email": "Marie.Curie@exemple.fr", "password": PASSWORD})
    assert led_to(any_client, response) == "/structure/"
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
    assert sent_to_sign_in(any_client, any_client.get("/structure/")) == "/connexion?next=/structure/"


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
    sent_to_sign_in(any_client, any_client.get("/structure/"))


def test_bumping_the_session_epoch_signs_the_user_out_everywhere(app, any_client, account):
    from models import User, db

    any_client.submit("/connexion", {"email": account, "password": PASSWORD})
    assert any_client.get("/structure/").status_code == 200
    with app.app_context(), db.connection_context():
        User.update(session_epoch=User.session_epoch + 1).execute()
    sent_to_sign_in(any_client, any_client.get("/structure/"))


# -- a request that needs an account, without one -------------------------------------


def test_a_page_needing_an_account_comes_back_after_signing_in(client, account):
    url = sent_to_sign_in(client, client.get("/mon-compte/?onglet=1"))
    assert url == "/connexion?next=/mon-compte/?onglet%3D1"
    assert "Connectez-vous pour accéder à cette page." in text_of(client.get(url))
    response = client.submit(url, {"email": account, "password": PASSWORD})
    assert response.headers["Location"] == "/mon-compte/?onglet=1"


@pytest.mark.parametrize(
    "form_page, post_to",
    [("/mon-compte/", "/mon-compte/informations"), ("/structure/", "/structure/rattachement/demande")],
)
def test_a_form_sent_after_the_session_ended_comes_back_to_its_page_not_its_post_address(
    any_client, account, form_page, post_to
):
    """The POST address shows nothing to a GET (405): the page the form was on does."""
    headers = {"HX-Current-URL": HOST + form_page} if any_client.htmx else {"Referer": HOST + form_page}
    response = any_client.submit(post_to, PROFILE, headers=headers)
    url = sent_to_sign_in(any_client, response)
    assert url == f"/connexion?next={form_page}"
    signed_in = any_client.submit(url, {"email": account, "password": PASSWORD})
    back = signed_in.headers.get("HX-Redirect") or signed_in.headers["Location"]
    assert back == form_page
    assert (
        any_client.get(back, headers={"HX-Request": "false"} if not any_client.htmx else {}).status_code
        == 200
    )


def test_an_htmx_navigation_needing_an_account_comes_back_to_the_page_asked_for(htmx_client, account):
    response = htmx_client.get("/mon-compte/", headers={"HX-Current-URL": HOST + "/"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/connexion?next=/mon-compte/"


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_sign_in(htmx_client, account):
    """An autosave or a field's check never gets the sign-in form swapped into a piece of the page."""
    response = htmx_client.submit(
        "/mon-compte/informations/brouillon", PROFILE, headers={"HX-Current-URL": HOST + "/mon-compte/"}
    )
    assert response.status_code == 204 and not response.get_data()
    assert response.headers["HX-Redirect"] == "/connexion?next=/mon-compte/"


def test_a_form_sent_without_a_known_page_signs_in_without_next(any_client):
    response = any_client.submit(
        "/mon-compte/informations", PROFILE, headers={"Referer": "", "HX-Current-URL": ""}
    )
    assert sent_to_sign_in(any_client, response) == "/connexion"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://evil.example/mon-compte/",
        "http://localhost.evil.example/mon-compte/",
        "//evil.example/",
        "javascript:alert(1)",
    ],
)
def test_sign_in_first_never_leads_off_site_attack_open_redirect(any_client, elsewhere):
    header = "HX-Current-URL" if any_client.htmx else "Referer"
    response = any_client.submit("/mon-compte/informations", PROFILE, headers={header: elsewhere})
    assert sent_to_sign_in(any_client, response) == "/connexion"


def test_a_next_that_only_takes_a_post_is_not_followed(client, account):
    """An older link (or a forged one) to a POST-only address lands on the default page."""
    response = client.submit(
        "/connexion?next=/mon-compte/informations", {"email": account, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/structure/"
