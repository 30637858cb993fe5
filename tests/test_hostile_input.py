"""Input no user would type, that must still never give a 500."""

from __future__ import annotations

import io

import pytest

from tests.support.constants import PASSWORD
from tests.support.signup import PERSON


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/inscription/", PERSON, "email"),
        ("/inscription/", PERSON, "phone"),
        ("/connexion", {"email": "a@exemple.fr", "password": "x"}, "password"),
        ("/mot-de-passe-oublie/", {"email": "a@exemple.fr"}, "email"),
    ],
)
def test_a_file_posted_as_a_field_reads_as_no_value(any_client, url, data, field):
    form = {**data, field: (io.BytesIO(b"x" * 10), "f.txt"), "csrf_token": any_client.csrf_token()}
    response = any_client.post(url, data=form, content_type="multipart/form-data")
    assert response.status_code in (200, 303, 422)  # never a 500


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/structure/99999999999999999999999/"),
        ("get", "/structure/99999999999999999999/modifier"),
        ("post", "/structure/99999999999999999999/gestionnaire"),
        ("post", "/approbations/99999999999999999999999/approuver"),
        ("post", "/espace/demandes/99999999999999999999999/annuler"),
        ("get", "/structure/0/"),
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(client, signup, method, url):
    signup.create_account()
    signup.activate()
    response = client.get(url) if method == "get" else client.submit(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "field"),
    [("/inscription/", "first_name"), ("/connexion", "email"), ("/mot-de-passe-oublie/", "email")],
)
def test_a_nul_character_in_a_field_is_refused_whole(any_client, url, field):
    response = any_client.submit(url, {**PERSON, "password": "x", field: "Ma\x00rie"})
    assert response.status_code == 400
    assert "Requête invalide" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/captcha/a%00b.png", "/connexion?next=/a%00b", "/inscription/%00"])
def test_a_nul_character_in_a_url_is_refused(any_client, url):
    assert any_client.get(url).status_code == 400


def test_a_non_ascii_next_is_sent_to_htmx_as_ascii(htmx_client, signup):
    signup.create_account()
    signup.activate()
    signup.client.submit("/deconnexion")
    response = htmx_client.submit(
        "/connexion?next=/mon-compte/%3Fq%3D%E2%82%AC", {"email": PERSON["email"], "password": PASSWORD}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/mon-compte/?q=%E2%82%AC"
    response.headers["HX-Redirect"].encode("latin-1")


@pytest.mark.parametrize(
    "url",
    ["/inscription/", "/inscription/champ/email", "/inscription/champ/phone", "/inscription/renvoyer"],
)
@pytest.mark.parametrize("body", ['{"email": 1, "phone": 2}', '{"email": {"a": 1}}', "[1, 2]", "{not json"])
def test_a_json_body_reads_as_no_value_attack_json_type_confusion(any_client, url, body):
    """Browsers send forms, never JSON: a JSON body whose values are numbers
    or objects must not reach the validators (Flask-WTF reads it by default)."""
    headers = {"X-CSRFToken": any_client.csrf_token()}
    response = any_client.post(url, data=body, content_type="application/json", headers=headers)
    assert response.status_code in (200, 303, 422)  # never a 500, nor a 400 for a body it never reads
