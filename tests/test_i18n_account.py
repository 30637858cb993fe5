"""« Mon compte » in English: the account page and its errors, the
second-factor pages (the list, adding an app, the sign-in's second step),
« Télécharger mes données », « Supprimer mon compte », the contact address
link; each as a full page and as an htmx fragment, with no French left but
what the person typed."""

from __future__ import annotations

import json

import pytest

from models import User, db
from tests.support.constants import EMAIL, PASSWORD
from tests.support.i18n import assert_english, speak
from tests.support.responses import error_of, is_fragment, text_of
from tests.support.second_factor import (
    FACTORS,
    VERIFY,
    code_at,
    codes_page,
    enrol_totp,
    forget_reauthentication,
    password_step,
    reauthenticate,
    second_step,
    start_totp,
)
from tests.support.signup import PERSON, link_in

# What the person typed, and the portal's name (a setting): not the portal's French.
TYPED = (PERSON["first_name"], PERSON["last_name"], EMAIL, "contact@exemple.fr", "Portail Structures")


@pytest.fixture
def english(app, any_client, signup):
    """Marie, active, signed in on ``any_client``, who chose English."""
    signup.create_account()
    signup.activate()
    response = password_step(any_client)
    assert response.status_code in (204, 303)
    speak(any_client, "en")
    return any_client


def page(client, url: str, status: int = 200) -> str:
    """A GET, as a fragment under htmx and a full page without; all English."""
    response = client.get(url)
    assert response.status_code == status, text_of(response)
    assert is_fragment(response) == client.htmx
    text = text_of(response)
    assert_english(text, data=TYPED)
    return text


def answered(client, response, status: int) -> str:
    """A failed submit: the same step with its errors, in English."""
    assert response.status_code == status, text_of(response)
    assert is_fragment(response) == client.htmx
    text = text_of(response)
    assert_english(text, data=TYPED)
    return text


def after(client, response) -> str:
    """The page a success leads to (htmx fragment or the redirect's target), in English."""
    if client.htmx:
        assert response.status_code == 200, text_of(response)
        text = text_of(response)
    else:
        assert response.status_code == 303, text_of(response)
        text = text_of(client.get(response.headers["Location"]))
    assert_english(text, data=TYPED)
    return text


# -- « Mon compte » ---------------------------------------------------------------------------------


def test_my_account_in_english(english):
    text = page(english, "/mon-compte/")
    assert "<h1>My account</h1>" in text
    assert "Personal information" in text
    assert "Download my data" in text and "Delete my account" in text
    assert "Off: your password is enough to sign in." in text


def test_my_account_bad_input_is_answered_in_english(english):
    response = english.submit(
        "/mon-compte/informations",
        {"first_name": "Marie", "last_name": "Curie", "phone": "12", "contact_email": ""},
    )
    text = answered(english, response, 422)
    assert "<title>Error" in text or english.htmx
    assert error_of(response, "phone")


def test_my_account_wrong_current_password_in_english(english):
    response = english.submit(
        "/mon-compte/mot-de-passe",
        {
            "current_password": "Pas-Le-Bon-99",
            "password": "Autre-Velo-Vert-31",
            "password_confirm": "Autre-Velo-Vert-31",
        },
    )
    answered(english, response, 422)
    assert "The current password is incorrect." in error_of(response, "current_password")


def test_my_account_same_password_again_in_english(english):
    response = english.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": PASSWORD, "password_confirm": PASSWORD},
    )
    answered(english, response, 422)
    assert "must be different from the current password" in error_of(response, "password")


def test_my_account_saved_and_contact_link_in_english(app, english, mailbox):
    response = english.submit(
        "/mon-compte/informations",
        {"first_name": "Marie", "last_name": "Curie", "phone": "", "contact_email": "contact@exemple.fr"},
    )
    text = after(english, response)
    assert "Your information has been saved." in text
    assert "A confirmation link has been sent to contact@exemple.fr." in text
    assert "is not confirmed yet" in text
    path = link_in(mailbox("contact@exemple.fr")[-1])
    text = page(english, path)
    assert "Confirm the contact address" in text
    response = english.submit(path)
    assert "Contact address confirmed" in after(english, response)
    assert "This link is no longer valid" in page(english, path, 410)
    text = after(english, english.submit("/mon-compte/adresse-de-contact/renvoyer"))
    assert "The contact address is already confirmed: no link was sent." in text


