"""``factors.second_factor_required``: the gate other areas (the operators'
/administration) put on their pages."""

from __future__ import annotations

import pytest

from factors import second_factor_required
from tests.support.app import Client, clean_environment, make_app, outbox
from tests.support.responses import signs_in_first
from tests.support.second_factor import VERIFY, code_at, enrol_totp, password_step, second_step
from tests.support.signup import Signup

GUARDED = "/essai-protege"


@pytest.fixture
def guarded_app(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    app = make_app(tmp_path)
    app.add_url_rule(GUARDED, "guarded", second_factor_required(lambda: "protégé"))
    app.test_client_class = Client
    return app


@pytest.fixture
def marie(guarded_app):
    client = guarded_app.test_client()
    signup = Signup(client, lambda recipient=None: outbox(guarded_app, recipient))
    signup.create_account()
    signup.activate()
    return client


def test_signed_out_is_sent_to_sign_in(guarded_app):
    response = guarded_app.test_client().get(GUARDED)
    assert signs_in_first(response)


def test_without_a_factor_is_led_to_enrolment(marie):
    response = marie.get(GUARDED)
    assert response.status_code == 303
    assert response.headers["Location"] == "/mon-compte/verification-en-deux-etapes/"


def test_enrolling_in_this_session_lets_through(marie):
    enrol_totp(marie)
    assert marie.get(GUARDED).get_data(as_text=True) == "protégé"


def test_a_session_that_skipped_the_factor_is_asked_for_it_then_comes_back(guarded_app, marie):
    secret, _ = enrol_totp(marie)
    with marie.session_transaction() as session:
        session.pop("second_factor_at")  # e.g. signed in before enrolling elsewhere
    response = marie.get(GUARDED)
    assert response.status_code == 303 and response.headers["Location"] == VERIFY
    response = second_step(marie, code_at(secret, +1))
    assert response.headers["Location"] == GUARDED
    assert marie.get(GUARDED).get_data(as_text=True) == "protégé"


def test_a_full_sign_in_with_the_factor_lets_through(guarded_app, marie):
    secret, _ = enrol_totp(marie)
    marie.submit("/deconnexion")
    password_step(marie)
    second_step(marie, code_at(secret, +1))
    assert marie.get(GUARDED).status_code == 200
