"""Passkeys without a browser: the options the script asks for, and the
answers refused (the ceremony itself runs in Chromium, tests/browser)."""

from __future__ import annotations

import json
import re

import pytest

from models import SecondFactor, User, db, utcnow
from tests.support.app import outbox, query
from tests.support.passkeys import SoftPasskey, passkey_alone_account
from tests.support.responses import is_fragment, signs_in_first, text_of
from tests.support.second_factor import (
    FACTORS,
    VERIFY,
    forget_reauthentication,
    password_step,
)

PASSKEY = f"{FACTORS}cle-d-acces"
SESSION = "session"  # the name under TESTING (no HTTPS in the test client)


@pytest.fixture
def signed_in(app, any_client, signup):
    signup.create_account()
    signup.activate()
    password_step(any_client)
    return any_client


def test_the_passkey_page_works_without_javascript(signed_in):
    response = signed_in.get(PASSKEY)
    assert response.status_code == 200
    assert is_fragment(response) == signed_in.htmx
    page = text_of(response)
    assert "Ajouter une clé d'accès" in page and "<noscript>" in page
    assert "<script>" not in page  # the script is static/js/passkeys.js
    assert 'data-passkey-register="/mon-compte/verification-en-deux-etapes/cle-d-acces/options"' in page


def test_registration_options_name_the_portal_and_the_account(signed_in):
    response = signed_in.submit(f"{PASSKEY}/options")
    assert response.status_code == 200 and response.mimetype == "application/json"
    options = response.get_json()
    assert options["rp"] == {"id": "localhost", "name": "Portail Structures"}
    assert options["user"]["name"] == "marie.curie@exemple.fr"
    assert options["challenge"]


def test_registration_options_need_the_password_again(signed_in):
    forget_reauthentication(signed_in)
    assert signed_in.submit(f"{PASSKEY}/options").status_code == 403


def test_a_submission_without_a_passkey_says_so_next_to_the_form(app, signed_in):
    signed_in.submit(f"{PASSKEY}/options")
    response = signed_in.submit(PASSKEY, {"name": "Clé USB", "credential": ""})
    assert response.status_code == 422
    assert "La clé d'accès n'a pas pu être enregistrée" in text_of(response)
    assert 'value="Clé USB"' in text_of(response)  # nothing typed is lost
    with app.app_context(), db.connection_context():
        assert SecondFactor.select().count() == 0


def test_a_forged_registration_is_refused_forged_credential_attack(app, signed_in):
    signed_in.submit(f"{PASSKEY}/options")
    forged = json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}})
    response = signed_in.submit(PASSKEY, {"name": "Clé", "credential": forged})
    assert response.status_code == 422
    response = signed_in.submit(PASSKEY, {"name": "Clé", "credential": "{" * 5000})
    assert response.status_code == 422


def _register(client, passkey: SoftPasskey, name: str = "Clé USB"):
    challenge = client.submit(f"{PASSKEY}/options").get_json()["challenge"]
    return client.submit(PASSKEY, {"name": name, "credential": passkey.registration(challenge)})


def test_a_new_passkey_is_registered_through_the_page(app, signed_in):
    response = _register(signed_in, SoftPasskey())
    assert response.status_code == (200 if signed_in.htmx else 303)
    assert query(app, lambda: SecondFactor.get().name) == "Clé USB"
    # Its name is the holder's: the mail says it is a passkey (« Code par e-mail » would hide it).
    assert "la clé d'accès « Clé USB » a été ajoutée" in outbox(app)[-1].body_text


def test_attack_a_passkey_registered_twice_is_refused_next_to_the_form(app, signed_in):
    """The same credential sent again (a captured request played back, a
    double submit) is refused in words, not with a server error."""
    passkey = SoftPasskey()
    _register(signed_in, passkey)
    response = _register(signed_in, passkey, "Encore elle")
    assert response.status_code == 422
    assert is_fragment(response) == signed_in.htmx
    assert "Cette clé d'accès est déjà enregistrée." in text_of(response)
    assert 'value="Encore elle"' in text_of(response)
    assert query(app, lambda: SecondFactor.select().count()) == 1


def test_attack_another_accounts_passkey_cannot_be_registered_credential_squatting(app, signed_in):
    """A credential id is one passkey of one account: presenting another
    account's as new neither takes it over nor fails with a server error
    (which would also tell its holder's enrolment apart)."""
    from tests.support.app import user_row

    passkey = SoftPasskey()
    other = query(app, lambda: user_row("autre@exemple.fr"))
    query(app, lambda: passkey.enrol(other))
    response = _register(signed_in, passkey)
    assert response.status_code == 422
    assert "Cette clé d'accès est déjà enregistrée." in text_of(response)
    owners = query(app, lambda: [f.user_id for f in SecondFactor.select()])
    assert owners == [other.id]


