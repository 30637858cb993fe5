"""The captcha image, drawn from a generator seeded per challenge.

The drawing is the captcha package's (``captcha.image.ImageCaptcha``, BSD
licence: rotated and warped characters, noise dots, an arc, a smoothing
filter), with its randomness taken from ``rng`` instead of ``secrets``: the
caller seeds it from the challenge (HMAC with the secret key), so every
worker draws the same picture of a challenge, however often it is fetched —
never a second drawing of the same answer to compare — and drawing no longer
costs a system call per random number."""

from __future__ import annotations

import random
from functools import lru_cache

from captcha.image import ImageCaptcha
from PIL.Image import Image, Resampling, Transform
from PIL.Image import new as create_image
from PIL.ImageDraw import Draw
from PIL.ImageFilter import SMOOTH

Color = tuple[int, ...]


@lru_cache(maxsize=1024)
def _extent(font, c: str) -> tuple[int, int]:
    """The right and bottom of ``c``'s box drawn at (1, 1) in ``font``, as the
    package measures each character: the same for every drawing."""
    _, _, right, bottom = Draw(create_image("RGB", (1, 1))).multiline_textbbox((1, 1), c, font=font)
    return int(right), int(bottom)


def _color(rng: random.Random, start: int, end: int, opacity: int | None = None) -> Color:
    rgb = tuple(rng.randint(start, end) for _ in range(3))
    return rgb if opacity is None else (*rgb, opacity)


class SeededCaptcha(ImageCaptcha):
    """ImageCaptcha whose every random choice comes from one generator."""

    def generate_image(self, chars: str, rng: random.Random | None = None) -> Image:
        rng = rng or random.SystemRandom()
        background = _color(rng, 238, 255)
        color = _color(rng, 10, 200, rng.randint(220, 255))
        image = self._characters(chars, color, background, rng)
        self._noise_dots(image, color, rng)
        self._noise_curve(image, color, rng)
        return image.filter(SMOOTH)

    def _characters(self, chars: str, color: Color, background: Color, rng: random.Random) -> Image:
        # A space between two characters is its width only: the package drew
        # it, rotated and warped it like a letter, and pasted nothing.
        images: list[Image | int] = []
        for c in chars:
            if rng.random() > self.word_space_probability:
                images.append(_extent(rng.choice(self.truefonts), " ")[0])
            images.append(self._character(c, color, rng))
        text_width = sum(im if isinstance(im, int) else im.size[0] for im in images)
        width = max(text_width, self._width)
        image = create_image("RGB", (width, self._height), background)
        average = int(text_width / len(chars))
        rand = int(self.word_offset_dx * average)
        offset = int(average * 0.1)
        for im in images:
            if isinstance(im, int):
                offset = offset + im - rng.randint(0, rand)
                continue
            w, h = im.size
            mask = im.convert("L").point(self.lookup_table)
            image.paste(im, (offset, int((self._height - h) / 2)), mask)
            offset = offset + w - rng.randint(0, rand)
        if width > self._width:
            image = image.resize((self._width, self._height))
        return image

    def _character(self, c: str, color: Color, rng: random.Random) -> Image:
        font = rng.choice(self.truefonts)
        w, h = _extent(font, c)
        dx1 = rng.randint(*self.character_offset_dx)
        dy1 = rng.randint(*self.character_offset_dy)
        im = create_image("RGBA", (int(w) + dx1, int(h) + dy1))
        Draw(im).text((dx1, dy1), c, font=font, fill=color)
        im = im.crop(im.getbbox())
        im = im.rotate(rng.uniform(*self.character_rotate), Resampling.BILINEAR, expand=True)
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
    def _noise_dots(image: Image, color: Color, rng: random.Random, width: int = 3, number: int = 30) -> None:
        draw = Draw(image)
        w, h = image.size
        for _ in range(number):
            x1, y1 = rng.randint(0, w), rng.randint(0, h)
            draw.line(((x1, y1), (x1 - 1, y1 - 1)), fill=color, width=width)

    @staticmethod
    def _noise_curve(image: Image, color: Color, rng: random.Random) -> None:
        w, h = image.size
        x1 = rng.randint(0, int(w / 5))
        x2 = rng.randint(0, w - int(w / 5)) + int(w / 5)
        y1 = rng.randint(0, h - 2 * int(h / 5)) + int(h / 5)
        y2 = rng.randint(0, h - y1 - int(h / 5)) + y1
        Draw(image).arc([x1, y1, x2, y2], rng.randint(0, 20), rng.randint(160, 200), fill=color)
