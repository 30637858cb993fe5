"""Sign-in: the growing delay after failures, one answer for every failure,
the dummy hash, and ``next`` that never leaves the site."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import accounts
from models import User, db, utcnow
from tests.support.constants import CAPTCHA_ANSWER, EMAIL, PASSWORD
from tests.support.signup import PERSON, challenge_on
from views import safe_next

WRONG = "Pas-le-bon-1234"
FAILED = "Adresse e-mail ou mot de passe incorrect."
# CSRF tokens carry a timestamp: they differ from one second to the next.
CSRF = re.compile(r'csrf_token"[^>]*?value="[^"]+|"X-CSRFToken": "[^"]+')


@pytest.fixture
def account(account, signup) -> str:
    """The throttle tests below are about browsers the account does not know
    (test_abuse_lockout.py covers the owner's own browser)."""
    signup.client.delete_cookie("device")
    return account


def sign_in(client, password, email=EMAIL, **kwargs):
    return client.submit("/connexion", {"email": email, "password": password}, **kwargs)


def stored(app) -> User:
    with app.app_context(), db.connection_context():
        return User.by_email(EMAIL)


def move_last_failure_back(app, seconds: int) -> None:
    with app.app_context(), db.connection_context():
        User.update(last_failed_sign_in_at=utcnow() - timedelta(seconds=seconds)).execute()


def test_after_five_failures_even_the_right_password_waits(app, any_client, account):
    for _ in range(4):
        assert sign_in(any_client, WRONG).status_code == 422
    assert sign_in(any_client, PASSWORD).status_code in (204, 303)  # 4 failures: no delay yet
    any_client.submit("/deconnexion")
    any_client.delete_cookie("device")  # now known: forget it to be a stranger again
    for _ in range(5):
        sign_in(any_client, WRONG)
    response = sign_in(any_client, PASSWORD)
    assert response.status_code == 422
    assert FAILED in response.get_data(as_text=True)
    # The same words as for any refusal, which tell that the pause exists.
    assert "même avec le bon mot de passe" in response.get_data(as_text=True)
    move_last_failure_back(app, 31)
    assert sign_in(any_client, PASSWORD).status_code in (204, 303)
    assert stored(app).failed_sign_ins == 0


def test_attempts_during_the_delay_do_not_extend_it(app, client, account):
    for _ in range(5):
        sign_in(client, WRONG)
    before = stored(app)
    for _ in range(10):
        sign_in(client, WRONG)
    after = stored(app)
    assert (after.failed_sign_ins, after.last_failed_sign_in_at) == (5, before.last_failed_sign_in_at)


def test_the_delay_doubles_and_is_capped_never_a_lockout(app):
    with app.app_context():
        config = app.config
        user = User(failed_sign_ins=0, last_failed_sign_in_at=utcnow())
        delays = []
        for failures in range(4, 15):
            user.failed_sign_ins = failures
            until = accounts._throttle(user)
            delays.append(
                None if until is None else round((until - user.last_failed_sign_in_at).total_seconds())
            )
    assert delays[0] is None
    assert delays[1:6] == [30, 60, 120, 240, 480]
    assert set(delays[6:]) == {config["SIGN_IN_THROTTLE_MAX_SECONDS"]} == {900}


def test_a_stranger_cannot_keep_the_owner_out_for_ever(app, client, account):
    with app.app_context(), db.connection_context():
        User.update(failed_sign_ins=500, last_failed_sign_in_at=utcnow()).execute()
    assert sign_in(client, PASSWORD).status_code == 422
    move_last_failure_back(app, 901)
    assert sign_in(client, PASSWORD).status_code == 303


def test_old_failures_are_forgotten(app, client, account):
    for _ in range(4):
        sign_in(client, WRONG)
    move_last_failure_back(app, 25 * 3600)
    sign_in(client, WRONG)
    assert stored(app).failed_sign_ins == 1


def _answer(response, email):
    text = CSRF.sub("CSRF", response.get_data(as_text=True).replace(email, "ADDRESS"))
    return response.status_code, text, sorted(k for k, _ in response.headers if k != "Set-Cookie")


def test_enumeration_on_sign_in_gets_one_answer_for_every_failure(app, any_client, signup):
    signup.create_account(email="en.attente@exemple.fr", email_confirm="en.attente@exemple.fr")
    signup.create_account(email="bloque@exemple.fr", email_confirm="bloque@exemple.fr")
    signup.activate(email="bloque@exemple.fr")
    signup.create_account()
    signup.activate()
    signup.client.submit("/deconnexion")
    for _ in range(5):
        sign_in(any_client, WRONG, "bloque@exemple.fr")
    cases = {
        "wrong password": (EMAIL, WRONG),
        "unknown address": ("personne@exemple.fr", WRONG),
        "pending account": ("en.attente@exemple.fr", PASSWORD),
        "in its delay": ("bloque@exemple.fr", PASSWORD),
    }
    answers = {name: _answer(sign_in(any_client, pw, email), email) for name, (email, pw) in cases.items()}
    assert len(set(map(repr, answers.values()))) == 1, answers
    status, text, _ = answers["unknown address"]
    assert status == 422 and FAILED in text


def test_an_unknown_address_costs_a_dummy_hash_like_a_wrong_password(app, client, account, monkeypatch):
    checked = []
    real = accounts.verify_password

    def spy(stored_hash, password):
        checked.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    sign_in(client, WRONG, "personne@exemple.fr")
    sign_in(client, WRONG)
    assert checked[0] is None  # verify_password then checks its dummy hash
    assert checked[1].startswith("$argon2id$")


def test_enumeration_on_sign_up_gets_the_same_answer(app, any_client, signup):
    signup.create_account()
    signup.activate()
    signup.client.submit("/deconnexion")
    answers = []
    for email in (EMAIL, "nouvelle@exemple.fr"):
        with any_client.session_transaction() as session:
            session.clear()
        any_client.submit("/inscription/", {**signup_person(email)})
        page = any_client.get("/inscription/captcha").get_data(as_text=True)
        form = {"challenge_id": challenge_on(page), "answer": CAPTCHA_ANSWER}
        response = any_client.submit("/inscription/captcha", form)
        sent = any_client.get("/inscription/envoye").get_data(as_text=True)
        answers.append(
            (
                response.status_code,
                response.headers.get("Location"),
                response.headers.get("HX-Push-Url"),
                CSRF.sub("CSRF", sent.replace(email, "ADDRESS")),
            )
        )
    assert answers[0] == answers[1]


def signup_person(email):
    return {**PERSON, "email": email, "email_confirm": email}


# -- open redirects ----------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "https:/evil.example",
    "/%0a/evil.example".replace("%0a", "\n"),
    "",
    None,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_open_redirect_safe_next_refuses_anything_off_site(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/structure/", "/mon-compte/?onglet=1#haut", "/a/b%2F%2Fc"])
def test_safe_next_keeps_a_path_of_this_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/\t/evil"])
def test_open_redirect_after_sign_in_stays_on_site(any_client, account, target):
    response = any_client.submit("/connexion", {"email": EMAIL, "password": PASSWORD, "next": target})
    location = response.headers.get("HX-Redirect") or response.headers["Location"]
    assert location == "/structure/"


def test_next_to_a_path_of_this_site_is_followed(any_client, account):
    response = any_client.submit("/connexion?next=/mon-compte/", {"email": EMAIL, "password": PASSWORD})
    location = response.headers.get("HX-Redirect") or response.headers["Location"]
    assert location == "/mon-compte/"


def test_the_sign_in_form_carries_only_a_safe_next(client):
    text = client.get("/connexion?next=//evil.example").get_data(as_text=True)
    assert "evil.example" not in text
    text = client.get("/connexion?next=/mon-compte/").get_data(as_text=True)
    assert "next=/mon-compte/" in text or "next=%2Fmon-compte%2F" in text
