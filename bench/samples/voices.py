"""Speech-like sound, generated: the bench and tests need voices, and no recording of
speech ships in any wheel this project installs.

A source-filter model, as speech is: a glottal pulse train whose pitch glides within a
speaker's range, shaped by formant resonators that move from vowel to vowel every
syllable, with noise bursts for consonants, syllables grouped into words and words
separated by pauses. Each seed is another speaker saying other "words"."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

RATE = 48000
# (F1, F2, F3) in Hz of a few vowels (Peterson and Barney's adult averages).
VOWELS = np.array(
    [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410), (660, 1720, 2410)],
    dtype=np.float64,
)


def _resonator(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / RATE)
    a = [1.0, -2 * r * np.cos(2 * np.pi * freq / RATE), r * r]
    return lfilter([1 - r], a, x)


def voice(seconds: float, seed: int, *, pitch: float | None = None) -> np.ndarray:
    """Mono float32 speech-like sound at RATE, peak about 0.5."""
    rng = np.random.default_rng(seed)
    pitch = pitch or float(rng.uniform(95, 240))  # a speaker's mean pitch, Hz
    tract = float(rng.uniform(0.85, 1.15))  # a speaker's vocal tract scales the formants
    out = np.zeros(int(seconds * RATE), np.float64)
    t = int(rng.uniform(0.05, 0.3) * RATE)
    while t < len(out):
        for _ in range(int(rng.integers(1, 4))):  # syllables in a word
            n = int(rng.uniform(0.12, 0.28) * RATE)
            if t + n > len(out):
                break
            glide = pitch * (1 + 0.15 * np.sin(np.linspace(0, rng.uniform(1, 3), n) + rng.uniform(0, 6)))
            phase = np.cumsum(glide / RATE)
            pulses = np.diff(np.floor(phase), prepend=0.0) + 0.02 * rng.standard_normal(n)
            formants = VOWELS[rng.integers(len(VOWELS))] * tract
            sound = sum(_resonator(pulses, f, 80 + 40 * i) for i, f in enumerate(formants))
            envelope = np.sin(np.linspace(0, np.pi, n)) ** 0.6
            syllable = sound * envelope
            if rng.random() < 0.6:  # a consonant: a burst of coloured noise first
                m = int(rng.uniform(0.03, 0.08) * RATE)
                burst = _resonator(rng.standard_normal(m), float(rng.uniform(1500, 2600)), 600)
                syllable[:m] += 0.5 * burst * np.hanning(m)
            out[t : t + n] += syllable
            t += n + int(rng.uniform(0.0, 0.04) * RATE)
        t += int(rng.uniform(0.12, 0.5) * RATE)  # a pause between words
    peak = np.abs(out).max() or 1.0
    return (0.5 * out / peak).astype(np.float32)


def music(seconds: float, seed: int) -> np.ndarray:
    """Mono float32 backing music at RATE: chords of harmonic notes on a beat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n, np.float64)
    beat = int(RATE * 60 / rng.uniform(80, 130))
    t = np.arange(beat) / RATE
    for start in range(0, n, beat):
        root = 110 * 2 ** (rng.integers(0, 12) / 12)
        note = sum(
            np.sin(2 * np.pi * root * ratio * h * t) / h for ratio in (1, 1.26, 1.5) for h in (1, 2, 3)
        ) * np.exp(-t * 3)
        out[start : start + beat] += note[: n - start]
    return (0.4 * out / (np.abs(out).max() or 1.0)).astype(np.float32)
