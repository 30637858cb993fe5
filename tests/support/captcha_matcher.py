"""The attacker's program: read an audio captcha by matching it against the
recordings it was built from (the attacker has them: the code is public).

Every recording of every character (and of the opening sentence, if any) is
turned into a log-spectrogram template, at several speeds; each template slides
over the challenge's spectrogram, scored by normalised correlation; the best
non-overlapping matches, read in time order, are the answer.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

FRAME, HOP, BANDS = 256, 80, 40
SPEEDS = (0.8, 0.89, 1.0, 1.12, 1.25)
STEP = 4
MARGIN = 6  # frames
_WINDOW = np.hanning(FRAME).astype(np.float32)
_EDGES = np.unique(np.geomspace(2, FRAME // 2, BANDS + 1).astype(int))


def spectrogram(samples: np.ndarray, floor: float) -> np.ndarray:
    """Frames x bands of log energy; under ``floor`` (the noise) differences
    do not count."""
    samples = np.pad(samples.astype(np.float32), (0, max(0, FRAME - len(samples))))
    frames = sliding_window_view(samples, FRAME)[::HOP] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bands = np.add.reduceat(power, _EDGES[:-1], axis=1)
    return np.log(bands + floor)


def _resample(samples: np.ndarray, factor: float) -> np.ndarray:
    length = int(len(samples) / factor)
    return np.interp(np.linspace(0, len(samples) - 1, length), np.arange(len(samples)), samples)


def _normalise(windows: np.ndarray) -> np.ndarray:
    """Remove the window's mean (its loudness, in the log domain), then scale
    to unit length."""
    flat = windows.reshape(*windows.shape[:-2], -1)
    flat = flat - flat.mean(axis=-1, keepdims=True)
    return flat / (np.linalg.norm(flat, axis=-1, keepdims=True) + 1e-9)


class Matcher:
    def __init__(
        self, bank: dict[str, list[np.ndarray]], skip: tuple[str, ...] = ("intro",), floor: float = 5.0
    ):
        """``bank``: recordings by character; keys in ``skip`` are matched
        (so that they are not read as characters) but not answered. ``floor``
        is tuned to the target's noise (8-bit audio with a hiss: higher)."""
        self.floor = floor
        self.keys = sorted(bank)
        self.skip = {self.keys.index(key) for key in skip if key in bank}
        by_length: dict[int, list[tuple[int, np.ndarray]]] = {}
        for row, key in enumerate(self.keys):
            for samples in bank[key]:
                for speed in SPEEDS:
                    # Quiet margins: a template that explains only part of
                    # a louder sound (« A » inside « K ») does not fit.
                    template = spectrogram(np.pad(_resample(samples, speed), MARGIN * HOP), floor)
                    # Lengths rounded down to a multiple of STEP frames (the
                    # middle kept): fewer sizes to slide, the same sound.
                    length = max(STEP, len(template) // STEP * STEP)
                    trim = (len(template) - length) // 2
                    by_length.setdefault(length, []).append((row, template[trim : trim + length]))
        self.groups = []
        for length, items in sorted(by_length.items()):
            items.sort(key=lambda item: item[0])
            rows = np.array([row for row, _t in items])
            firsts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            matrix = _normalise(np.array([t for _r, t in items], dtype=np.float32)).T
            self.groups.append((length, rows[firsts], firsts, matrix))

    def read(self, samples: np.ndarray, count: int) -> str:
        spec = spectrogram(samples, self.floor).astype(np.float32)
        frames = len(spec)
        score = np.full((len(self.keys), frames), -np.inf, dtype=np.float32)
        # Voice activity: a match must lie partly over loud frames.
        loudness = spec.mean(axis=1)
        loud = np.cumsum(np.r_[0, loudness > np.percentile(loudness, 30)])
        span = np.zeros((len(self.keys), frames), dtype=np.int32)
        sums = np.cumsum(np.r_[0.0, spec.astype(np.float64).sum(axis=1)])
        squares = np.cumsum(np.r_[0.0, (spec.astype(np.float64) ** 2).sum(axis=1)])
        for length, rows, firsts, matrix in self.groups:
            if length > frames:
                continue
            positions = frames - length + 1
            windows = sliding_window_view(spec, length, axis=0).transpose(0, 2, 1)
            # The templates have no mean, so the window's need not be removed
            # from the product, only from its length (by running sums).
            total = sums[length:] - sums[:positions]
            energy = squares[length:] - squares[:positions] - total**2 / (length * spec.shape[1])
            scores = (windows.reshape(positions, -1) @ matrix) / np.sqrt(np.maximum(energy, 1e-6))[:, None]
            best = np.maximum.reduceat(scores, firsts, axis=1).T  # keys of the group x positions
            best[:, loud[length:] - loud[:positions] < length / 4] = -np.inf
            current = score[rows, :positions]
            better = best > current
            score[rows, :positions] = np.where(better, best, current)
            span[rows, :positions] = np.where(better, length, span[rows, :positions])
        starts = np.arange(frames)
        core_starts, core_ends = starts + span // 4, starts + span - span // 4
        picked: list[tuple[int, str]] = []
        while len(picked) < count and np.isfinite(score).any():
            row, start = np.unravel_index(np.argmax(score), score.shape)
            end = start + int(span[row, start])
            if row not in self.skip:
                picked.append((int(start), self.keys[row]))
            # No later match may lie over this one.
            score[(core_starts < end) & (core_ends > start)] = -np.inf
        return "".join(key for _start, key in sorted(picked))
