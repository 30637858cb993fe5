"""Languages: French by default, English from the browser or the header's
switch; the choice kept in the session and on the account, whose mail
follows it. Attacks on the switch are named after what they try."""

from __future__ import annotations

import re

import pytest

from models import User
from tests.support.app import outbox, query
from tests.support.constants import EMAIL, PASSWORD
from tests.support.i18n import speak
from tests.support.responses import led_to, text_of
from tests.support.structures import sign_up

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', text_of(response)).group(1)


def switch_button(response) -> str:
    return re.search(r'<button type="submit" name="lang"[^>]*>[^<]*</button>', text_of(response)).group(0)


def language_of(app, email: str = EMAIL) -> str:
    return query(app, lambda: User.get(User.email == email).language)


def test_french_by_default_with_a_switch_to_english(client):
    response = client.get("/")
    assert html_lang(response) == "fr"
    assert switch_button(response) == (
        '<button type="submit" name="lang" value="en" lang="en" class="button button--link">English</button>'
    )


def test_the_browser_language_chooses_english(client):
    response = client.get("/", headers=ENGLISH)
    assert html_lang(response) == "en"
    assert 'value="fr" lang="fr" class="button button--link">Français</button>' in switch_button(response)


def test_a_language_the_portal_does_not_speak_falls_back_to_french(client):
    assert html_lang(client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})) == "fr"


@pytest.mark.parametrize("answer", ["page", "htmx"])
def test_the_switch_keeps_the_choice_and_comes_back_to_the_page(client, answer):
    client.htmx = answer == "htmx"
    response = speak(client, "en", "/connexion")
    assert led_to(client, response) == "/connexion"
    client.htmx = False
    # The choice beats the browser's language from now on.
    assert html_lang(client.get("/connexion", headers={"Accept-Language": "fr"})) == "en"
    speak(client, "fr", "/")
    assert html_lang(client.get("/", headers=ENGLISH)) == "fr"


def test_the_switch_without_javascript_comes_back_to_the_page_with_its_query(client):
    """On « Se connecter » reached with a ``next``, the switch keeps it: the
    person still lands where they were going once signed in."""
    page = client.get("/connexion?next=/mon-compte/donnees").get_data(as_text=True)
    assert 'name="next" value="/connexion?next=/mon-compte/donnees"' in page
    response = speak(client, "en", "/connexion?next=/mon-compte/donnees")
    assert response.headers["Location"] == "/connexion?next=/mon-compte/donnees"
    assert 'name="next" value="/connexion"' in client.get("/connexion").get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "next=//evil.example/",
        "next=https://evil.example/",
        "next=/%5Cevil.example",
        "next=/ok&next=//evil.example",
    ],
)
def test_the_switch_never_writes_back_a_next_off_the_site_attack_open_redirect(client, query):
    hostile = client.get(f"/connexion?{query}").get_data(as_text=True)
    assert "evil.example" not in hostile and 'name="next" value="/connexion"' in hostile


def test_the_switch_writes_back_a_query_escaped_attack_markup_injection(client):
    page = client.get('/connexion?next=/x"><script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&#34;&gt;&lt;script&gt;" in page


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_open_redirect_through_the_language_switch(client, target):
    response = speak(client, "en", target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_switch_never_comes_back_to_an_address_that_only_takes_posts(client):
    """A failed submit is shown at the step's POST address: going back there
    with a GET would be a 405. The page the browser came from is used instead."""
    response = client.submit(
        "/langue",
        {"lang": "en", "next": "/deconnexion"},
        headers={"Referer": "http://localhost/inscription/"},
    )
    assert response.headers["Location"] == "/inscription/"


@pytest.mark.parametrize("language", ["de", "", "en-US", "<script>", "../fr"])
def test_a_language_that_is_not_offered_changes_nothing(client, language):
    response = speak(client, language, "/")
    assert response.status_code == 303
    assert html_lang(client.get("/")) == "fr"


def test_forged_language_in_the_session_is_ignored(client):
    with client.session_transaction() as session:
        session["lang"] = '"><script>alert(1)</script>'
    response = client.get("/")
    assert html_lang(response) == "fr"
    assert "<script>alert(1)" not in text_of(response)


def test_the_switch_needs_the_csrf_token(client):
    response = client.post("/langue", data={"lang": "en", "next": "/"})
    assert response.status_code == 400
    assert html_lang(client.get("/")) == "fr"


def test_the_sign_up_language_becomes_the_accounts_and_its_mails(app, client, mailbox):
    speak(client, "en")
    sign_up(client, mailbox)
    assert language_of(app) == "en"
    assert [mail.subject for mail in outbox(app, EMAIL)][0] == "Activate your account"


def test_a_switch_while_signed_in_is_kept_on_the_account(app, client, mailbox):
    sign_up(client, mailbox)
    assert language_of(app) == "fr"
    speak(client, "en", "/mon-compte/")
    assert language_of(app) == "en"
    # Another browser, French by its headers: the account's language wins once signed in.
    other = app.test_client()
    other.submit("/connexion", {"email": EMAIL, "password": PASSWORD}, headers={"Accept-Language": "fr"})
    assert html_lang(other.get("/mon-compte/", headers={"Accept-Language": "fr"})) == "en"
    # And the account's mail is English: a reset link asked from anywhere.
    app.test_client().submit("/mot-de-passe-oublie/", {"email": EMAIL})
    assert outbox(app, EMAIL)[-1].subject == "Reset your password"


def test_a_choice_made_before_signing_in_becomes_the_accounts_and_survives_signing_out(app, client, mailbox):
    sign_up(client, mailbox)
    client.submit("/deconnexion")
    speak(client, "en")
    assert html_lang(client.get("/connexion")) == "en"
    client.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    assert language_of(app) == "en"
    client.submit("/deconnexion")
    assert html_lang(client.get("/")) == "en"


@pytest.mark.parametrize(
    ("name", "french"),
    [
        ("Bob Martin", "de Bob Martin"),
        ("Erin Roy", "d'Erin Roy"),
        ("Éric Lefèvre", "d'Éric Lefèvre"),
        ("Hélène Roy", "d'Hélène Roy"),
        ("Yves Roy", "d'Yves Roy"),
        ("Yann Le Goff", "de Yann Le Goff"),
        ("Œdipe Roi", "d'Œdipe Roi"),
        ("Zoé Roy", "de Zoé Roy"),
        ("", "de "),
    ],
)
def test_a_name_after_de_is_elided_in_french_only(app, name, french):
    from flask_babel import force_locale

    import i18n

    with app.test_request_context("/"):
        assert i18n.of_person(name) == french
        with force_locale("en"):
            assert i18n.of_person(name) == name
