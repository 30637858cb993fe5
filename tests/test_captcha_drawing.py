"""A challenge's image is drawn once per worker: a page shown again gets the
same picture, never a second drawing of the same answer to compare."""

from __future__ import annotations

import challenges
from models import CaptchaChallenge, db


def test_an_image_is_drawn_once_per_challenge(app, client, monkeypatch):
    drawn = []
    original = challenges._image.generate_image
    monkeypatch.setattr(
        challenges._image, "generate_image", lambda *a, **k: drawn.append(1) or original(*a, **k)
    )
    with app.app_context(), db.connection_context():
        first, second = challenges.open_challenge().id, challenges.open_challenge().id
    images = [client.get(f"/captcha/{first}.png").data for _ in range(3)]
    assert images[0] == images[1] == images[2]
    assert len(drawn) == 1
    assert client.get(f"/captcha/{second}.png").data != images[0]
    assert len(drawn) == 2


def test_a_spent_challenge_image_is_gone_even_when_drawn_before(app, client):
    with app.app_context(), db.connection_context():
        challenge = challenges.open_challenge().id
    assert client.get(f"/captcha/{challenge}.png").status_code == 200
    with app.app_context(), db.connection_context():
        CaptchaChallenge.use(challenge)
    assert client.get(f"/captcha/{challenge}.png").status_code == 404