def test_a_forged_passkey_answer_does_not_sign_in_forged_assertion_attack(app, signed_in):
    with app.app_context(), db.connection_context():
        from models import User

        user = User.get()
        SecondFactor.create(
            user=user, kind="passkey", name="Clé", credential_id="AAAA", public_key="AAAA",
            sign_count=0, confirmed_at=utcnow(),
        )  # fmt: skip
    signed_in.submit("/deconnexion")
    password_step(signed_in)
    page = text_of(signed_in.get(VERIFY))
    assert "Utiliser ma clé d'accès" in page
    # Hidden until passkeys.js finds WebAuthn: without JavaScript no button that cannot work.
    assert re.search(r"<form hidden [^>]*data-passkey-sign-in=", page)
    options = signed_in.submit(f"{VERIFY}cle-d-acces/options").get_json()
    assert [c["id"] for c in options["allowCredentials"]] == ["AAAA"]
    forged = json.dumps(
        {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
         "response": {"clientDataJSON": "AAAA", "authenticatorData": "AAAA", "signature": "AAAA"}}
    )  # fmt: skip
    response = signed_in.submit(VERIFY, {"method": "passkey", "credential": forged})
    assert response.status_code == 422
    assert "La clé d'accès n'a pas été reconnue" in text_of(response)
    assert signs_in_first(signed_in.get("/mon-compte/"))


def test_a_right_passkey_answer_signs_in(app, signed_in):
    passkey = SoftPasskey()
    query(app, lambda: passkey.enrol(User.get()))
    signed_in.submit("/deconnexion")
    password_step(signed_in)
    challenge = signed_in.submit(f"{VERIFY}cle-d-acces/options").get_json()["challenge"]
    response = signed_in.submit(VERIFY, {"method": "passkey", "credential": passkey.answer(challenge)})
    assert response.status_code < 400
    assert not signs_in_first(signed_in.get("/mon-compte/"))


def test_a_replayed_passkey_answer_does_not_sign_in_again_attack_replay(app, signed_in):
    """The challenge lives in the session's cookie: whoever captured the
    second step's request (its cookie and its body) could send it again and
    open a session of their own. A synced passkey's counter stays at 0, so
    the counter does not stop it; the passkey's last use does."""
    passkey = SoftPasskey()
    query(app, lambda: passkey.enrol(User.get()))
    signed_in.submit("/deconnexion")
    password_step(signed_in)
    challenge = signed_in.submit(f"{VERIFY}cle-d-acces/options").get_json()["challenge"]
    captured = signed_in.get_cookie(SESSION).value
    answer = passkey.answer(challenge)
    assert signed_in.submit(VERIFY, {"method": "passkey", "credential": answer}).status_code < 400

    attacker = app.test_client()
    attacker.set_cookie(SESSION, captured)
    response = attacker.submit(VERIFY, {"method": "passkey", "credential": answer})
    assert response.status_code == 422
    assert "La clé d'accès n'a pas été reconnue" in text_of(response)
    assert signs_in_first(attacker.get("/mon-compte/"))


@pytest.mark.parametrize("htmx", [False, True])
def test_a_replayed_passkey_alone_sign_in_is_refused_attack_replay(tmp_path, monkeypatch, mailbox, htmx):
    app, marie, passkey = passkey_alone_account(tmp_path, monkeypatch, htmx)
    challenge = marie.submit("/connexion/verification/cle-d-acces-seule/options").get_json()["challenge"]
    captured = marie.get_cookie(SESSION).value
    answer = passkey.answer(challenge)
    assert marie.submit("/connexion/verification/cle-d-acces-seule", {"credential": answer}).status_code < 400
    assert not signs_in_first(marie.get("/mon-compte/"))

    attacker = app.test_client()
    attacker.set_cookie(SESSION, captured)
    response = attacker.submit("/connexion/verification/cle-d-acces-seule", {"credential": answer})
    assert response.status_code == 422
    assert signs_in_first(attacker.get("/mon-compte/"))


def test_passkey_sign_in_is_off_by_default(app, client):
    assert client.submit("/connexion/verification/cle-d-acces-seule/options").status_code == 404
    assert client.submit("/connexion/verification/cle-d-acces-seule", {"credential": "{}"}).status_code == 404
    assert "Se connecter avec une clé d'accès" not in text_of(client.get("/connexion"))


