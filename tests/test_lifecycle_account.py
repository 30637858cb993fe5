"""« Mon compte »: identity, survey consent, password change."""

from __future__ import annotations

import pytest

from models import User, db
from tests.support.constants import EMAIL, NEW_PASSWORD, PASSWORD
from tests.support.responses import error_of, sent_to_sign_in
from tests.support.signup import link_in


@pytest.fixture
def signed_in(app, any_client, signup):
    """Marie, active, signed in on ``any_client``."""
    signup.create_account()
    signup.activate()
    response = any_client.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code in (204, 303)
    return any_client


def stored(app) -> User:
    with app.app_context(), db.connection_context():
        return User.by_email(EMAIL)


def body(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def followed(client, response) -> str:
    """The page after a successful POST: the fragment under htmx, else the redirect's target."""
    if client.htmx:
        assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/mon-compte/"
        return body(response)
    assert response.status_code == 303 and response.headers["Location"] == "/mon-compte/"
    return body(client.get("/mon-compte/"))


PROFILE = {"first_name": "Marie", "last_name": "Curie", "phone": "01 23 45 67 89", "contact_email": ""}


def test_mon_compte_needs_a_signed_in_user(any_client):
    assert sent_to_sign_in(any_client, any_client.get("/mon-compte/")).startswith("/connexion?next=")
    sent_to_sign_in(any_client, any_client.submit("/mon-compte/informations", PROFILE))


def test_mon_compte_shows_the_account_with_the_login_email_read_only(signed_in):
    response = signed_in.get("/mon-compte/")
    assert response.status_code == 200
    text = body(response)
    for label in (
        "Mon compte",
        "Prénom",
        "Nom",
        "Téléphone",
        "Adresse email de contact",
        "Mot de passe actuel",
    ):
        assert label in text
    assert "afin de recevoir l'enquête de satisfaction" in text
    assert f"<strong>{EMAIL}</strong>" in text
    assert 'name="email"' not in text  # not an input: it cannot be edited
    assert 'value="+33123456789"' in text or 'value="01 23 45 67 89"' in text
    assert ("<html" in text) is not signed_in.htmx


def test_the_profile_is_saved_with_the_sign_up_rules(app, signed_in):
    response = signed_in.submit(
        "/mon-compte/informations",
        {
            "first_name": "  Marie   Salomea ",
            "last_name": "Skłodowska-Curie",
            "phone": "06 12 34 56 78",
            "contact_email": "Contact@Exemple.FR",
        },
    )
    assert "Vos informations ont été enregistrées." in followed(signed_in, response)
    user = stored(app)
    assert (user.first_name, user.last_name) == ("Marie Salomea", "Skłodowska-Curie")
    assert user.phone == "+33612345678"
    assert user.contact_email == "contact@exemple.fr"
    assert user.email == EMAIL


def test_an_empty_contact_email_falls_back_to_the_login_email(app, signed_in):
    signed_in.submit("/mon-compte/informations", {**PROFILE, "contact_email": "autre@exemple.fr"})
    signed_in.submit("/mon-compte/informations", PROFILE)
    assert stored(app).contact_email == EMAIL


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Ce champ est obligatoire."),
        ({"last_name": "Curie<script>"}, "last_name", "n'est pas autorisé"),
        ({"phone": "12"}, "phone", "numéro de téléphone valide"),
        ({"contact_email": "contact@exemple"}, "contact_email", "nom de domaine"),
    ],
)
def test_a_bad_profile_value_is_shown_next_to_its_field_and_kept(app, signed_in, changes, field, message):
    response = signed_in.submit("/mon-compte/informations", {**PROFILE, **changes})
    assert response.status_code == 422
    text = body(response)
    assert message in text
    assert f'id="{field}-error"' in text and 'aria-invalid="true"' in text
    typed = next(iter(changes.values()))
    if typed:
        assert f'value="{typed.replace("<", "&lt;").replace(">", "&gt;")}"' in text
    assert stored(app).first_name == "Marie"


def test_the_login_email_cannot_be_changed_by_posting_it(app, signed_in):
    signed_in.submit("/mon-compte/informations", {**PROFILE, "email": "pirate@exemple.fr"})
    assert stored(app).email == EMAIL


@pytest.mark.parametrize("start", [False, True])
def test_survey_consent_can_be_given_and_withdrawn_at_any_time(app, signed_in, start):
    with app.app_context(), db.connection_context():
        User.update(survey_consent=start).execute()
    data = {} if start else {"survey_consent": "y"}  # an unticked box is not sent
    response = signed_in.submit("/mon-compte/enquete", data)
    text = followed(signed_in, response)
    assert stored(app).survey_consent is (not start)
    assert ("Vous recevrez l'enquête" in text) is (not start)
    assert ("Votre consentement est retiré" in text) is start


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, signed_in, mailbox):
    app.test_client_class = type(signed_in)
    elsewhere = app.test_client()
    elsewhere.submit("/connexion", {"email": EMAIL, "password": PASSWORD})
    assert elsewhere.get("/mon-compte/").status_code == 200
    response = signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert "Votre mot de passe a été modifié" in followed(signed_in, response)
    assert signed_in.get("/mon-compte/").status_code == 200
    sent_to_sign_in(elsewhere, elsewhere.get("/mon-compte/"))
    assert mailbox(EMAIL)[-1].subject == "Votre mot de passe a été modifié"
    signed_in.submit("/deconnexion")
    assert signed_in.submit("/connexion", {"email": EMAIL, "password": PASSWORD}).status_code == 422
    assert signed_in.submit("/connexion", {"email": EMAIL, "password": NEW_PASSWORD}).status_code in (
        204,
        303,
    )


