"""The audio challenge: the characters spoken by voices of the bank, after a
sentence that says what follows, mixed so that matching the audio against the
bank (which anyone has: the code is public) does not read them.

Each character is one recording of the bank picked at random, resampled by a
random factor (pitch and speed change together, continuously), filtered with a
random short filter (timbre) and set at a random level. Gaps between
characters are random and sometimes negative (the next character starts
before the previous one ends). Under everything runs a babble of other
recordings of the bank played backwards (speech-like, but no character a
person would hear), and noise. The voices stay well above the babble.

All the randomness comes from ``rng``: the caller seeds it per challenge, so
fetching the audio of one challenge again gives the same sound, and nothing is
gained by averaging several fetches.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from challenges.bank import INTRO, RATE

VOICE_RMS = 0.22  # each character's loudness before its random level
BABBLE_LEVEL = (0.25, 0.40)  # babble loudness, relative to VOICE_RMS
NOISE_RMS = (0.015, 0.03)
SPEED = (0.80, 1.25)  # resampling factor: < 1 lower and slower
GAP = (-0.08, 0.55)  # seconds between characters; negative: overlap
TAPS = 0.6  # largest tap of the random filter after the first (1.0)


@dataclass(frozen=True)
class Placed:
    """Where a recording of the bank was put in the audio."""

    key: str  # the character, or ``intro``
    source: Path
    start: int  # samples
    end: int


def _resample(samples: np.ndarray, factor: float) -> np.ndarray:
    length = max(2, int(len(samples) / factor))
    positions = np.linspace(0, len(samples) - 1, length)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def _twist(samples: np.ndarray, rng: np.random.Generator, level: float) -> np.ndarray:
    samples = _resample(samples, rng.uniform(*SPEED))
    taps = np.concatenate([[1.0], rng.uniform(-TAPS, TAPS, size=rng.integers(1, 4))])
    samples = np.convolve(samples, taps / np.abs(taps).sum(), mode="same")
    rms = float(np.sqrt(np.mean(samples**2))) or 1.0
    return (samples * (level * VOICE_RMS / rms)).astype(np.float32)


def _babble(length: int, bank: dict, rng: np.random.Generator) -> np.ndarray:
    """Two streams of the bank's recordings played backwards, end to end."""
    babble = np.zeros(length, dtype=np.float32)
    keys = list(bank)
    for _stream in range(2):
        position = int(rng.integers(0, RATE // 4))
        while position < length:
            recordings = bank[keys[rng.integers(len(keys))]]
            _source, samples = recordings[rng.integers(len(recordings))]
            piece = _twist(samples[::-1], rng, rng.uniform(*BABBLE_LEVEL))
            end = min(length, position + len(piece))
            babble[position:end] += piece[: end - position]
            position = end + int(rng.integers(0, RATE // 10))
    return babble


def layers(chars: str, bank: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[Placed]]:
    """The voices, the background under them, and where each voice went."""
    pieces: list[tuple[str, Path, np.ndarray]] = []
    for key in (INTRO, *chars):
        source, samples = bank[key][rng.integers(len(bank[key]))]
        level = 1.0 if key == INTRO else rng.uniform(0.85, 1.15)
        pieces.append((key, source, _twist(samples, rng, level)))
    starts, position = [], int(RATE * 0.3)
    for index, (_key, _source, samples) in enumerate(pieces):
        starts.append(position)
        gap = rng.uniform(0.5, 0.8) if index == 0 else rng.uniform(*GAP)
        position = max(position + len(samples) // 2, position + len(samples) + int(gap * RATE))
    length = position + int(RATE * 0.4)
    background = _babble(length, bank, rng) + rng.normal(0, rng.uniform(*NOISE_RMS), length).astype(
        np.float32
    )
    voices = np.zeros(length, dtype=np.float32)
    placed = []
    for start, (key, source, samples) in zip(starts, pieces, strict=True):
        voices[start : start + len(samples)] += samples
        placed.append(Placed(key, source, start, start + len(samples)))
    return voices, background, placed


def compose(chars: str, bank: dict, rng: np.random.Generator) -> tuple[np.ndarray, list[Placed]]:
    """The mixed audio as floats in [-1, 1], and where each voice went."""
    voices, background, placed = layers(chars, bank, rng)
    mixed = voices + background
    return mixed / max(1.0, float(np.abs(mixed).max()) / 0.95), placed


def wav_bytes(samples: np.ndarray) -> bytes:
    """WAV, mono, 8 kHz, 8-bit unsigned (what the ``captcha`` package writes)."""
    body = np.clip(np.round(samples * 127.0 + 128.0), 0, 255).astype(np.uint8).tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(RATE)
        out.writeframes(body)
    return buffer.getvalue()
