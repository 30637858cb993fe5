"""The voice banks the audio challenge is spoken with: ``voices/<language>/``,
one folder per character, one for the sentence said first (``intro``) and
two for what is said when the audio is refused (``refused``,
``refused-wait``), built by
``scripts/make_voices.py`` (``make install``)."""

from __future__ import annotations

import functools
import wave
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy (12 MB in each worker) is imported by the audio's first use
    import numpy as np

# Upper case without look-alikes in the image or in the audio:
# no 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 8/B, U/V.
ALPHABET = "ACEFGHKMNPRTWXY34679"
INTRO = "intro"
# What is said instead of a refused challenge (``refusal``): its own audio
# played its number of times (ask for a new image), or the client past its
# limit (wait).
REFUSED = "refused"
REFUSED_WAIT = "refused-wait"
RATE = 8000  # Hz, the captcha package's format: mono, 8-bit unsigned
VOICES_DIR = Path(__file__).resolve().parent.parent / "voices"


class MissingVoices(RuntimeError):
    pass


def read_wav(path: Path) -> np.ndarray:
    """A recording of the bank as floats in [-1, 1]."""
    import numpy as np

    with wave.open(str(path)) as recording:
        if (recording.getnchannels(), recording.getsampwidth(), recording.getframerate()) != (1, 1, RATE):
            raise MissingVoices(f"{path} is not mono 8-bit {RATE} Hz")
        raw = recording.readframes(recording.getnframes())
    return (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0


def has_voices(language: str, root: Path = VOICES_DIR) -> bool:
    """Whether ``voices/<language>`` was built (``make install``)."""
    return language.isalpha() and (root / language).is_dir()


@functools.cache
def load(language: str, root: Path = VOICES_DIR) -> dict[str, list[tuple[Path, np.ndarray]]]:
    """Every recording of the bank, by character (and ``intro``)."""
    folder = root / language
    bank = {}
    for key in (*ALPHABET, INTRO):
        paths = sorted((folder / key).glob("*.wav"))
        if not paths:
            raise MissingVoices(f"No {language!r} voices for {key!r} in {folder}: run `make install`.")
        bank[key] = [(path, read_wav(path)) for path in paths]
    return bank


@functools.cache
def refusal(language: str, kind: str = REFUSED, root: Path = VOICES_DIR) -> bytes | None:
    """What a player is given instead of a refused challenge (``kind``:
    REFUSED or REFUSED_WAIT): a WAV that says so, as built (no mixing: a
    refusal costs a file read once per worker); None for a bank built
    before it existed."""
    path = root / language / kind / "base.wav"
    return path.read_bytes() if path.is_file() else None