@pytest.mark.parametrize(
    ("current", "password", "confirm", "field", "message"),
    [
        (
            "Pas-le-bon-1234",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current_password",
            "Le mot de passe actuel est incorrect.",
        ),
        ("", NEW_PASSWORD, NEW_PASSWORD, "current_password", "Ce champ est obligatoire."),
        (PASSWORD, "Court-1a", "Court-1a", "password", "au moins 12 caractères"),
        (PASSWORD, "Marie-Curie-2024!", "Marie-Curie-2024!", "password", "ni votre nom"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "password_confirm", "ne sont pas identiques"),
    ],
)
def test_a_password_change_needs_the_current_password_and_the_rule(
    app, signed_in, current, password, confirm, field, message
):
    before = stored(app)
    response = signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": current, "password": password, "password_confirm": confirm},
    )
    assert response.status_code == 422
    text = body(response)
    assert message in text and f'id="{field}-error"' in text
    after = stored(app)
    assert (after.password_hash, after.session_epoch) == (before.password_hash, before.session_epoch)
    assert signed_in.get("/mon-compte/").status_code == 200


def test_attack_a_password_changed_to_itself_is_refused_next_to_the_new_password(app, signed_in, mailbox):
    """« Changing » the password to itself would end the other sessions and
    mail « modifié » while a thief who knows it keeps it: refused, nothing
    changes, and what is typed in « Informations personnelles » stays."""
    signed_in.submit("/mon-compte/informations/brouillon", {**PROFILE, "first_name": "Maria"})
    before, mails = stored(app), len(mailbox(EMAIL))
    response = signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert response.status_code == 422
    assert ("<html" in body(response)) is not signed_in.htmx
    assert "doit être différent du mot de passe actuel" in error_of(response, "password")
    assert 'value="Maria"' in body(response)  # the profile as typed, kept
    after = stored(app)
    assert (after.password_hash, after.session_epoch) == (before.password_hash, before.session_epoch)
    assert len(mailbox(EMAIL)) == mails
    assert signed_in.get("/mon-compte/").status_code == 200


def test_a_password_change_checks_the_stored_hash_once(app, signed_in, monkeypatch):
    """The new password is compared with the current one as typed: the one
    check of the hash (the current password) proves both."""
    import accounts

    checks = []
    verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda *args: checks.append(1) or verify(*args))
    signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert checks == []
    response = signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert "Votre mot de passe a été modifié" in followed(signed_in, response)
    assert checks == [1]


def test_the_password_form_shows_the_rule_checked_live(signed_in):
    text = body(signed_in.get("/mon-compte/"))
    assert "12 caractères minimum" in text
    assert 'data-hx-post="/mot-de-passe/regles"' in text
    assert 'autocomplete="current-password"' in text and 'autocomplete="new-password"' in text


def test_a_reset_link_sent_before_a_password_change_dies_with_the_old_password(app, signed_in, mailbox):
    from tests.support.signup import link_in

    app.test_client_class = type(signed_in)
    other = app.test_client()
    other.submit("/mot-de-passe-oublie/", {"email": EMAIL})
    [reset] = [m for m in mailbox(EMAIL) if "/mot-de-passe-oublie/" in m.body_text]
    link = link_in(reset)
    assert other.get(link).status_code == 200
    signed_in.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    response = other.submit(
        link, {"password": "Encore-Autre-Chose-9", "password_confirm": "Encore-Autre-Chose-9"}
    )
    assert response.status_code == 410
    assert other.submit("/connexion", {"email": EMAIL, "password": NEW_PASSWORD}).status_code in (204, 303)


def test_asking_again_for_a_link_to_a_contact_email_confirmed_meanwhile_says_so(app, signed_in, mailbox):
    """A second tab still shows « Renvoyer le lien de confirmation » after the
    link was opened: no link goes, and the answer says why instead of nothing."""
    signed_in.submit("/mon-compte/informations", {**PROFILE, "contact_email": "contact@exemple.fr"})
    [mail] = mailbox("contact@exemple.fr")
    other_browser = type(signed_in)(app, app.response_class)
    other_browser.get(link_in(mail))
    other_browser.submit(link_in(mail))
    assert stored(app).contact_email_confirmed

    text = followed(signed_in, signed_in.submit("/mon-compte/adresse-de-contact/renvoyer"))
    assert "L'adresse de contact est déjà confirmée : aucun lien n'a été envoyé." in text
    assert len(mailbox("contact@exemple.fr")) == 1
