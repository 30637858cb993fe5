"""Build the captcha's voice bank from Debian's espeak-ng and sox.

    python scripts/make_voices.py [LANGUAGE ...]      (default: fr)

For each language, ``voices/<language>/<character>/*.wav`` holds several
recordings of every character of the captcha's alphabet (voice variants,
pitches and speeds), ``voices/<language>/intro/*.wav`` the sentence said
before them, and ``voices/<language>/refused*/base.wav`` what is said when the
audio is refused (``refused``: ask for a new image; ``refused-wait``: wait).
Files are in the format the ``captcha`` package reads: WAV, mono,
8 kHz, 8-bit unsigned. Nothing is fetched from elsewhere: only the local
espeak-ng and sox programs are run.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from challenges.bank import ALPHABET, VOICES_DIR  # noqa: E402

# What is said for each character. French listeners mix up « cé » and
# « sept » or « six », « ka » and « quatre », « ène »/« èfe » and « neuf »:
# every digit is announced as a digit.
SPOKEN = {
    "fr": {
        "intro": "Saisissez les caractères suivants.",
        **{letter: letter for letter in ALPHABET if letter.isalpha()},
        **{digit: f"chiffre {digit}" for digit in ALPHABET if digit.isdigit()},
    },
    "en": {
        "intro": "Type the following characters.",
        **{letter: letter for letter in ALPHABET if letter.isalpha()},
        **{digit: f"number {digit}" for digit in ALPHABET if digit.isdigit()},
    },
}
# Said instead of a challenge whose audio is refused: a player cannot show a
# 429, so the person who pressed « play » hears why nothing else comes, with
# or without JavaScript. Each refusal says what helps: a new image once the
# challenge's own audio has been played its number of times; waiting once
# the client has asked for too many images or sounds, which a new image
# does not change.
REFUSALS = {
    "fr": {
        "refused": "Cette suite de caractères ne peut plus être écoutée : demandez une nouvelle image.",
        "refused-wait": "Trop de demandes en peu de temps : réessayez plus tard.",
    },
    "en": {
        "refused": "These characters cannot be played again: ask for a new image.",
        "refused-wait": "Too many requests in a short while: try again later.",
    },
}
REFUSAL_VOICE = ("", 50, 150)  # the plainest voice: variant, pitch, speed
ESPEAK_VOICE = {"fr": "fr", "en": "en-gb"}
VARIANTS = ("", "+m3", "+m7", "+f2", "+f4")  # espeak-ng voice variants
PITCHES = (35, 65)  # espeak-ng -p (0-99)
SPEEDS = (135, 165)  # espeak-ng -s (words per minute)

# sox: trim the silence around the word, then 8 kHz, mono, 8-bit unsigned.
TRIM = ["silence", "1", "0.02", "1%"]
SOX_EFFECTS = [*TRIM, "reverse", *TRIM, "reverse", "rate", "8000"]


def program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} is missing: `make install` installs it (apt-get install espeak-ng sox).")
    return path


def record(text: str, voice: str, pitch: int, speed: int, target: Path, work: Path) -> None:
    """One recording; every argument comes from the tables above."""
    raw = work / "raw.wav"
    speak = [program("espeak-ng"), "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(raw), text]
    subprocess.run(speak, check=True)  # noqa: S603
    convert = [program("sox"), str(raw), "-c", "1", "-b", "8", "-e", "unsigned-integer", str(target)]
    subprocess.run([*convert, *SOX_EFFECTS], check=True)  # noqa: S603


def make_language(language: str) -> Path:
    final = VOICES_DIR / language
    building = VOICES_DIR / f".{language}.building"
    shutil.rmtree(building, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        for key, text in SPOKEN[language].items():
            folder = building / key
            folder.mkdir(parents=True)
            for variant, pitch, speed in itertools.product(VARIANTS, PITCHES, SPEEDS):
                name = f"{variant.strip('+') or 'base'}-p{pitch}-s{speed}.wav"
                voice = ESPEAK_VOICE[language] + variant
                record(text, voice, pitch, speed, folder / name, Path(work))
        variant, pitch, speed = REFUSAL_VOICE
        for key, text in REFUSALS[language].items():
            (building / key).mkdir()
            voice = ESPEAK_VOICE[language] + variant
            record(text, voice, pitch, speed, building / key / "base.wav", Path(work))
    shutil.rmtree(final, ignore_errors=True)
    building.rename(final)  # all or nothing: a half-built bank is never used
    return final


def main(languages: list[str]) -> None:
    for language in languages or ["fr"]:
        if language not in SPOKEN:
            sys.exit(f"No spoken forms for {language!r}; known: {', '.join(SPOKEN)}")
        print(f"voices: {make_language(language).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
