"""The audio captcha in French: the voice bank made from espeak-ng, and the
audio a challenge serves (format, length, order, origin of every voice)."""

from __future__ import annotations

import importlib.util
import wave

import numpy as np
import pytest
from captcha.audio import AudioCaptcha

import challenges
from challenges import audio, bank
from challenges.bank import ALPHABET, INTRO, RATE, VOICES_DIR
from tests.support.captcha import open_challenge, read_wav

FRENCH = VOICES_DIR / "fr"


def make_voices():
    spec = importlib.util.spec_from_file_location(
        "make_voices", VOICES_DIR.parent / "scripts" / "make_voices.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_french_bank_has_several_voices_per_character_in_the_captcha_format():
    for key in (*ALPHABET, INTRO):
        recordings = sorted((FRENCH / key).glob("*.wav"))
        assert len(recordings) >= 10, key
        for path in recordings:
            with wave.open(str(path)) as recording:
                assert recording.getnchannels() == 1
                assert recording.getsampwidth() == 1  # 8-bit, unsigned in WAV
                assert recording.getframerate() == RATE
                assert 0.1 < recording.getnframes() / RATE < (4.0 if key == INTRO else 1.6), path
    # The captcha package itself reads the bank (a folder per character).
    body = AudioCaptcha(voicedir=str(FRENCH)).generate("K7")
    assert body.startswith(b"RIFF")


def test_digits_are_announced_as_digits_and_the_audio_says_what_it_is():
    spoken = make_voices().SPOKEN["fr"]
    assert spoken[INTRO] == "Saisissez les caractères suivants."
    for character in ALPHABET:
        if character.isdigit():
            assert spoken[character] == f"chiffre {character}"  # « sept », never taken for « C »
        else:
            assert spoken[character] == character


def test_the_challenge_audio_is_french_from_the_bank_in_order(app, client):
    challenge = open_challenge(client)
    response = client.get(f"/captcha/{challenge}.wav")
    params, samples = read_wav(response.data)
    assert params == (1, 1, RATE)  # mono, 8-bit, 8 kHz
    seconds = len(samples) / RATE
    assert 4 < seconds < 20
    with app.test_request_context():
        answer = challenges.answer(challenge)
        mixed, placed = challenges.spoken(challenge)
    assert response.data == audio.wav_bytes(mixed)
    # The sentence first, then each character of the answer, in order...
    assert [piece.key for piece in placed] == [INTRO, *answer]
    assert all(a.start < b.start for a, b in zip(placed, placed[1:], strict=False))
    assert placed[1].start >= placed[0].end
    for piece in placed:
        # ...each spoken by a recording of the French bank for that character...
        assert piece.source.parent == FRENCH / piece.key
        assert piece.source.is_file()
        # ...and heard above the background, where it was put. Levels are drawn
        # at random per challenge: the guaranteed margin (at least 1.5 dB of
        # voice over babble, the test below) makes the mix at least 1.25 times
        # louder there than the background alone.
        voice = samples[piece.start : piece.end]
        assert np.sqrt(np.mean(voice**2)) > 1.25 * np.sqrt(np.mean(samples[: RATE // 5] ** 2))


def test_a_person_hears_the_voices_well_above_the_babble():
    """Intelligibility: over 50 draws, each character's voice against the
    background (babble and noise) under it, measured on the separate layers."""
    voices = bank.load("fr")
    ratios, overlaps = [], []
    for seed in range(50):
        voice, background, placed = audio.layers("K7MX3P", voices, np.random.default_rng(seed))
        for piece in placed[1:]:
            part = slice(piece.start, piece.end)
            power = np.mean(voice[part] ** 2) / np.mean(background[part] ** 2)
            ratios.append(10 * np.log10(power))
        overlaps += [a.end - b.start for a, b in zip(placed[1:], placed[2:], strict=False)]
    assert min(ratios) > 1.5 and np.median(ratios) > 6  # dB
    assert max(overlaps) <= -audio.GAP[0] * RATE + 1  # at most 80 ms said over each other


def test_the_voice_bank_is_chosen_by_language(app, client):
    challenge = open_challenge(client)
    with app.test_request_context():
        _mixed, placed = challenges.spoken(challenge, "fr")
        assert all(piece.source.is_relative_to(FRENCH) for piece in placed)
        with pytest.raises(bank.MissingVoices, match="make install"):
            challenges.spoken(challenge, "xx")
    assert "en" in make_voices().SPOKEN  # English voices: scripts/make_voices.py en


@pytest.mark.parametrize("kind", ["page", "htmx"])
def test_the_widget_says_version_audio_without_en_anglais(kind, client, htmx_client):
    browser = htmx_client if kind == "htmx" else client
    open_challenge(browser)
    text = browser.get("/inscription/captcha").get_data(as_text=True)
    assert "Version audio :" in text
    assert "anglais" not in text
    widget = browser.submit("/inscription/captcha/nouveau", {"challenge_id": ""})
    if kind == "htmx":
        assert "Version audio :" in widget.get_data(as_text=True)
        assert "anglais" not in widget.get_data(as_text=True)
