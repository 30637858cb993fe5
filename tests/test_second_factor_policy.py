"""FLASK_TWO_FACTOR_POLICY (optional, managers, all), the last factor under
a policy, a password reset followed by the second factor, and the limits."""

from __future__ import annotations

import re
import time

import pytest

from factors import REAUTH_KEY, shown_codes
from models import RecoveryCode, SecondFactor, db
from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox
from tests.support.constants import EMAIL, NEW_PASSWORD, PASSWORD
from tests.support.operators import grant
from tests.support.responses import follow, led_to, sent_to_sign_in, text_of
from tests.support.second_factor import (
    FACTORS,
    RECOVERY_CODES,
    VERIFY,
    code_at,
    enrol_totp,
    password_step,
    reauthenticate,
    second_step,
)
from tests.support.signup import Signup
from tests.support.structures import create_structure, sign_up


def policy_app(tmp_path, monkeypatch, policy: str, **overrides):
    clean_environment(monkeypatch)
    return make_app(tmp_path, TWO_FACTOR_POLICY=policy, **overrides)


def client_of(app, htmx: bool = False) -> Client:
    app.test_client_class = HtmxClient if htmx else Client
    return app.test_client()


def activate(app, client) -> object:
    signup = Signup(client, lambda recipient=None: outbox(app, recipient))
    signup.create_account()
    return signup.activate()


def test_an_unknown_policy_refuses_to_start(tmp_path, monkeypatch):
    from config import SettingError

    with pytest.raises(SettingError, match="FLASK_TWO_FACTOR_POLICY"):
        policy_app(tmp_path, monkeypatch, "sometimes")


def test_under_optional_activation_leads_to_the_structure(tmp_path, monkeypatch):
    app = policy_app(tmp_path, monkeypatch, "optional")
    response = activate(app, client_of(app))
    assert response.headers["Location"] == "/structure/"


@pytest.mark.parametrize("htmx", [False, True])
def test_under_all_enrolment_is_step_4b_right_after_activation(tmp_path, monkeypatch, htmx):
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    response = activate(app, client)
    if htmx:
        assert response.headers["HX-Push-Url"] == FACTORS
        page = text_of(response)
    else:
        assert response.headers["Location"] == FACTORS
        page = text_of(client.get(FACTORS))
    assert "Étape 5 sur 7" in page and "Vérification en deux étapes" in page
    assert "obligatoire pour votre compte" in page
    # The password was just chosen: no need to type it again.
    assert "Ajouter une application d'authentification" in page
    # Anything else leads back to enrolment.
    response = client.get("/structure/")
    if htmx:
        assert response.headers["HX-Redirect"] == FACTORS
    else:
        assert response.headers["Location"] == FACTORS
    secret, codes = enrol_totp(client)
    # « J'ai conservé mes codes » goes on to step 5.
    response = client.submit("/mon-compte/verification-en-deux-etapes/codes-de-secours/conserves")
    if htmx:
        assert response.headers["HX-Push-Url"] == "/structure/"
    else:
        assert response.headers["Location"] == "/structure/"
    assert client.get("/structure/").status_code == 200
    # The flow's later steps are renumbered.
    assert "Étape 6 sur 7" in text_of(client.get("/structure/"))


def codes_past_their_time(tmp_path, monkeypatch, htmx):
    """A sign-up under the « all » policy, on step 4b's codes, ten minutes later."""
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    activate(app, client)
    enrol_totp(client)
    later = time.time() + shown_codes.MINUTES * 60 + 1
    monkeypatch.setattr(shown_codes.time, "time", lambda: later)
    return client


@pytest.mark.parametrize("htmx", [False, True])
def test_the_sign_up_goes_on_to_step_5_after_its_codes_time_passed(tmp_path, monkeypatch, htmx):
    """Step 4b's codes page opened again past their ten minutes leads to
    step 5, and says where new codes are made."""
    client = codes_past_their_time(tmp_path, monkeypatch, htmx)
    response = client.get(RECOVERY_CODES)
    assert response.status_code == 303 and response.headers["Location"] == "/structure/"
    text = text_of(client.get("/structure/"))
    assert "Vos codes de secours ne sont plus affichés" in text and "depuis Mon compte" in text
    assert "Étape 6 sur 7" in text


