"""Codes by e-mail: 6 digits, 10 minutes, single use, a new one revokes the
older; delivered through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from models import EmailCode, OutboxMail, User, db, utcnow
from tests.support.app import limited_app, outbox
from tests.support.constants import EMAIL, PASSWORD
from tests.support.i18n import speak
from tests.support.responses import error_of, is_fragment, text_of
from tests.support.second_factor import (
    FACTORS,
    VERIFY,
    codes_page,
    password_step,
    reauthenticate,
    second_step,
)
from tests.support.signup import sign_up
from tests.support.structures import sign_up as signed_up

CODE = re.compile(r"Votre code de connexion au Portail Structures : (\d{6})")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, text
    return match.group(1)


def last_code(app) -> str:
    with app.app_context(), db.connection_context():
        mail = (
            OutboxMail.select()
            .where(OutboxMail.subject == "Votre code de connexion")
            .order_by(OutboxMail.id.desc())
            .get()
        )
        return code_in(mail.body_text)


def codes_mailed(app) -> int:
    with app.app_context(), db.connection_context():
        return OutboxMail.select().where(OutboxMail.subject == "Votre code de connexion").count()


def enrol_email(client, app) -> None:
    reauthenticate(client)
    response = client.submit(f"{FACTORS}e-mail")
    assert response.status_code == (200 if client.htmx else 303)
    response = client.submit(f"{FACTORS}e-mail/valider", {"code": last_code(app)})
    assert "Vos codes de secours" in codes_page(client, response)


def test_codes_by_e_mail_reach_a_real_smtp_server(smtp_app, smtp):
    client = smtp_app.test_client()
    assert sign_up(client).status_code == 303
    [activation] = smtp.wait_for(1)
    link = re.search(r"http://portail\.test(/activation/\S+)", activation.get_body(("plain",)).get_content())
    client.submit(link.group(1), {"password": PASSWORD, "password_confirm": PASSWORD})
    reauthenticate(client)
    client.submit(f"{FACTORS}e-mail")
    message = smtp.wait_for(2)[1]
    assert message["To"] == EMAIL
    assert message["Subject"] == "Portail Structures – Votre code de connexion"
    code = code_in(message.get_body(("plain",)).get_content())
    assert code in message.get_body(("html",)).get_content()
    assert client.submit(f"{FACTORS}e-mail/valider", {"code": code}).status_code == 303
    client.submit("/deconnexion")

    password_step(client)
    client.submit(f"{VERIFY}code-par-e-mail")
    messages = smtp.wait_for(5)  # the change notification, then the sign-in code
    sign_in_code = code_in(messages[-1].get_body(("plain",)).get_content())
    assert second_step(client, sign_in_code, method="email").status_code == 303
    assert client.get("/mon-compte/").status_code == 200


def test_a_wrong_code_at_enrolment_offers_the_new_code_its_message_speaks_of(app, any_client, signup):
    """« Vérifiez-le, ou demandez un nouveau code »: the button was shown only
    once the code had had all its tries."""
    signup.create_account()
    signup.activate()
    password_step(any_client)
    reauthenticate(any_client)
    any_client.submit(f"{FACTORS}e-mail")
    asking = f'formaction="{FACTORS}e-mail"'
    assert asking not in text_of(any_client.get(f"{FACTORS}e-mail"))
    response = any_client.submit(f"{FACTORS}e-mail/valider", {"code": "000000"})
    assert response.status_code == 422 and "demandez un nouveau code" in error_of(response, "code")
    assert asking in text_of(response) and "Demander un nouveau code" in text_of(response)
    # Enter in the code still activates: the form's first submit button is « Activer ».
    form = text_of(response).split('id="code"')[0].rsplit("<form", 1)[1]
    assert re.search(r'<button type="submit" hidden>Activer</button>', form)
    any_client.submit(f"{FACTORS}e-mail")
    assert codes_mailed(app) == 2  # a new code, which enrols
    response = any_client.submit(f"{FACTORS}e-mail/valider", {"code": last_code(app)})
    assert "Vos codes de secours" in codes_page(any_client, response)


@pytest.fixture
def enrolled(app, any_client, signup):
    signup.create_account()
    signup.activate()
    password_step(any_client)
    enrol_email(any_client, app)
    any_client.submit("/deconnexion")
    return any_client


def test_the_mail_that_tells_of_the_method_added_agrees_with_its_name(app, enrolled):
    """« Code par e-mail » is masculine: the change is said of « la méthode »,
    whatever the method's name (« Code par e-mail » a été ajoutée was wrong)."""
    changed = [m for m in outbox(app, EMAIL) if "Vos méthodes de connexion ont été modifiées" in m.subject]
    assert "modifiées : la méthode « Code par e-mail » a été ajoutée." in changed[-1].body_text


