"""Pre-registration hijack: someone signs up a victim's address first, with
their own names, phone, survey consent and contact e-mail. The details of
the sign-up whose link is used win, the activation page shows them to be
corrected, and a contact e-mail receives nothing until its owner confirms it."""

from __future__ import annotations

import re

import pytest

from models import ConsentChange, User
from tests.support.app import query
from tests.support.constants import PASSWORD
from tests.support.responses import error_of, is_fragment, text_of
from tests.support.signup import PERSON, Signup, link_in
from tests.support.structures import create_structure

VICTIM = "victime@corp.example"
ATTACKER_CONTACT = "attaquant@evil.example"
ATTACKER = {
    **PERSON,
    "email": VICTIM,
    "email_confirm": VICTIM,
    "first_name": "Mallory",
    "last_name": "Pirate",
    "phone": "06 66 66 66 66",
    "contact_email": ATTACKER_CONTACT,
    "survey_consent": "y",
}
VICTIM_DETAILS = {
    **PERSON,
    "email": VICTIM,
    "email_confirm": VICTIM,
    "first_name": "Alice",
    "last_name": "Martin",
    "phone": "01 23 45 67 89",
    "contact_email": "",
}
CONTACT_SUBJECT = "Confirmez votre adresse de contact"


@pytest.fixture
def signup(any_client, mailbox):
    return Signup(any_client, mailbox)


def victim(app) -> User:
    return query(app, lambda: User.by_email(VICTIM))


