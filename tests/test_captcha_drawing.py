"""A challenge's image is drawn once per worker: a page shown again gets the
same picture, never a second drawing of the same answer to compare."""

from __future__ import annotations

import random
from io import BytesIO

from PIL import Image, ImageChops, ImageStat

import challenges
from tests.support.signup import PERSON, challenge_on


def captcha_page_challenge(client) -> str:
    client.submit("/inscription/", PERSON)
    return challenge_on(client.get("/inscription/captcha").get_data(as_text=True))


def test_an_image_is_drawn_once_per_challenge(app, client, monkeypatch):
    drawn = []
    original = challenges._image.generate_image
    monkeypatch.setattr(
        challenges._image, "generate_image", lambda *a, **k: drawn.append(1) or original(*a, **k)
    )
    first = captcha_page_challenge(client)
    images = [client.get(f"/captcha/{first}.png").data for _ in range(3)]
    assert images[0].startswith(b"\x89PNG")
    assert images[0] == images[1] == images[2]
    assert len(drawn) == 1
    second = challenge_on(client.get("/inscription/captcha").get_data(as_text=True))
    assert client.get(f"/captcha/{second}.png").data != images[0]
    assert len(drawn) == 2


def test_a_spent_challenge_image_is_gone_even_when_drawn_before(app, client):
    challenge = captcha_page_challenge(client)
    assert client.get(f"/captcha/{challenge}.png").status_code == 200
    client.submit("/inscription/captcha", {"challenge_id": challenge, "answer": "FAUX"})
    assert client.get(f"/captcha/{challenge}.png").status_code == 404


def test_the_image_sent_is_the_drawing_in_a_few_colours(app, client):
    """The PNG is a palette image (4 KB rather than 15), and it shows what
    was drawn: every pixel within a few levels of the drawing's colours."""
    challenge = captcha_page_challenge(client)
    sent = client.get(f"/captcha/{challenge}.png").data
    with app.app_context():
        seed = challenges._digest("captcha-image", challenge)
        drawn = challenges._image.generate_image(challenges.answer(challenge), rng=random.Random(seed))  # noqa: S311
    shown = Image.open(BytesIO(sent))
    assert shown.mode == "P" and shown.size == drawn.size
    assert len(sent) < 8_000
    difference = ImageChops.difference(shown.convert("RGB"), drawn).convert("L")
    assert ImageStat.Stat(difference).mean[0] < 2
    assert difference.getextrema()[1] < 48