def test_the_e_mail_method_is_offered_first_and_sends_on_request(app, enrolled):
    client = enrolled
    response = password_step(client)
    page = text_of(response) if client.htmx else text_of(client.get(VERIFY))
    assert "Recevoir un code par e-mail" in page
    response = client.submit(f"{VERIFY}code-par-e-mail")
    if client.htmx:
        assert response.status_code == 200 and is_fragment(response)
    else:  # Post/Redirect/Get
        assert response.status_code == 303 and response.headers["Location"] == f"{VERIFY}?methode=email"
        response = client.get(response.headers["Location"])
    assert "Un code vous a été envoyé à marie.curie@exemple.fr" in text_of(response)
    assert "Code à 6 chiffres reçu par e-mail" in text_of(response)
    assert second_step(client, last_code(app), method="email").status_code in (204, 303)


def test_the_page_after_sending_a_code_reloads_without_sending_another(app, enrolled):
    """Without JavaScript the code's page is a GET of its own: reloading it,
    or switching language there, neither sends a new code (which would
    revoke the one on its way) nor leaves the second step."""
    client = enrolled
    password_step(client)
    response = client.submit(f"{VERIFY}code-par-e-mail")
    code, mails = last_code(app), len(outbox(app, EMAIL))
    shown_at = response.headers.get("Location") or response.headers.get("HX-Push-Url") or VERIFY
    if not client.htmx:
        assert shown_at == f"{VERIFY}?methode=email"
    reload = client.get(shown_at)
    assert reload.status_code == 200
    assert "Code à 6 chiffres reçu par e-mail" in text_of(reload)
    assert len(outbox(app, EMAIL)) == mails and last_code(app) == code
    assert second_step(client, code, method="email").status_code in (204, 303)


@pytest.mark.parametrize(
    ("stored", "switched", "subject"),
    [("fr", "en", "Your sign-in code"), ("en", "fr", "Votre code de connexion")],
)
def test_the_code_is_mailed_in_the_language_chosen_on_the_second_step(
    app, enrolled, stored, switched, subject
):
    """Nobody is signed in yet on the second step: a switch of language
    there is not the account's, yet the code read at once follows it."""
    client = enrolled
    with app.app_context(), db.connection_context():
        User.update(language=stored).execute()
    with client.session_transaction() as session:
        session.pop("lang", None)  # no choice made before signing in
    password_step(client)
    speak(client, switched, page=VERIFY)
    client.submit(f"{VERIFY}code-par-e-mail")
    mail = outbox(app, EMAIL)[-1]
    assert (mail.subject, mail.language) == (subject, switched)
    code = re.search(r"\b(\d{6})\b", mail.body_text).group(1)
    assert second_step(client, code, method="email").status_code in (204, 303)


def test_a_right_code_typed_in_full_width_digits_signs_in(app, enrolled):
    client = enrolled
    password_step(client)
    client.submit(f"{VERIFY}code-par-e-mail")
    wide = last_code(app).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = second_step(client, wide, method="email")
    assert response.status_code in (204, 303), text_of(response)
    assert client.get("/mon-compte/").status_code == 200


