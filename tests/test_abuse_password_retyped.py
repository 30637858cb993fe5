"""The password a signed-in person types again (« Mon compte »'s password
change, before a change of second factors, « Supprimer mon compte »): each
is a guess for whoever holds a stolen session, so each is counted before its
hash is checked, atomically, and all of them together by account."""

from __future__ import annotations

import pytest

from tests.support.app import Client, HtmxClient, clean_environment, make_app, outbox, query
from tests.support.concurrency import at_once
from tests.support.constants import EMAIL, PASSWORD
from tests.support.second_factor import FACTORS
from tests.support.signup import Signup
from tests.test_abuse import assert_429_page, from_address

NEW = "Velo-Rouge-Matin-42"
WRONG = "Pas-le-bon-1234"
CHANGE = "/mon-compte/mot-de-passe"
REAUTH = f"{FACTORS}confirmer"
DELETE = "/mon-compte/supprimer"


@pytest.fixture(params=["page", "htmx"])
def signed_in(request, tmp_path, monkeypatch):
    """``signed_in(**settings)``: a client signed in to a new account, on an
    app whose limits are on (full page, then htmx)."""
    clean_environment(monkeypatch)

    def build(**settings):
        app = make_app(tmp_path, RATELIMIT_ENABLED=True, **settings)
        app.test_client_class = HtmxClient if request.param == "htmx" else Client
        client = app.test_client()
        signup = Signup(client, lambda recipient=None: outbox(app, recipient))
        signup.create_account()
        signup.activate()
        return client

    return build


def same_session(client, count: int) -> list:
    """``count`` more browsers holding ``client``'s session cookie (a stolen one)."""
    others = []
    for _ in range(count):
        other = client.application.test_client()
        for cookie in client._cookies.values():
            other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        others.append(other)
    return others


def account_exists(client) -> bool:
    from models import User

    return query(client.application, lambda: User.by_email(EMAIL) is not None)


def test_attack_guesses_sent_together_are_all_counted(signed_in):
    """Tested first and counted after the hash, guesses sent at the same
    instant would all pass a limit that has room for one: each is counted
    at once with its test, so no more pass than the limit holds."""
    client = signed_in(RATELIMIT_PASSWORD_CHANGE_EMAIL="2 per minute")
    token = client.csrf_token()
    thieves = same_session(client, 8)
    guess = {"csrf_token": token, "current_password": WRONG, "password": NEW, "password_confirm": NEW}
    answers = at_once([lambda t=thief: t.post(CHANGE, data=guess) for thief in thieves])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [422, 422] + [429] * 6
    refused = [answer for answer in answers if answer.status_code == 429]
    assert all("Patientez" in answer.get_data(as_text=True) for answer in refused)


def test_attack_one_allowance_of_guesses_across_every_form_and_address(signed_in):
    """A stolen session tries the password through the change form, the
    second-factor confirmation and the deletion, from a new address each
    time: past the account's allowance, every form refuses, whatever the
    address, and the account is still there."""
    client = signed_in(RATELIMIT_PASSWORD_RETYPED="3 per minute")
    guesses = [
        (CHANGE, {"current_password": WRONG, "password": NEW, "password_confirm": NEW}),
        (REAUTH, {"password": WRONG}),
        (DELETE, {"password": WRONG}),
    ]
    for number, (url, data) in enumerate(guesses):
        assert client.submit(url, data, **from_address(f"198.51.100.{number + 1}")).status_code == 422
    for number, (url, data) in enumerate(guesses):
        answer = client.submit(url, {**data} | _right(url), **from_address(f"203.0.113.{number + 1}"))
        assert_429_page(client, answer)
        assert int(answer.headers["Retry-After"]) <= 60  # the shared minute's, not a form's own
    assert account_exists(client)


def _right(url: str) -> dict:
    """The right password for ``url``'s form: refused all the same."""
    return {"current_password": PASSWORD} if url == CHANGE else {"password": PASSWORD}


def test_attack_the_deletion_form_guessed_from_many_addresses(signed_in):
    """« Supprimer mon compte » was limited by client address only: a stolen
    session could guess the password without end from many addresses."""
    client = signed_in(RATELIMIT_PASSWORD_RETYPED="2 per minute")
    for number in range(2):
        answer = client.submit(DELETE, {"password": WRONG}, **from_address(f"198.51.100.{number + 1}"))
        assert answer.status_code == 422
    assert_429_page(client, client.submit(DELETE, {"password": PASSWORD}, **from_address("203.0.113.9")))
    assert account_exists(client)


def test_forms_mended_without_a_password_typed_are_not_counted(signed_in):
    """A field left empty or a confirmation that differs is refused before
    the password is checked: mended as often as needed, never counted; the
    change then goes through."""
    client = signed_in(RATELIMIT_PASSWORD_RETYPED="1 per minute", RATELIMIT_PASSWORD_CHANGE="1 per minute")
    differs = {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW + "x"}
    for _ in range(3):
        assert client.submit(CHANGE, {"current_password": PASSWORD, "password": NEW}).status_code == 422
        assert client.submit(CHANGE, differs).status_code == 422
        assert client.submit(REAUTH, {"password": ""}).status_code == 422
        assert client.submit(DELETE, {"password": ""}).status_code == 422
    data = {"current_password": PASSWORD, "password": NEW, "password_confirm": NEW}
    assert client.submit(CHANGE, data).status_code in (200, 303)


def test_each_account_has_its_own_allowance(signed_in, tmp_path):
    """One account past its allowance leaves another's, behind the same address."""
    client = signed_in(RATELIMIT_PASSWORD_RETYPED="1 per minute")
    assert client.submit(REAUTH, {"password": WRONG}).status_code == 422
    assert_429_page(client, client.submit(REAUTH, {"password": PASSWORD}))
    other = client.application.test_client()
    signup = Signup(other, lambda recipient=None: outbox(client.application, recipient))
    lucie = "lucie.dupont@exemple.fr"
    signup.create_account(email=lucie, email_confirm=lucie)
    signup.activate(email=lucie)
    answer = other.submit(REAUTH, {"password": PASSWORD})
    assert answer.status_code in (200, 303)


def test_requests_another_limit_refuses_do_not_spend_the_shared_allowance(signed_in):
    """Refused by the form's own limit, a request checks no password: the
    owner's allowance for the other forms is left whole."""
    client = signed_in(
        RATELIMIT_PASSWORD_CHANGE_EMAIL="1 per minute", RATELIMIT_PASSWORD_RETYPED="3 per minute"
    )
    guess = {"current_password": WRONG, "password": NEW, "password_confirm": NEW}
    assert client.submit(CHANGE, guess).status_code == 422
    for _ in range(3):
        assert_429_page(client, client.submit(CHANGE, guess))
    assert client.submit(REAUTH, {"password": WRONG}).status_code == 422
    assert client.submit(REAUTH, {"password": PASSWORD}).status_code in (200, 303)


def test_attack_deletion_guesses_sent_together_pass_no_more_than_the_allowance(signed_in):
    """The shared allowance is counted at once with its test on the deletion
    too: guesses released together are checked no more often than it
    allows, and the account is still there."""
    client = signed_in(RATELIMIT_PASSWORD_RETYPED="2 per minute")
    token = client.csrf_token()
    thieves = same_session(client, 8)
    guess = {"csrf_token": token, "password": WRONG}
    answers = at_once([lambda t=thief: t.post(DELETE, data=guess) for thief in thieves])
    assert sorted(answer.status_code for answer in answers) == [422, 422] + [429] * 6
    assert account_exists(client)
