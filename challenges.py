"""Captcha challenges: one attempt each, answer known only to the server.

A challenge's answer is derived from its random id with the app's secret key
(HMAC), so the answer is stored nowhere, not even in the database, and the
image or the audio can be drawn again whenever they are asked for.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from captcha.audio import AudioCaptcha
from captcha.image import ImageCaptcha
from flask import current_app

from models import CaptchaChallenge

# Upper case (the audio voices spell 0-9 and A-Z) without look-alikes:
# no 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 8/B, U/V.
ALPHABET = "ACEFGHKMNPRTWXY34679"
LENGTH = 6

_image = ImageCaptcha(width=300, height=90, font_sizes=(48, 52, 56))
_audio = AudioCaptcha()


def open_challenge() -> CaptchaChallenge:
    return CaptchaChallenge.open(timedelta(minutes=current_app.config["CAPTCHA_TTL_MINUTES"]))


def answer(challenge_id: str) -> str:
    fixed = current_app.config.get("CAPTCHA_FIXED_ANSWER")
    if fixed:
        return str(fixed).upper()
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"captcha:{challenge_id}".encode(), hashlib.sha256).digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:LENGTH])


def normalise(typed: str) -> str:
    return "".join(typed.split()).upper()


def solve(challenge_id: str, typed: str) -> bool:
    """Spend the challenge's one attempt; True if the answer was right."""
    if not CaptchaChallenge.use(challenge_id):
        return False
    return hmac.compare_digest(answer(challenge_id).encode(), normalise(typed).encode())


def discard(challenge_id: str) -> None:
    """Spend a challenge the user asked to replace."""
    CaptchaChallenge.use(challenge_id)


def is_live(challenge_id: str) -> bool:
    return CaptchaChallenge.live(challenge_id) is not None


def image_png(challenge_id: str) -> bytes:
    return _image.generate(answer(challenge_id), format="png").getvalue()


def audio_wav(challenge_id: str) -> bytes:
    return bytes(_audio.generate(answer(challenge_id)))
