"""The captcha image, drawn from a generator seeded per challenge.

The drawing is the captcha package's (``captcha.image.ImageCaptcha``, BSD
licence: rotated and warped characters, noise dots, an arc, a smoothing
filter), with its randomness taken from ``rng`` instead of ``secrets``: the
caller seeds it from the challenge (HMAC with the secret key), so every
worker draws the same picture of a challenge, however often it is fetched —
never a second drawing of the same answer to compare — and drawing no longer
costs a system call per random number.

The package draws one ink on one background: each pixel of its RGB picture
is the background with some share of the ink. That share is what is drawn
here, in one channel (a third of the pixels to rotate, warp and smooth),
then coloured once through a palette of LEVELS blends of the two colours:
the picture the package would draw, in the few colours the PNG holds
anyway, without looking for them (no quantization)."""

from __future__ import annotations

import random
from functools import lru_cache

from captcha.image import ImageCaptcha
from PIL.Image import Image, Resampling, Transform
from PIL.Image import frombytes as image_from_bytes
from PIL.Image import new as create_image
from PIL.ImageDraw import Draw
from PIL.ImageFilter import SMOOTH

Color = tuple[int, ...]

LEVELS = 32  # the picture's colours: the background, the ink, and the blends between them
_TO_LEVEL = [round(share * (LEVELS - 1) / 255) for share in range(256)]
_TOUCHED = [0] + [255] * 255  # a pixel the glyph touches at all takes the ink, as in the package


@lru_cache(maxsize=1024)
def _extent(font, c: str) -> tuple[int, int]:
    """The right and bottom of ``c``'s box drawn at (1, 1) in ``font``, as the
    package measures each character: the same for every drawing."""
    _, _, right, bottom = Draw(create_image("RGB", (1, 1))).multiline_textbbox((1, 1), c, font=font)
    return int(right), int(bottom)


@lru_cache(maxsize=1024)
def _glyph(font, c: str) -> Image:
    """``c``'s shape in ``font`` (« L »: 255 wherever the glyph touches a
    pixel at all, as the package's mask takes it), cropped to its box. The
    package draws each character at a random offset in a canvas grown by
    that offset, then crops it to its box: the same shape wherever it was
    drawn, so drawn once per font and character (a third of a character's
    cost). Never changed in place: each drawing rotates and warps a copy."""
    w, h = _extent(font, c)
    im = create_image("L", (w, h))
    Draw(im).text((0, 0), c, font=font, fill=255)
    return im.crop(im.getbbox()).point(_TOUCHED)


def _color(rng: random.Random, start: int, end: int, opacity: int | None = None) -> Color:
    rgb = tuple(rng.randint(start, end) for _ in range(3))
    return rgb if opacity is None else (*rgb, opacity)


def _luma(color: Color) -> int:
    """The ink's grey level, as the package's ``convert("L")`` reads it."""
    return create_image("RGB", (1, 1), color[:3]).convert("L").getpixel((0, 0))


def _coloured(ink: Image, background: Color, color: Color, strength: int) -> Image:
    """The share of ink of each pixel (« L », 0 to 255) as a palette picture
    of LEVELS colours, each the one the package's RGB drawing gives that
    share. It pastes a character's pixels through a mask of ``strength``
    times the glyph's coverage, and the pixels themselves, resampled with
    the transparent black around them, darkened by that coverage too: a
    share ``m`` of a character is the background times (1 - m) plus the ink
    times m²/strength. Beyond ``strength``, only the noise (drawn in the
    ink itself) and its smoothing: from the characters' darkest to the ink."""
    levels = ink.point(_TO_LEVEL)
    picture = image_from_bytes("P", ink.size, levels.tobytes())
    full = strength / 255
    palette = []
    for level in range(LEVELS):
        share = level / (LEVELS - 1)
        for back, front in zip(background, color[:3], strict=True):
            if share <= full:
                value = back * (1 - share) + front * share * share / full
            else:
                darkest = back * (1 - full) + front * full
                value = darkest + (front - darkest) * (share - full) / (1 - full)
            palette.append(round(value))
    picture.putpalette(palette)
    return picture


