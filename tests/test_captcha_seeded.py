"""A challenge's image is the same picture whichever worker draws it and
however often (its randomness is seeded from the challenge with the secret
key): fetching it again never gives a second drawing of the answer to
compare, even from another worker or once this worker has forgotten it."""

from __future__ import annotations

import challenges
from tests.support.signup import PERSON, challenge_on


def _challenge(client) -> str:
    client.submit("/inscription/", PERSON)
    return challenge_on(client.get("/inscription/captcha").get_data(as_text=True))


def test_another_worker_draws_the_same_picture_of_a_challenge(app, client):
    challenge = _challenge(client)
    first = client.get(f"/captcha/{challenge}.png").data
    challenges._drawn_image.cache_clear()  # as a worker that never drew it
    again = client.get(f"/captcha/{challenge}.png").data
    assert first.startswith(b"\x89PNG") and again == first
    other = _challenge(client)
    assert client.get(f"/captcha/{other}.png").data != first


def test_the_picture_depends_on_the_secret_key_not_only_on_the_challenge_id(app):
    with app.app_context():
        challenges._drawn_image.cache_clear()
        ours = challenges._drawn_image("same-id", "ACEFGH")
        app.config["SECRET_KEY"] = "another key"
        challenges._drawn_image.cache_clear()
        theirs = challenges._drawn_image("same-id", "ACEFGH")
    assert ours != theirs