def test_an_e_mail_code_serves_once(app, enrolled):
    client = enrolled
    code = code_asked(client, app)
    assert second_step(client, code, method="email").status_code in (204, 303)
    client.submit("/deconnexion")
    password_step(client)
    assert second_step(client, code, method="email").status_code == 422


def test_a_new_e_mail_code_revokes_the_older(app, enrolled):
    client = enrolled
    password_step(client)
    client.submit(f"{VERIFY}code-par-e-mail")
    older = last_code(app)
    client.submit(f"{VERIFY}code-par-e-mail")
    newer = last_code(app)
    if older == newer:  # one chance in a million
        return
    response = second_step(client, older, method="email")
    assert response.status_code == 422
    assert "Ce code est incorrect ou a expiré" in error_of(response, "code")
    assert second_step(client, newer, method="email").status_code in (204, 303)


def test_an_e_mail_code_expires_after_ten_minutes(app, enrolled):
    client = enrolled
    code = code_asked(client, app)
    with app.app_context(), db.connection_context():
        row = EmailCode.select().order_by(EmailCode.id.desc()).get()
        assert timedelta(minutes=9) < row.expires_at - row.created_at <= timedelta(minutes=10)
        EmailCode.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    response = second_step(client, code, method="email")
    assert response.status_code == 422
    # Trying again cannot help an expired code: the message says to ask for a new one.
    assert "Vérifiez-le, ou demandez un nouveau code." in error_of(response, "code")


def test_e_mail_codes_are_stored_hashed(app, enrolled):
    client = enrolled
    code = code_asked(client, app)
    with app.app_context(), db.connection_context():
        assert all(code not in row.code_hash for row in EmailCode.select())


def test_no_code_is_mailed_without_the_password_step_mail_bomb_attack(app, enrolled):
    fresh = app.test_client()
    response = fresh.submit(f"{VERIFY}code-par-e-mail")
    assert response.status_code == 303
    with app.app_context(), db.connection_context():
        assert EmailCode.select().count() == 1  # the enrolment's only


def test_attack_strangers_asking_codes_cannot_keep_them_from_the_owner_lockout(tmp_path, monkeypatch):
    """A stranger who knows the password asks for codes until the account's
    limit: the owner's browser, known to the account, is counted on its own
    and still gets a code (as for the codes typed, devices.py)."""
    app = limited_app(tmp_path, monkeypatch, RATELIMIT_EMAIL_CODE_EMAIL="3 per 15 minutes")
    owner = signed_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    enrol_email(owner, app)
    owner.submit("/deconnexion")

    stranger = app.test_client()
    password_step(stranger)
    statuses = [stranger.submit(f"{VERIFY}code-par-e-mail").status_code for _ in range(4)]
    assert statuses == [303, 303, 303, 429]
    password_step(owner)
    assert owner.submit(f"{VERIFY}code-par-e-mail").status_code == 303
    assert second_step(owner, last_code(app), method="email").status_code == 303


