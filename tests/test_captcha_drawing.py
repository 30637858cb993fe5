"""A challenge's image is drawn once per worker: a page shown again gets the
same picture, never a second drawing of the same answer to compare."""

from __future__ import annotations

import random
from io import BytesIO

import captcha.image
from captcha.image import ImageCaptcha
from PIL import Image, ImageChops, ImageStat

import challenges
from challenges import drawing
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
    """The PNG is the palette image drawn (4 KB rather than 15), pixel for
    pixel: one ink blended on one background in 32 colours at most."""
    challenge = captcha_page_challenge(client)
    sent = client.get(f"/captcha/{challenge}.png").data
    with app.app_context():
        seed = challenges._digest("captcha-image", challenge)
        drawn = challenges._image.generate_image(challenges.answer(challenge), rng=random.Random(seed))  # noqa: S311
    shown = Image.open(BytesIO(sent))
    assert shown.mode == "P" and shown.size == drawn.size == (300, 90)
    assert len(sent) < 8_000
    assert 2 < len(shown.getcolors()) <= drawing.LEVELS
    assert ImageChops.difference(shown.convert("RGB"), drawn.convert("RGB")).getbbox() is None


class _SeededSecrets:
    """``secrets`` as the captcha package calls it, from a seeded generator."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)  # noqa: S311 - a test's reproducible pictures
        self.randbelow = self._rng.randrange
        self.randbits = self._rng.getrandbits
        self.choice = self._rng.choice


def _darkness(picture: Image.Image, background: tuple) -> float:
    """How much darker than its background a picture is, on average (grey levels)."""
    grey = picture.convert("RGB").convert("L")
    back = Image.new("RGB", (1, 1), background).convert("L").getpixel((0, 0))
    return back - ImageStat.Stat(grey).mean[0]


def test_the_picture_holds_as_much_ink_as_the_packages_own_drawing(monkeypatch):
    """Drawn in one channel, the picture still looks as the captcha package
    draws it: the same colours give as dark a picture (the characters as
    thick, the dark inks as faint as its lookup table makes them), over
    pictures of random shapes and colours."""
    ours, theirs = [], []
    for seed in range(40):
        colours = random.Random(seed)  # noqa: S311 - the colours our drawing picks first
        background = tuple(colours.randint(238, 255) for _ in range(3))
        ink = (*(colours.randint(10, 200) for _ in range(3)), colours.randint(220, 255))
        chars = "".join(random.Random(seed).choice(challenges.ALPHABET) for _ in range(challenges.LENGTH))  # noqa: S311
        ours.append(_darkness(challenges._image.generate_image(chars, rng=random.Random(seed)), background))  # noqa: S311
        monkeypatch.setattr(captcha.image, "secrets", _SeededSecrets(seed))
        package = ImageCaptcha(width=300, height=90, font_sizes=(48, 52, 56))
        theirs.append(_darkness(package.generate_image(chars, bg_color=background, fg_color=ink), background))
    # One picture to the next, the random shapes make them differ (0.5 to
    # 1.5 times); forty pictures of each make the same ink, within 10 %.
    assert 0.9 < sum(ours) / sum(theirs) < 1.1