@pytest.mark.parametrize("htmx", [False, True])
def test_passkey_sign_in_refuses_a_forged_answer_forged_assertion_attack(tmp_path, monkeypatch, htmx):
    from tests.support.app import Client, HtmxClient, clean_environment, make_app

    clean_environment(monkeypatch)
    app = make_app(tmp_path, PASSKEY_SIGN_IN=True)
    app.test_client_class = HtmxClient if htmx else Client
    client = app.test_client()
    page = text_of(client.get("/connexion"))
    assert "Se connecter avec une clé d'accès" in page
    options = client.submit("/connexion/verification/cle-d-acces-seule/options").get_json()
    assert (
        options["rpId"] == "localhost"
        and "allowCredentials" not in options
        or options["allowCredentials"] == []
    )
    response = client.submit("/connexion/verification/cle-d-acces-seule", {"credential": '{"id": "AAAA"}'})
    assert response.status_code == 422
    assert is_fragment(response) == htmx
    assert "La clé d'accès n'a pas été reconnue" in text_of(response)
    assert signs_in_first(client.get("/mon-compte/"))


def _passkey_alone(client, passkey, url: str):
    challenge = client.submit("/connexion/verification/cle-d-acces-seule/options").get_json()["challenge"]
    return client.submit(url, {"credential": passkey.answer(challenge)})


def _went_to(client, response) -> str:
    if client.htmx:
        assert response.status_code == 204, response.get_data(as_text=True)
        return response.headers["HX-Redirect"]
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_passkey_alone_leads_to_the_page_asked_for(tmp_path, monkeypatch, mailbox, htmx):
    """A manager's mail links to « Approbations »; signed out, they are sent
    to « Se connecter » with that page to come back to: a passkey leads there
    as the password does."""
    _, marie, passkey = passkey_alone_account(tmp_path, monkeypatch, htmx)
    login = marie.get("/connexion?next=/mon-compte/")
    assert "/connexion/verification/cle-d-acces-seule?next=/mon-compte/" in login.get_data(as_text=True)
    response = _passkey_alone(marie, passkey, "/connexion/verification/cle-d-acces-seule?next=/mon-compte/")
    assert _went_to(marie, response) == "/mon-compte/"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_passkey_not_recognised_keeps_the_page_asked_for(tmp_path, monkeypatch, mailbox, htmx):
    """After a passkey refused, the password form and the passkey's form
    still lead back to the page asked for."""
    _, marie, _passkey = passkey_alone_account(tmp_path, monkeypatch, htmx)
    marie.submit("/connexion/verification/cle-d-acces-seule/options")
    alone = "/connexion/verification/cle-d-acces-seule?next=/mon-compte/"
    response = marie.submit(alone, {"credential": "{}"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'action="/connexion?next=/mon-compte/"' in page
    assert 'action="/connexion/verification/cle-d-acces-seule?next=/mon-compte/"' in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/mon-compte/informations"]
)
def test_attack_a_passkey_alone_never_leads_off_site_nor_to_a_form(tmp_path, monkeypatch, mailbox, target):
    _, marie, passkey = passkey_alone_account(tmp_path, monkeypatch, htmx=False)
    response = _passkey_alone(marie, passkey, f"/connexion/verification/cle-d-acces-seule?next={target}")
    assert _went_to(marie, response) == "/structure/"


def test_attack_strangers_asking_passkey_options_cannot_keep_the_owner_out_lockout(tmp_path, monkeypatch):
    """A stranger who knows the password asks the second step's passkey
    options until the account's limit: the owner's browser, known to the
    account, is counted on its own and still uses its passkey."""
    from tests.support.app import limited_app, outbox
    from tests.support.structures import sign_up

    app = limited_app(tmp_path, monkeypatch, RATELIMIT_SECOND_FACTOR_EMAIL="3 per 15 minutes")
    owner = sign_up(app.test_client(), lambda recipient=None: outbox(app, recipient))
    passkey = SoftPasskey()
    query(app, lambda: passkey.enrol(User.get()))
    owner.submit("/deconnexion")

    stranger = app.test_client()
    password_step(stranger)
    statuses = [stranger.submit(f"{VERIFY}cle-d-acces/options").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    password_step(owner)
    options = owner.submit(f"{VERIFY}cle-d-acces/options")
    assert options.status_code == 200
    answer = passkey.answer(options.get_json()["challenge"])
    assert owner.submit(VERIFY, {"method": "passkey", "credential": answer}).status_code == 303