def test_survey_consent_in_english(english):
    text = after(english, english.submit("/mon-compte/enquete", {"survey_consent": "y"}))
    assert "You will receive the satisfaction survey." in text
    assert "You are currently <strong>signed up</strong>" in text


# -- second factors ---------------------------------------------------------------------------------


def test_second_factor_list_asks_for_the_password_in_english(english):
    forget_reauthentication(english)
    text = page(english, FACTORS)
    assert "Confirm your identity" in text
    response = reauthenticate(english, "Pas-Le-Bon-99")
    answered(english, response, 422)
    assert "The password is incorrect." in error_of(response, "password")


def test_adding_an_app_in_english(app, english, mailbox):
    text = page(english, FACTORS)
    assert "Add an authenticator app" in text and "Get codes by email" in text
    start_totp(english)
    text = page(english, f"{FACTORS}application")
    assert "<h1>Add an authenticator app</h1>" in text
    assert 'aria-label="QR code to scan"' in text
    response = english.submit(f"{FACTORS}application/valider", {"code": "000000"})
    answered(english, response, 422)
    assert "This code is incorrect or has expired." in error_of(response, "code")


def test_recovery_codes_and_the_list_in_english(app, english, mailbox):
    secret = start_totp(english)
    response = english.submit(f"{FACTORS}application/valider", {"code": code_at(secret, -1)})
    text = codes_page(english, response)
    assert_english(text, data=TYPED)
    assert "Your recovery codes" in text and 'download="recovery-codes.txt"' in text
    assert "Recovery%20codes%20%E2%80%93%20each%20one%20works%20only%20once" in text
    text = page(english, FACTORS)
    assert "<strong>Authenticator app</strong>" in text
    assert "Recovery codes left: <strong>10</strong> of 10." in text
    # The notification mail says what changed in her language.
    mail = mailbox(EMAIL)[-1]
    assert "the method “Authenticator app” has been added" in mail.body_text


def test_codes_by_email_and_passkey_pages_in_english(english):
    reauthenticate(english)
    english.submit(f"{FACTORS}e-mail")
    text = page(english, f"{FACTORS}e-mail")
    assert "A 6-digit code has just been sent to" in text
    text = page(english, f"{FACTORS}cle-d-acces")
    assert "<h1>Add a passkey</h1>" in text


def test_the_sign_in_second_step_in_english(app, english, mailbox):
    enrol_totp(english)
    english.submit("/deconnexion")
    password_step(english)
    text = page(english, VERIFY)
    assert "<h1>Two-step verification</h1>" in text
    assert "Trust this device for 30 days" in text
    assert "Use a recovery code" in text
    response = second_step(english, "000000")
    answered(english, response, 422)
    assert "This code is incorrect or has expired." in error_of(response, "code")
    text = page(english, f"{VERIFY}?methode=recovery")
    assert "Recovery code" in text


# -- the holder's rights ----------------------------------------------------------------------------


def test_my_data_in_english(english):
    text = page(english, "/mon-compte/donnees")
    assert "<h1>My data</h1>" in text and "Sign-in email address" in text
    response = english.get("/mon-compte/donnees.json")
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert json.loads(response.get_data(as_text=True))["compte"]["prenom"] == "Marie"  # keys for programs


def test_delete_my_account_in_english(app, english):
    text = page(english, "/mon-compte/supprimer")
    assert "<h1>Delete my account</h1>" in text and "Deletion is permanent." in text
    response = english.submit("/mon-compte/supprimer", {"password": "Pas-Le-Bon-99"})
    answered(english, response, 422)
    assert "The password is incorrect." in error_of(response, "password")
    english.submit("/mon-compte/supprimer", {"password": PASSWORD})
    with app.app_context(), db.connection_context():
        assert User.by_email(EMAIL) is None
    text = text_of(english.get("/"))
    assert "Your account has been deleted, together with your personal data." in text
