"""Captcha challenges: media, answer, one attempt."""

from __future__ import annotations

import pytest

import challenges
from models import CaptchaChallenge, db
from tests.support.app import make_app
from tests.support.captcha import open_challenge


@pytest.fixture
def real_app(tmp_path, monkeypatch):
    """An app with real random answers (no test hook)."""
    from tests.support.app import clean_environment

    clean_environment(monkeypatch)
    return make_app(tmp_path, CAPTCHA_FIXED_ANSWER=None)


def test_answers_use_an_alphabet_without_look_alikes_and_differ(real_app):
    with real_app.test_request_context(), db.connection_context():
        answers = {challenges.answer(challenges.open_challenge().id) for _ in range(30)}
    assert len(answers) == 30
    for answer in answers:
        assert len(answer) == challenges.LENGTH
        assert set(answer) <= set(challenges.ALPHABET)
        assert not set(answer) & set("0O1IL5S8B2Z")


def test_the_answer_is_stored_nowhere(real_app, tmp_path):
    with real_app.test_request_context(), db.connection_context():
        challenge = challenges.open_challenge()
        answer = challenges.answer(challenge.id)
    for path in tmp_path.glob("test.db*"):
        assert answer.encode() not in path.read_bytes()


def test_one_attempt_case_insensitive(real_app):
    with real_app.test_request_context(), db.connection_context():
        good = challenges.open_challenge().id
        assert challenges.solve(good, " " + challenges.answer(good).lower() + " ")
        assert not challenges.solve(good, challenges.answer(good))
        bad = challenges.open_challenge().id
        assert not challenges.solve(bad, "nope")
        assert not challenges.solve(bad, challenges.answer(bad))
        assert not challenges.solve("unknown", "x")


def test_challenges_expire_after_ten_minutes(real_app):
    with real_app.test_request_context(), db.connection_context():
        challenge = challenges.open_challenge()
        assert (challenge.expires_at - challenge.created_at).total_seconds() == 600


@pytest.mark.parametrize(
    ("extension", "mimetype", "magic"), [("png", "image/png", b"\x89PNG"), ("wav", "audio/wav", b"RIFF")]
)
def test_media_are_drawn_on_demand_and_never_cached(any_client, extension, mimetype, magic):
    challenge = open_challenge(any_client)
    response = any_client.get(f"/captcha/{challenge}.{extension}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data.startswith(magic)
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("extension", ["png", "wav"])
def test_media_of_a_spent_or_unknown_challenge_are_gone(app, client, extension):
    challenge = open_challenge(client)
    with app.app_context(), db.connection_context():
        CaptchaChallenge.use(challenge)
    assert client.get(f"/captcha/{challenge}.{extension}").status_code == 404
    assert client.get(f"/captcha/nothing.{extension}").status_code == 404


def test_the_captcha_step_says_the_seed_s_words_and_whose_account(client):
    """« Pour finaliser la création de votre compte », as the seed has it,
    with the address the account is for (« du compte de alice@… » read
    wrong before a vowel)."""
    from tests.support.captcha import open_challenge

    open_challenge(client)
    page = client.get("/inscription/captcha").get_data(as_text=True)
    assert "Pour finaliser la création de votre compte (<strong>marie.curie@exemple.fr</strong>)" in page
