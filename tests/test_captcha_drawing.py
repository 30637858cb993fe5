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


class _DrawnAtItsOffset(drawing.SeededCaptcha):
    """Each character drawn as the package draws it: at a random offset in a
    canvas grown by that offset, cropped to its box, rotated and warped."""

    def _character(self, c, rng):
        font = rng.choice(self.truefonts)
        w, h = drawing._extent(font, c)
        dx1 = rng.randint(*self.character_offset_dx)
        dy1 = rng.randint(*self.character_offset_dy)
        im = drawing.create_image("L", (w + dx1, h + dy1))
        drawing.Draw(im).text((dx1, dy1), c, font=font, fill=255)
        im = im.crop(im.getbbox()).point(drawing._TOUCHED)
        im = im.rotate(rng.uniform(*self.character_rotate), Image.Resampling.BILINEAR, expand=True)
        low_x, high_x = self.character_warp_dx
        low_y, high_y = self.character_warp_dy
        dx2 = w * rng.random() * (high_x - low_x) + low_x
        dy2 = h * rng.random() * (high_y - low_y) + low_y
        x1, y1 = int(rng.uniform(-dx2, dx2)), int(rng.uniform(-dy2, dy2))
        x2, y2 = int(rng.uniform(-dx2, dx2)), int(rng.uniform(-dy2, dy2))
        w2, h2 = int(w + abs(x1) + abs(x2)), int(h + abs(y1) + abs(y2))
        data = (x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1)
        return im.resize((w2, h2)).transform((int(w), int(h)), Image.Transform.QUAD, data)


def test_each_character_is_drawn_once_and_the_picture_is_the_same():
    """A character's shape is drawn once per font and character
    (drawing._glyph): wherever the package would have drawn it in its
    canvas, the cropped shape is the same, so every picture is the one
    drawn at the package's offsets, pixel for pixel."""
    package_like = _DrawnAtItsOffset(width=300, height=90, font_sizes=(48, 52, 56))
    for seed in range(30):
        chars = "".join(random.Random(seed).choice(challenges.ALPHABET) for _ in range(challenges.LENGTH))  # noqa: S311
        drawn = challenges._image.generate_image(chars, rng=random.Random(seed))  # noqa: S311
        expected = package_like.generate_image(chars, rng=random.Random(seed))  # noqa: S311
        assert drawn.tobytes() == expected.tobytes(), seed
    shapes = drawing._glyph.cache_info()
    assert shapes.currsize <= len(challenges._image.truefonts) * len(challenges.ALPHABET)
    assert shapes.hits > shapes.misses
