"""Attacks on the captcha: relaying challenges to other sessions, redrawing
their media, harvesting audio. Each as a full page (JavaScript off) and under
htmx where the page has both."""

from __future__ import annotations

import pytest

from models import User, db
from tests.support.app import Client, HtmxClient, clean_environment, make_app
from tests.support.captcha import open_challenge
from tests.support.constants import CAPTCHA_ANSWER


def users(app) -> list[str]:
    with app.app_context(), db.connection_context():
        return [user.email for user in User.select()]


@pytest.fixture
def stranger(app):
    """Another browser (its own session), full page."""
    app.test_client_class = Client
    return app.test_client()


def test_a_challenge_relayed_to_another_session_is_refused_attack_solving_farm(app, any_client, stranger):
    """The farm solves a challenge opened in its own session; the bot, in
    another session, sends that id with the farm's answer: refused."""
    farm_challenge = open_challenge(stranger)
    open_challenge(any_client)
    response = any_client.submit(
        "/inscription/captcha", {"challenge_id": farm_challenge, "answer": CAPTCHA_ANSWER}
    )
    assert response.status_code == 422
    assert "ne correspondent pas" in response.get_data(as_text=True)
    assert users(app) == []
    # Its image and audio are not served to the other session either...
    assert any_client.get(f"/captcha/{farm_challenge}.png").status_code == 404
    assert any_client.get(f"/captcha/{farm_challenge}.wav").status_code == 404
    # ...and the attempt did not spend it: its own session still can.
    response = stranger.submit(
        "/inscription/captcha", {"challenge_id": farm_challenge, "answer": CAPTCHA_ANSWER}
    )
    assert response.status_code == 303
    assert users(app) == ["marie.curie@exemple.fr"]


def test_another_session_cannot_discard_a_challenge_attack_denial(app, any_client, stranger):
    victim_challenge = open_challenge(stranger)
    open_challenge(any_client)
    any_client.submit("/inscription/captcha/nouveau", {"challenge_id": victim_challenge})
    assert stranger.get(f"/captcha/{victim_challenge}.png").status_code == 200


def test_redrawing_the_audio_of_one_challenge_is_refused_attack_noise_averaging(app, any_client):
    """Averaging many renditions would wash the noise out: every fetch is
    the same sound, and after CAPTCHA_AUDIO_FETCHES the audio is refused."""
    challenge = open_challenge(any_client)
    most = app.config["CAPTCHA_AUDIO_FETCHES"]
    bodies = {any_client.get(f"/captcha/{challenge}.wav").data for _ in range(most)}
    assert len(bodies) == 1
    assert any_client.get(f"/captcha/{challenge}.wav").status_code == 429
    # The image has its own count.
    assert any_client.get(f"/captcha/{challenge}.png").status_code == 200


def test_redrawing_the_image_of_one_challenge_is_refused_attack_image_redraw(app, any_client):
    challenge = open_challenge(any_client)
    for _ in range(app.config["CAPTCHA_IMAGE_FETCHES"]):
        assert any_client.get(f"/captcha/{challenge}.png").status_code == 200
    assert any_client.get(f"/captcha/{challenge}.png").status_code == 429
    # A new challenge (« Nouvelle image ») is drawn as usual.
    response = any_client.submit("/inscription/captcha/nouveau", {"challenge_id": challenge})
    assert response.status_code in (200, 303)
    fresh = open_challenge(any_client)
    assert any_client.get(f"/captcha/{fresh}.png").status_code == 200


@pytest.mark.parametrize("kind", ["page", "htmx"])
def test_the_audio_has_a_tight_per_client_limit_attack_audio_harvest(tmp_path, monkeypatch, kind):
    """A bot opening fresh challenges to download their audio is stopped by
    the audio's own limit, well before the image limit."""
    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CAPTCHA_AUDIO="3 per minute")
    assert app.config["RATELIMIT_CAPTCHA_MEDIA"] == "120 per hour"
    app.test_client_class = HtmxClient if kind == "htmx" else Client
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/captcha/{open_challenge(client)}.wav").status_code == 200
    challenge = open_challenge(client)
    response = client.get(f"/captcha/{challenge}.wav")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert client.get(f"/captcha/{challenge}.png").status_code == 200
    other = client.get(f"/captcha/{challenge}.wav", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 200  # another client address has its own count


def test_the_audio_limit_is_tight_by_default(app):
    from limits import parse_many

    per_hour = [
        item for item in parse_many(app.config["RATELIMIT_CAPTCHA_AUDIO"]) if item.get_expiry() <= 3600
    ]
    assert per_hour and all(item.amount * 3600 / item.get_expiry() <= 120 for item in per_hour)
    assert app.config["CAPTCHA_AUDIO_FETCHES"] <= 5