def activate(client, path: str, **details):
    data = {
        "first_name": details.get("first_name", "Alice"),
        "last_name": details.get("last_name", "Martin"),
        "phone": details.get("phone", ""),
        "contact_email": details.get("contact_email", ""),
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    if details.get("survey_consent"):
        data["survey_consent"] = "y"
    return client.submit(path, data)


def test_a_victims_own_sign_up_replaces_the_attackers_details_pre_registration_hijack_attack(
    app, client, mailbox
):
    attacker = Signup(app.test_client(), mailbox)  # another browser
    attacker.create_account(**ATTACKER)
    Signup(client, mailbox).create_account(**VICTIM_DETAILS)

    # Only the latest link works, and the account holds the latest details.
    first, second = [link_in(m) for m in mailbox(VICTIM) if m.subject == "Activez votre compte"]
    assert client.get(first).status_code == 410
    row = victim(app)
    assert (row.first_name, row.last_name, row.phone, row.contact_email, row.survey_consent) == (
        "Alice", "Martin", "+33123456789", VICTIM, False,
    )  # fmt: skip
    page = text_of(client.get(second))
    assert 'value="Alice"' in page and "Mallory" not in page

    assert activate(client, second).status_code == 303
    create_structure(client)
    # Her « structure créée » goes to her, nothing ever to the attacker.
    assert [m.subject for m in mailbox(VICTIM)][-1] == "Votre structure est créée"
    assert mailbox(ATTACKER_CONTACT) == []


def test_the_consent_history_follows_the_replaced_details_forged_consent_attack(app, client, mailbox):
    """The attacker's ticked survey consent, replaced by the victim's sign-up
    without it: the history ends with a withdrawal, matching the account."""
    Signup(app.test_client(), mailbox).create_account(**ATTACKER)
    Signup(client, mailbox).create_account(**VICTIM_DETAILS)
    history = query(app, lambda: [c.consent for c in ConsentChange.of(User.by_email(VICTIM))])
    assert history == [True, False]
    assert victim(app).survey_consent is False


def test_the_activation_page_shows_the_details_to_correct_them(app, any_client, signup, mailbox):
    # The victim only follows the link the attacker's sign-up had mailed her.
    signup.create_account(**ATTACKER)
    path = link_in([m for m in mailbox(VICTIM) if m.subject == "Activez votre compte"][-1])
    response = any_client.get(path)
    page = text_of(response)
    assert response.status_code == 200
    assert is_fragment(response) == any_client.htmx
    assert "Vérifiez-les et corrigez-les si besoin avant de soumettre" in page
    assert 'value="Mallory"' in page and 'value="Pirate"' in page
    assert 'value="06 66 66 66 66"' in page and f'value="{ATTACKER_CONTACT}"' in page
    assert re.search(r'<input[^>]*checked[^>]*name="survey_consent"|name="survey_consent"[^>]*checked', page)
    assert "Bonjour," in mailbox(VICTIM)[-1].body_text  # the mail does not greet her as Mallory

    response = activate(any_client, path)  # corrected: her names, no contact e-mail, no consent
    assert response.status_code == (200 if any_client.htmx else 303)
    row = victim(app)
    assert (row.first_name, row.last_name, row.phone, row.contact_email, row.survey_consent) == (
        "Alice", "Martin", None, VICTIM, False,
    )  # fmt: skip
    assert mailbox(ATTACKER_CONTACT) == []


def test_a_wrong_detail_on_the_activation_page_keeps_what_was_typed(app, any_client, signup, mailbox):
    signup.create_account(**VICTIM_DETAILS)
    path = signup.activation_path(VICTIM)
    response = activate(any_client, path, first_name="Al1ce", contact_email="pas-une-adresse")
    assert response.status_code == 422
    assert "n'est pas autorisé" in error_of(response, "first_name")
    assert "adresse e-mail valide" in error_of(response, "contact_email")
    assert 'value="Al1ce"' in text_of(response)
    assert victim(app).status == User.PENDING
    assert any_client.get(path).status_code == 200  # the link still works


def test_a_pending_sign_up_mails_nothing_to_its_contact_email(app, signup, mailbox):
    signup.create_account(**ATTACKER)
    signup.client.post("/inscription/renvoyer", data={"csrf_token": signup.client.csrf_token()})
    assert mailbox(ATTACKER_CONTACT) == []
    assert {m.recipient for m in mailbox()} == {VICTIM}


def test_an_unconfirmed_contact_email_receives_no_notification_contact_redirect_attack(
    app, any_client, signup, mailbox
):
    signup.create_account(**VICTIM_DETAILS)
    path = signup.activation_path(VICTIM)
    # Whoever activates keeps a contact e-mail of their choice: it gets one
    # mail, the link to confirm it, and nothing else until it is followed.
    activate(any_client, path, contact_email=ATTACKER_CONTACT)
    assert [m.subject for m in mailbox(ATTACKER_CONTACT)] == [CONTACT_SUBJECT]
    any_client.htmx, mode = False, any_client.htmx
    create_structure(any_client)
    any_client.htmx = mode
    assert [m.subject for m in mailbox(ATTACKER_CONTACT)] == [CONTACT_SUBJECT]
    assert "Votre structure est créée" in [m.subject for m in mailbox(VICTIM)]


def test_following_the_contact_link_confirms_it_and_notifications_follow(app, any_client, signup, mailbox):
    contact = "alice.contact@exemple.fr"
    signup.create_account(**VICTIM_DETAILS)
    activate(any_client, signup.activation_path(VICTIM), contact_email=contact)
    [mail] = mailbox(contact)
    path = link_in(mail)
    assert path.startswith("/mon-compte/adresse-de-contact/")

    response = any_client.get(path)  # opening it changes nothing (mail scanners)
    assert response.status_code == 200
    assert is_fragment(response) == any_client.htmx
    assert "Confirmer l'adresse" in text_of(response)
    assert victim(app).contact_email_confirmed_at is None

    other_browser = type(any_client)(app, app.response_class)  # no session needed
    response = other_browser.submit(path)
    assert response.status_code == (200 if any_client.htmx else 303)
    assert victim(app).notification_email == contact
    shown = text_of(response) if any_client.htmx else text_of(other_browser.get(response.headers["Location"]))
    assert "Adresse de contact confirmée" in shown
    assert other_browser.submit(path).status_code == 410  # single use

    any_client.htmx, mode = False, any_client.htmx
    create_structure(any_client)
    any_client.htmx = mode
    assert [m.subject for m in mailbox(contact)][-1] == "Votre structure est créée"


def test_changing_the_contact_email_in_my_account_needs_a_new_confirmation(app, any_client, signup, mailbox):
    signup.create_account(**VICTIM_DETAILS)
    activate(any_client, signup.activation_path(VICTIM))
    assert [m for m in mailbox() if m.subject == CONTACT_SUBJECT] == []
    response = any_client.submit(
        "/mon-compte/informations",
        {"first_name": "Alice", "last_name": "Martin", "phone": "", "contact_email": "nouvelle@exemple.fr"},
    )
    page = text_of(response) if any_client.htmx else text_of(any_client.get(response.headers["Location"]))
    assert "Un lien de confirmation a été envoyé à nouvelle@exemple.fr" in page
    assert "n'est pas encore confirmée" in page
    [first] = mailbox("nouvelle@exemple.fr")
    assert victim(app).notification_email == VICTIM

    # Asked again: a new link, the first one dies.
    any_client.submit("/mon-compte/adresse-de-contact/renvoyer")
    assert len(mailbox("nouvelle@exemple.fr")) == 2
    assert any_client.get(link_in(first)).status_code == 410

    # Changed again before confirming: the pending link of the former address dies.
    second = link_in(mailbox("nouvelle@exemple.fr")[-1])
    any_client.submit(
        "/mon-compte/informations",
        {"first_name": "Alice", "last_name": "Martin", "phone": "", "contact_email": "autre@exemple.fr"},
    )
    assert any_client.get(second).status_code == 410
    assert victim(app).notification_email == VICTIM


def test_attack_the_confirmed_page_is_only_for_the_browser_that_confirmed(any_client):
    """« Adresse de contact confirmée » says notifications go there now: never
    to someone who confirmed nothing (a forged claim, a link to it in a mail)."""
    response = any_client.get("/mon-compte/adresse-de-contact/confirmee")
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_an_unknown_contact_link_is_refused(any_client):
    response = any_client.get("/mon-compte/adresse-de-contact/" + "x" * 43)
    assert response.status_code == 410
    assert "Ce lien n'est plus valable" in text_of(response)