@pytest.mark.parametrize("htmx", [False, True])
def test_the_pages_give_the_codes_validity_that_is_set(tmp_path, monkeypatch, htmx):
    """FLASK_EMAIL_CODE_TTL_MINUTES: the pages say what the mail says and
    what the code does, not a fixed « 10 minutes »."""
    from tests.support.app import Client, HtmxClient, clean_environment, make_app

    clean_environment(monkeypatch)
    app = make_app(tmp_path, EMAIL_CODE_TTL_MINUTES=3)
    app.test_client_class = HtmxClient if htmx else Client
    client = app.test_client()
    sign_up(client)
    link = re.search(r"(/activation/\S+)", outbox(app, EMAIL)[-1].body_text).group(1)
    client.submit(link, {"password": PASSWORD, "password_confirm": PASSWORD})
    reauthenticate(client)
    response = client.submit(f"{FACTORS}e-mail")
    page = text_of(response if htmx else client.get(f"{FACTORS}e-mail"))
    assert "Il est valable 3 minutes." in page and "10 minutes" not in page
    assert "valable 3 minutes" in outbox(app, EMAIL)[-1].body_text
    client.submit(f"{FACTORS}e-mail/valider", {"code": last_code(app)})
    client.submit("/deconnexion")

    password_step(client)
    page = text_of(client.get(f"{VERIFY}?methode=email"))
    assert "Il est valable 3 minutes ; un nouveau code remplace le précédent." in page
    response = client.submit(f"{VERIFY}code-par-e-mail")
    page = text_of(response if htmx else client.get(response.headers["Location"]))
    assert "Un code vous a été envoyé à marie.curie@exemple.fr. Il est valable 3 minutes." in page
    assert "10 minutes" not in page
    english = text_of(client.get(f"{VERIFY}?methode=email", headers={"Accept-Language": "en"}))
    assert "It is valid for 3 minutes" in english


# -- a mailed code dies after five tries ----------------------------------------------------

SPENT = "Ce code n'est plus valable : il a été saisi trop de fois sans succès. Demandez un nouveau code."
NEW_CODE = "Demander un nouveau code"


def wrong_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def code_asked(client, app) -> str:
    """The password given, a code asked by e-mail: the code mailed."""
    password_step(client)
    client.submit(f"{VERIFY}code-par-e-mail")
    return last_code(app)


def test_attack_guessing_a_mailed_code_ends_after_five_wrong_tries(app, enrolled):
    """Only the rate limits capped the guesses (per account, address and
    browser: a stranger with the password guessed on). Five wrong tries and
    the code is dead, said next to its field with the button for a new one."""
    client = enrolled
    code = code_asked(client, app)
    for _ in range(4):
        response = second_step(client, wrong_code(code), method="email")
        assert response.status_code == 422
        assert "Ce code est incorrect ou a expiré" in error_of(response, "code")
        assert NEW_CODE not in text_of(response)
    response = second_step(client, wrong_code(code), method="email")
    assert response.status_code == 422 and is_fragment(response) == client.htmx
    assert SPENT in error_of(response, "code")
    assert NEW_CODE in text_of(response)
    # Enter in the field still sends « Valider »: it is the form's first submit button.
    form = text_of(response).split('id="code"')[0].rsplit("<form", 1)[1]
    assert '<button type="submit" hidden>Valider</button>' in form
    response = second_step(client, code, method="email")  # the right one, too late
    assert response.status_code == 422 and SPENT in error_of(response, "code")
    assert client.get("/mon-compte/").status_code != 200


def test_attack_the_right_code_after_its_tries_is_refused_as_a_wrong_one_says_nothing(app, enrolled):
    """Once the tries are gone, the right code and a wrong one get the same
    answer: the refusal tells nothing about the code."""
    client = enrolled
    code = code_asked(client, app)
    for _ in range(5):
        second_step(client, wrong_code(code), method="email")
    right, wrong = (second_step(client, attempt, method="email") for attempt in (code, wrong_code(code)))
    assert right.status_code == wrong.status_code == 422

    def strip(response) -> str:  # the code typed and the CSRF token aside
        return re.sub(r'value="[^"]*"|"X-CSRFToken": "[^"]*"', "", text_of(response))

    assert strip(right) == strip(wrong)


def test_a_new_code_asked_from_next_to_the_field_starts_afresh(app, enrolled):
    client = enrolled
    code = code_asked(client, app)
    for _ in range(5):
        response = second_step(client, wrong_code(code), method="email")
    assert f'formaction="{VERIFY}code-par-e-mail"' in text_of(response)
    # The button sends the code form (its fields included) to the address that mails a code.
    response = client.submit(f"{VERIFY}code-par-e-mail", {"method": "email", "code": wrong_code(code)})
    page = text_of(response if client.htmx else client.get(response.headers["Location"]))
    assert "Un code vous a été envoyé à marie.curie@exemple.fr" in page and NEW_CODE not in page
    newer = last_code(app)
    for _ in range(4):
        response = second_step(client, wrong_code(newer), method="email")
        assert "Ce code est incorrect" in error_of(response, "code")
    assert second_step(client, newer, method="email").status_code in (204, 303)
    assert client.get("/mon-compte/").status_code == 200