class SeededCaptcha(ImageCaptcha):
    """ImageCaptcha whose every random choice comes from one generator, drawn
    as the share of ink of each pixel (see above)."""

    def generate_image(self, chars: str, rng: random.Random | None = None) -> Image:
        rng = rng or random.SystemRandom()
        background = _color(rng, 238, 255)
        color = _color(rng, 10, 200, rng.randint(220, 255))
        # The package pastes each character through its ink's grey level
        # (times 1.97, its lookup table): a dark ink shows fainter.
        strength = min(255, self.lookup_table[_luma(color)])
        ink = self._characters(chars, strength, rng)
        self._noise_dots(ink, 255, rng)
        self._noise_curve(ink, 255, rng)
        return _coloured(ink.filter(SMOOTH), background, color, strength)

    def _characters(self, chars: str, strength: int, rng: random.Random) -> Image:
        # A space between two characters is its width only: the package drew
        # it, rotated and warped it like a letter, and pasted nothing.
        images: list[Image | int] = []
        for c in chars:
            if rng.random() > self.word_space_probability:
                images.append(_extent(rng.choice(self.truefonts), " ")[0])
            images.append(self._character(c, rng))
        text_width = sum(im if isinstance(im, int) else im.size[0] for im in images)
        width = max(text_width, self._width)
        ink = create_image("L", (width, self._height))
        average = int(text_width / len(chars))
        rand = int(self.word_offset_dx * average)
        offset = int(average * 0.1)
        share = [value * strength // 255 for value in range(256)]
        for im in images:
            if isinstance(im, int):
                offset = offset + im - rng.randint(0, rand)
                continue
            w, h = im.size
            ink.paste(255, (offset, int((self._height - h) / 2)), im.point(share))
            offset = offset + w - rng.randint(0, rand)
        if width > self._width:
            ink = ink.resize((self._width, self._height))
        return ink

    def _character(self, c: str, rng: random.Random) -> Image:
        """The glyph's shape (« L »: 255 where the ink is), rotated and warped."""
        font = rng.choice(self.truefonts)
        w, h = _extent(font, c)
        # The package's offset in its canvas, drawn from the generator as it
        # draws it (the rest of the picture takes the same numbers), moves
        # nothing once the glyph is cropped (_glyph).
        rng.randint(*self.character_offset_dx)
        rng.randint(*self.character_offset_dy)
        im = _glyph(font, c).rotate(rng.uniform(*self.character_rotate), Resampling.BILINEAR, expand=True)
        # The warp, as the package computes it.
        low_x, high_x = self.character_warp_dx
        low_y, high_y = self.character_warp_dy
        dx2 = w * rng.random() * (high_x - low_x) + low_x
        dy2 = h * rng.random() * (high_y - low_y) + low_y
        x1 = int(rng.uniform(-dx2, dx2))
        y1 = int(rng.uniform(-dy2, dy2))
        x2 = int(rng.uniform(-dx2, dx2))
        y2 = int(rng.uniform(-dy2, dy2))
        w2 = int(w + abs(x1) + abs(x2))
        h2 = int(h + abs(y1) + abs(y2))
        data = (x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1)
        im = im.resize((w2, h2))
        return im.transform((int(w), int(h)), Transform.QUAD, data)

    @staticmethod
    def _noise_dots(
        image: Image, color: Color | int, rng: random.Random, width: int = 3, number: int = 30
    ) -> None:
        draw = Draw(image)
        w, h = image.size
        for _ in range(number):
            x1, y1 = rng.randint(0, w), rng.randint(0, h)
            draw.line(((x1, y1), (x1 - 1, y1 - 1)), fill=color, width=width)

    @staticmethod
    def _noise_curve(image: Image, color: Color | int, rng: random.Random) -> None:
        w, h = image.size
        x1 = rng.randint(0, int(w / 5))
        x2 = rng.randint(0, w - int(w / 5)) + int(w / 5)
        y1 = rng.randint(0, h - 2 * int(h / 5)) + int(h / 5)
        y2 = rng.randint(0, h - y1 - int(h / 5)) + y1
        Draw(image).arc([x1, y1, x2, y2], rng.randint(0, 20), rng.randint(160, 200), fill=color)