@pytest.mark.parametrize("htmx", [False, True])
def test_noting_the_sign_ups_codes_past_their_time_goes_on_to_step_5(tmp_path, monkeypatch, htmx):
    client = codes_past_their_time(tmp_path, monkeypatch, htmx)
    response = client.submit(f"{RECOVERY_CODES}/conserves")
    assert (response.headers.get("HX-Push-Url") or response.headers["Location"]) == "/structure/"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_account_that_must_enrol_still_reads_legal_pages_and_has_its_rights(tmp_path, monkeypatch, htmx):
    """Before enrolling: the terms, the legal notice, the accessibility
    statement, the language switch and the person's own data stay open."""
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    activate(app, client)
    for url in ("/conditions", "/mentions-legales", "/declaration-accessibilite",
                "/mon-compte/donnees", "/mon-compte/donnees.json", "/mon-compte/supprimer"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    switched = client.submit("/langue", {"lang": "en", "next": "/mentions-legales"})
    assert (switched.headers.get("HX-Redirect") or switched.headers["Location"]) == "/mentions-legales"
    assert '<html lang="en">' in text_of(client.get("/mentions-legales", headers={"HX-Request": "false"}))


@pytest.mark.parametrize("htmx", [False, True])
def test_an_account_that_must_enrol_reaches_nothing_else_attack_gate_bypass(tmp_path, monkeypatch, htmx):
    """Every other page and form leads to enrolment: a page or a form sent
    without htmx by a 303 (never a bare 204, which leaves the browser where
    it was without a word), under htmx by a whole-page HX-Redirect."""
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    activate(app, client)
    answers = [
        client.get("/structure/"),
        client.get("/espace/"),
        client.submit("/structure/nouvelle", {"identifier_type": "siret"}),
        client.submit("/structure/nouvelle/brouillon", {"identifier_type": "siret"}),
        client.submit("/structure/rattachement/demande", {"identifier_type": "siret"}),
    ]
    for response in answers:
        if htmx:
            assert response.status_code == 204 and response.headers["HX-Redirect"] == FACTORS
        else:
            assert response.status_code == 303 and response.headers["Location"] == FACTORS


@pytest.mark.parametrize("htmx", [False, True])
def test_an_account_that_must_enrol_still_secures_and_edits_its_own_account(tmp_path, monkeypatch, htmx):
    """« Mon compte » shows its forms to an account that must enrol: they
    work. The survey consent is withdrawn as easily as it was given, and a
    person who fears someone knows the password changes it, or signs out
    everywhere, before anything else; a half-typed profile's autosave never
    takes the page away."""
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    activate(app, client)

    def stays(response) -> None:
        assert response.status_code in (200, 204, 303), response.status_code
        assert FACTORS not in (response.headers.get("Location", "") + response.headers.get("HX-Redirect", ""))

    assert "Votre consentement est retiré" in follow(client, client.submit("/mon-compte/enquete", {}))
    stays(client.submit("/mon-compte/informations/brouillon", {"first_name": "Mar"}))
    changed = client.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert "Votre mot de passe a été modifié" in follow(client, changed)
    stays(client.submit("/mon-compte/deconnexion-partout"))
    assert sent_to_sign_in(client, client.get("/mon-compte/")).startswith("/connexion")


def test_a_password_change_keeps_the_second_step_passed_and_the_password_given(app, client, mailbox):
    """Changing the password starts the session afresh (every other one
    ends): it went on without its second step passed, so an operator was
    asked for it again before « Administration », and the password just
    given was asked again before a factor's change."""
    sign_up(client, mailbox)
    grant(app, EMAIL)
    enrol_totp(client)
    assert client.get("/administration/").status_code == 200
    response = client.submit(
        "/mon-compte/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code in (200, 204, 303)
    assert client.get("/administration/").status_code == 200
    with client.session_transaction() as session:
        assert time.time() - session[REAUTH_KEY] < 60


def test_the_flow_keeps_six_steps_without_the_policy(app, client, signup):
    signup.create_account()
    signup.activate()
    assert "Étape 5 sur 6" in text_of(client.get("/structure/"))


def test_under_managers_a_new_gestionnaire_principal_is_led_to_enrolment(tmp_path, monkeypatch):
    app = policy_app(tmp_path, monkeypatch, "managers")
    client = client_of(app)
    response = activate(app, client)
    assert response.headers["Location"] == "/structure/"  # not a manager yet
    create_structure(client)
    response = client.get("/espace/")
    assert response.status_code == 303 and response.headers["Location"] == FACTORS
    client.submit("/deconnexion")
    response = password_step(client)
    assert response.headers["Location"] == FACTORS


def test_the_last_factor_cannot_be_removed_under_a_policy(tmp_path, monkeypatch):
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app)
    activate(app, client)
    enrol_totp(client)
    with app.app_context(), db.connection_context():
        factor_id = SecondFactor.get().id
    reauthenticate(client)
    response = client.submit(f"{FACTORS}retirer/{factor_id}")
    assert response.status_code == 409
    assert "Vous ne pouvez pas retirer votre dernière méthode" in text_of(response)
    with app.app_context(), db.connection_context():
        assert SecondFactor.select().count() == 1


def test_a_reset_by_e_mail_does_not_skip_the_second_factor_reset_bypass_attack(app, any_client, signup):
    signup.create_account()
    signup.activate()
    secret, codes = enrol_totp(signup.client)
    signup.client.submit("/deconnexion")
    any_client.submit("/mot-de-passe-oublie/", {"email": EMAIL})
    mail = [m for m in outbox(app, EMAIL) if m.subject == "Réinitialisez votre mot de passe"][-1]
    link = re.search(r"http://localhost(/mot-de-passe-oublie/\S+)", mail.body_text).group(1)
    response = any_client.submit(link, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    if any_client.htmx:
        assert response.headers["HX-Push-Url"] == VERIFY
    else:
        assert response.headers["Location"] == VERIFY
    sent_to_sign_in(any_client, any_client.get("/mon-compte/"))  # not signed in yet
    # A recovery code counts.
    response = second_step(any_client, codes[0], method="recovery")
    assert response.status_code in (204, 303)
    assert any_client.get("/mon-compte/").status_code == 200


def test_guessing_codes_is_slowed_per_account_brute_force_attack(tmp_path, monkeypatch):
    app = policy_app(
        tmp_path,
        monkeypatch,
        "optional",
        RATELIMIT_ENABLED=True,
        RATELIMIT_SECOND_FACTOR_EMAIL="3 per 15 minutes",
        RATELIMIT_SIGN_UP="100 per minute",
    )
    owner = client_of(app)
    activate(app, owner)
    secret, _ = enrol_totp(owner)
    owner.submit("/deconnexion")
    attacker = client_of(app)
    password_step(attacker)
    statuses = [second_step(attacker, "000000").status_code for _ in range(4)]
    assert statuses[:3] == [422, 422, 422] and statuses[3] == 429
    # A slowdown, not a lockout: the page says when to try again.
    assert "Retry-After" in second_step(attacker, code_at(secret, +1)).headers


def test_strangers_guessing_codes_cannot_lock_the_owner_out_lockout_attack(tmp_path, monkeypatch):
    app = policy_app(
        tmp_path,
        monkeypatch,
        "optional",
        RATELIMIT_ENABLED=True,
        RATELIMIT_SECOND_FACTOR_EMAIL="3 per 15 minutes",
        RATELIMIT_SIGN_UP="100 per minute",
    )
    owner = client_of(app)
    activate(app, owner)  # the owner's browser is known to the account from now on
    secret, _ = enrol_totp(owner)
    owner.submit("/deconnexion")
    attacker = client_of(app)
    password_step(attacker)
    for _ in range(4):
        second_step(attacker, "000000")
    assert second_step(attacker, "000000").status_code == 429
    # The owner's browser is counted on its own: it gets through.
    password_step(owner)
    assert second_step(owner, "000000").status_code == 422
    assert second_step(owner, code_at(secret, +1)).status_code == 303


# -- the last factor removed while the second step is open -----------------------------------

NO_FACTOR_LEFT = (
    "Votre compte n'a plus de méthode de vérification en deux étapes : "
    "vous êtes connecté avec votre mot de passe seul."
)


def removed_elsewhere(app, secret: str) -> None:
    """The account's own other session removes its only factor (the password given again)."""
    other = client_of(app)
    password_step(other)
    assert second_step(other, code_at(secret, +1)).status_code == 303
    reauthenticate(other)
    with app.app_context(), db.connection_context():
        factor_id = SecondFactor.get().id
    assert other.submit(f"{FACTORS}retirer/{factor_id}", {"turn_off": "y"}).status_code == 303


def open_second_step(app, client) -> str:
    """An account with an app, signed out, its second step open in ``client``."""
    activate(app, client)
    secret, _ = enrol_totp(client)
    client.submit("/deconnexion")
    password_step(client)
    return secret


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("action", ["reload", "code", "email"])
def test_the_last_factor_removed_meanwhile_signs_in_with_the_password_alone(
    tmp_path, monkeypatch, htmx, action
):
    """The step offered only « Code de secours », and the account had none
    left: it now signs in as an account without a factor does, told why,
    whichever the person does on the page left open."""
    app = policy_app(tmp_path, monkeypatch, "optional")
    client = client_of(app, htmx)
    secret = open_second_step(app, client)
    removed_elsewhere(app, secret)
    response = {
        "reload": lambda: client.get(VERIFY),
        "code": lambda: second_step(client, "abcde-fghjk", method="recovery"),
        "email": lambda: client.submit(f"{VERIFY}code-par-e-mail"),
    }[action]()
    assert led_to(client, response) == "/structure/"
    page = text_of(client.get("/mon-compte/", headers={"HX-Request": "false"}))
    assert NO_FACTOR_LEFT in page
    assert client.get("/mon-compte/").status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_the_last_factor_removed_meanwhile_under_a_policy_leads_to_enrolment(tmp_path, monkeypatch, htmx):
    """Under « all » (an operator removed the factor: the account may not),
    the account signs in and is led to enrolment, as after its activation."""
    app = policy_app(tmp_path, monkeypatch, "all")
    client = client_of(app, htmx)
    open_second_step(app, client)
    with app.app_context(), db.connection_context():
        SecondFactor.delete().execute()
        RecoveryCode.delete().execute()
    assert led_to(client, client.get(VERIFY)) == FACTORS
    page = text_of(client.get(FACTORS, headers={"HX-Request": "false"}))
    assert NO_FACTOR_LEFT in page and "Ajouter" in page
    assert led_to(client, client.get("/structure/")) == FACTORS  # nothing else before enrolling


def test_attack_an_operator_whose_factor_went_meanwhile_reaches_the_console_only_through_enrolment(
    tmp_path, monkeypatch
):
    """Signed in with the password alone, an operator still meets enrolment
    at « Administration », as an operator without a factor does."""
    from tests.support.operators import grant

    app = policy_app(tmp_path, monkeypatch, "optional")
    client = client_of(app)
    secret = open_second_step(app, client)
    grant(app, EMAIL)
    removed_elsewhere(app, secret)
    assert client.get(VERIFY).status_code == 303
    response = client.get("/administration/")
    assert response.status_code == 303 and response.headers["Location"] == FACTORS


def password_given_ago(client, minutes: int) -> int:
    """The open second step's password given ``minutes`` earlier; when (epoch seconds)."""
    with client.session_transaction() as session:
        pending = session["second_factor_pending"]
        given = pending["t"] - minutes * 60
        session["second_factor_pending"] = {**pending, "t": given}
    return given


def test_the_second_step_of_a_password_that_expired_stays_expired_without_factor(tmp_path, monkeypatch):
    """The password alone signs in only while the step is valid: after
    ``PENDING_MINUTES`` it is asked again, as with a factor."""
    app = policy_app(tmp_path, monkeypatch, "optional")
    client = client_of(app)
    secret = open_second_step(app, client)
    removed_elsewhere(app, secret)
    password_given_ago(client, minutes=11)
    assert led_to(client, client.get(VERIFY)) == "/connexion"
    assert sent_to_sign_in(client, client.get("/mon-compte/"))


def test_attack_the_password_alone_counts_from_when_it_was_given_not_from_the_reload(tmp_path, monkeypatch):
    """Changes of factors ask the password again after 10 minutes: a step
    left open 9 minutes leaves 1, not 10 more."""
    app = policy_app(tmp_path, monkeypatch, "optional")
    client = client_of(app)
    secret = open_second_step(app, client)
    removed_elsewhere(app, secret)
    given = password_given_ago(client, minutes=9)
    assert led_to(client, client.get(VERIFY)) == "/structure/"
    with client.session_transaction() as session:
        assert session["reauth_at"] == given
