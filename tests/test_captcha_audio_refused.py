"""A refused captcha audio (its challenge fetched too often, or the client
past its limit) as a media player gets it: a player cannot show a 429, and
without JavaScript nothing would say why it stays silent. It hears the
refusal instead, in the page's language, saying what helps (a new image, or
waiting); anything else still gets the 429.
Attacks are named after what they try."""

from __future__ import annotations

import re

import pytest

from challenges import bank
from tests.support.app import clean_environment, make_app
from tests.support.captcha import open_challenge, read_wav
from tests.support.i18n import speak

PLAYER = {"Sec-Fetch-Dest": "audio"}


def spend(app, client, challenge: str) -> None:
    for _ in range(app.config["CAPTCHA_AUDIO_FETCHES"]):
        assert client.get(f"/captcha/{challenge}.wav", headers=PLAYER).status_code == 200


def test_a_player_past_a_challenge_s_fetches_hears_why(app, any_client):
    challenge = open_challenge(any_client)
    spend(app, any_client, challenge)

    response = any_client.get(f"/captcha/{challenge}.wav", headers=PLAYER)
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == bank.refusal("fr")
    params, samples = read_wav(response.data)
    assert params == (1, 1, bank.RATE) and 3 < len(samples) / bank.RATE < 8  # a sentence
    assert "HX-Retarget" not in response.headers  # a file, not a notice for the page


def test_anything_but_a_player_still_gets_the_429(app, any_client):
    challenge = open_challenge(any_client)
    spend(app, any_client, challenge)
    for headers in ({}, {"Sec-Fetch-Dest": "document"}, {"Sec-Fetch-Dest": "empty"}):
        assert any_client.get(f"/captcha/{challenge}.wav", headers=headers).status_code == 429
    # The image is no player's: its own count, its own 429.
    for _ in range(app.config["CAPTCHA_IMAGE_FETCHES"]):
        any_client.get(f"/captcha/{challenge}.png")
    assert any_client.get(f"/captcha/{challenge}.png", headers=PLAYER).status_code == 429


def test_the_refusal_is_said_in_english_on_an_english_page(app, client):
    speak(client, "en")
    challenge = open_challenge(client)
    spend(app, client, challenge)
    refused = client.get(f"/captcha/{challenge}.wav", headers=PLAYER)
    assert refused.data == bank.refusal("en") != bank.refusal("fr")


def test_each_refusal_says_what_helps_in_each_language():
    from tests.test_captcha_audio import make_voices

    refusals = make_voices().REFUSALS
    assert refusals["fr"] == {
        "refused": "Cette suite de caractères ne peut plus être écoutée : demandez une nouvelle image.",
        "refused-wait": "Trop de demandes en peu de temps : réessayez plus tard.",
    }
    assert set(refusals) == set(make_voices().SPOKEN)
    for language in refusals:
        kinds = (bank.REFUSED, bank.REFUSED_WAIT)
        assert set(refusals[language]) == set(kinds)
        spoken = [bank.refusal(language, kind) for kind in kinds]
        assert all(spoken) and len(set(spoken)) == 2, language


def test_a_spoken_refusal_counts_as_a_refusal_in_the_metrics(tmp_path, monkeypatch):
    """Answered 200 so that a player plays it, it is still a refusal: a
    harvester naming itself a player does not vanish from the alerts."""
    from tests.support.app import Client

    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CAPTCHA_AUDIO="1 per minute")
    app.test_client_class = Client
    client = app.test_client()

    def refusals() -> float:
        text = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
        found = re.search(r'portail_rate_limit_refusals_total\{endpoint="captcha.audio"\} ([0-9.]+)', text)
        return float(found.group(1)) if found else 0.0

    before = refusals()
    heard = [client.get(f"/captcha/{open_challenge(client)}.wav", headers=PLAYER) for _ in range(3)]
    assert [response.status_code for response in heard] == [200, 200, 200]
    assert refusals() - before == 2


def test_an_expired_or_foreign_challenge_is_not_found_even_to_a_player(any_client):
    assert any_client.get("/captcha/unknown.wav", headers=PLAYER).status_code == 404


@pytest.mark.parametrize("kind", ["page", "htmx"])
def test_attack_a_harvester_past_the_client_limit_gets_no_characters(tmp_path, monkeypatch, kind):
    """A bot past the audio's per-client limit that claims to be a player
    gets the fixed refusal, the same for every challenge, with how long to
    wait: no challenge is drawn for it, nothing of its characters is in it."""
    from tests.support.app import Client, HtmxClient

    clean_environment(monkeypatch)
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_CAPTCHA_AUDIO="2 per minute")
    app.test_client_class = HtmxClient if kind == "htmx" else Client
    client = app.test_client()
    heard = [client.get(f"/captcha/{open_challenge(client)}.wav", headers=PLAYER) for _ in range(2)]
    assert all(
        response.data not in (bank.refusal("fr"), bank.refusal("fr", bank.REFUSED_WAIT)) for response in heard
    )
    refused = [client.get(f"/captcha/{open_challenge(client)}.wav", headers=PLAYER) for _ in range(2)]
    for response in refused:
        assert response.status_code == 200 and response.data == bank.refusal("fr", bank.REFUSED_WAIT)
        assert int(response.headers["Retry-After"]) > 0
    assert client.get(f"/captcha/{open_challenge(client)}.wav").status_code == 429


def test_attack_the_refusal_spends_nothing_and_gives_nothing_back(app, any_client):
    """Asking again once refused neither resets the count nor gets the
    challenge's own audio back."""
    challenge = open_challenge(any_client)
    spend(app, any_client, challenge)
    for _ in range(5):
        assert any_client.get(f"/captcha/{challenge}.wav", headers=PLAYER).data == bank.refusal("fr")
    assert any_client.get(f"/captcha/{challenge}.wav").status_code == 429