def test_attack_tries_sent_at_once_take_five_in_all(any_database_app):
    """Wrong tries sent at the same instant (on PostgreSQL, each in its own
    transaction): the database counts them, so no more than five are ever
    compared, and the right code then finds the code dead."""
    from tests.support.concurrency import at_once

    app = any_database_app
    with app.app_context(), db.connection_context():
        user = User.create(
            email=EMAIL, first_name="Marie", last_name="Curie", contact_email=EMAIL,
            terms_accepted_at=utcnow(), status=User.ACTIVE,
        )  # fmt: skip
        code = EmailCode.issue(user, timedelta(minutes=10))

    def guess():
        with app.app_context(), db.connection_context(), db.atomic():
            return EmailCode.use(user, wrong_code(code))

    outcomes = at_once([guess] * 8)
    assert sorted(outcomes) == [EmailCode.SPENT] * 4 + [EmailCode.WRONG] * 4
    with app.app_context(), db.connection_context():
        assert EmailCode.use(user, code) == EmailCode.SPENT
        assert EmailCode.get().tries == EmailCode.MAX_TRIES


def test_attack_guessing_the_enrolment_code_ends_after_five_wrong_tries(app, any_client, signup):
    """The code that confirms the address at enrolment is a mailed code too."""
    client = any_client
    signup.create_account()
    signup.activate()
    password_step(client)
    reauthenticate(client)
    client.submit(f"{FACTORS}e-mail")
    code = last_code(app)
    for _ in range(4):
        response = client.submit(f"{FACTORS}e-mail/valider", {"code": wrong_code(code)})
        assert "Ce code est incorrect" in error_of(response, "code")
    response = client.submit(f"{FACTORS}e-mail/valider", {"code": wrong_code(code)})
    assert response.status_code == 422 and SPENT in error_of(response, "code")
    assert f'formaction="{FACTORS}e-mail"' in text_of(response) and NEW_CODE in text_of(response)
    assert SPENT in error_of(client.submit(f"{FACTORS}e-mail/valider", {"code": code}), "code")
    client.submit(f"{FACTORS}e-mail", {"code": wrong_code(code)})  # « Demander un nouveau code »
    response = client.submit(f"{FACTORS}e-mail/valider", {"code": last_code(app)})
    assert "Vos codes de secours" in codes_page(client, response)


# -- the e-mail method asked of an account without it ----------------------------------------


def test_asking_for_a_code_without_the_e_mail_method_says_so(app, any_client, signup):
    """A page opened before the method was removed elsewhere (or a forged
    request): the step is shown again with a message, no code is mailed."""
    from tests.support.second_factor import enrol_totp

    client = any_client
    signup.create_account()
    signup.activate()
    password_step(client)
    enrol_totp(client)
    client.submit("/deconnexion")
    password_step(client)
    mails = len(outbox(app, EMAIL))
    response = client.submit(f"{VERIFY}code-par-e-mail")
    assert response.status_code == 422 and is_fragment(response) == client.htmx
    page = text_of(response)
    assert "Votre compte ne reçoit pas de codes par e-mail. Utilisez l'une des méthodes ci-dessous." in page
    assert 'role="alert"' in page and "Code à 6 chiffres de votre application" in page
    assert len(outbox(app, EMAIL)) == mails
    english = text_of(client.submit(f"{VERIFY}code-par-e-mail", headers={"Accept-Language": "en"}))
    assert "Your account does not receive codes by email." in english
