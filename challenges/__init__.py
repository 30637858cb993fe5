"""Captcha challenges: one attempt each, answer known only to the server.

A challenge's answer is derived from its random id with the app's secret key
(HMAC), so the answer is stored nowhere, not even in the database, and the
image or the audio can be drawn again whenever they are asked for (the audio
identically: its mixing is seeded the same way). A challenge belongs to the
browser session that opened it, and its image and audio may each be fetched
only a few times. The audio is spoken in the page's language when a voice
bank exists for it (``voices/en``), else in ``CAPTCHA_AUDIO_LANGUAGE``'s.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import timedelta
from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING

from flask import current_app, session

import rules.i18n
from challenges import bank
from challenges.bank import ALPHABET
from challenges.drawing import SeededCaptcha
from models import CaptchaChallenge

if TYPE_CHECKING:
    import numpy as np

    from challenges import audio

__all__ = ["ALPHABET", "LENGTH"]

LENGTH = 6
SESSION_KEY = "captcha_key"  # a random key per browser session; challenges keep its hash

_image = SeededCaptcha(width=300, height=90, font_sizes=(48, 52, 56))


def _owner() -> str:
    """This session's mark on the challenges it opens."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        key = session[SESSION_KEY] = secrets.token_urlsafe(18)
    return hashlib.sha256(key.encode()).hexdigest()


def _digest(purpose: str, challenge_id: str) -> bytes:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{challenge_id}".encode(), hashlib.sha256).digest()


def open_challenge() -> CaptchaChallenge:
    ttl = timedelta(minutes=current_app.config["CAPTCHA_TTL_MINUTES"])
    return CaptchaChallenge.open(ttl, owner=_owner())


def answer(challenge_id: str) -> str:
    fixed = current_app.config.get("CAPTCHA_FIXED_ANSWER")
    if fixed:
        return str(fixed).upper()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in _digest("captcha", challenge_id)[:LENGTH])


def normalise(typed: str) -> str:
    return "".join(typed.split()).upper()


def solve(challenge_id: str, typed: str) -> bool:
    """Spend the challenge's one attempt; True if the answer was right."""
    if not CaptchaChallenge.use(challenge_id, _owner()):
        return False
    return hmac.compare_digest(answer(challenge_id).encode(), normalise(typed).encode())


def discard(challenge_id: str) -> None:
    """Spend a challenge the user asked to replace."""
    CaptchaChallenge.use(challenge_id, _owner())


def is_live(challenge_id: str) -> bool:
    return CaptchaChallenge.live(challenge_id, _owner()) is not None


def count_fetch(challenge_id: str, medium: str) -> bool:
    """Count one fetch of the image or the audio; False past the setting's
    ``CAPTCHA_IMAGE_FETCHES`` or ``CAPTCHA_AUDIO_FETCHES``."""
    most = current_app.config[f"CAPTCHA_{medium.upper()}_FETCHES"]
    return CaptchaChallenge.fetch(challenge_id, _owner(), medium, most)


def image_png(challenge_id: str) -> bytes:
    return _drawn_image(challenge_id, answer(challenge_id))


# A challenge's image is the same whichever worker draws it, and however
# often: its randomness is seeded from the challenge (challenges/drawing.py).
# A page shown again soon after (the back button, a reload of the image) is
# not drawn again (about 2 ms): each worker keeps its last 32 drawings, 130 KB.
# The picture is drawn in 32 colours, one ink blended on one background: a
# palette image of 4 KB, written in a tenth of the time of the 15 KB of RGB,
# at the fastest PNG compression.
@lru_cache(maxsize=32)
def _drawn_image(challenge_id: str, text: str) -> bytes:
    # The seed is secret (HMAC); the generator only shapes the distortion, as the audio's does.
    rng = random.Random(_digest("captcha-image", challenge_id))  # noqa: S311
    drawn = _image.generate_image(text, rng=rng)
    out = BytesIO()
    drawn.save(out, format="png", compress_level=1)
    return out.getvalue()


def audio_language() -> str:
    """The voice bank for this request: the page's language if there are
    voices for it, else the setting's (``CAPTCHA_AUDIO_LANGUAGE``)."""
    language = rules.i18n.language()
    if bank.has_voices(language):
        return language
    return current_app.config["CAPTCHA_AUDIO_LANGUAGE"]


def spoken(challenge_id: str, language: str | None = None) -> tuple[np.ndarray, list[audio.Placed]]:
    """The challenge's audio, always the same for one challenge and one
    language, and where each recording of the bank went. ``language`` selects
    the voice bank (``voices/<language>``); by default ``audio_language()``.
    Nothing of it is cached: a challenge fetched again in the other language
    (the header's switch) is spoken in that one."""
    # The audio's modules (numpy: 12 MB in each worker) load on its first use.
    import numpy as np

    from challenges import audio

    language = language or audio_language()
    rng = np.random.default_rng(int.from_bytes(_digest("captcha-audio", challenge_id), "big"))
    return audio.compose(answer(challenge_id), bank.load(language), rng)


def audio_wav(challenge_id: str, language: str | None = None) -> bytes:
    from challenges import audio

    return audio.wav_bytes(spoken(challenge_id, language)[0])


def refusal_wav(wait: bool = False) -> bytes | None:
    """What a player hears instead of a refused challenge, in the audio's
    language (``bank.refusal``): ask for a new image, or with ``wait``, the
    client past its limit, wait; None when the bank has no such recording."""
    return bank.refusal(audio_language(), bank.REFUSED_WAIT if wait else bank.REFUSED)
