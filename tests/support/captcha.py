"""Captcha challenges opened the way a browser opens them, and WAV files read
back as samples."""

from __future__ import annotations

import io
import wave

import numpy as np

from tests.support.signup import PERSON, challenge_on


def open_challenge(client) -> str:
    """Step 2 done, the captcha page shown: the id of its challenge."""
    client.submit("/inscription/", PERSON)
    return challenge_on(client.get("/inscription/captcha").get_data(as_text=True))


def read_wav(body: bytes) -> tuple[tuple[int, int, int], np.ndarray]:
    """(channels, bytes per sample, rate) and the samples as floats in [-1, 1]."""
    with wave.open(io.BytesIO(body)) as audio:
        params = (audio.getnchannels(), audio.getsampwidth(), audio.getframerate())
        raw = audio.readframes(audio.getnframes())
    return params, (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
