"""A robust hash of sound, in the style of Philips' (Haitsma and Kalker, ISMIR 2002).

The sound, mixed to mono at SAMPLE_RATE, is cut into frames of 0.37 s; each frame's
energy is measured in 33 bands spaced logarithmically from 300 to 2000 Hz (where speech
and melody live and codecs keep the most), and each of 32 bits says whether the energy
difference between neighbouring bands grew or shrank since the frame DIFF samples
earlier. Signs of differences of differences: a change of loudness, a resampling, AAC,
Opus or MP3 at ordinary rates and a mix to mono move few bits, while another voice, cut
or inserted words or music laid underneath move many.

A frame's bits depend only on where it starts, so the signer can keep every second one
(STORED_HOP) and the verifier can compute them at any finer hop and line the two up.

Silence has no shape: its bits are noise. So each stored frame also keeps its loudness
(LEVEL_STEP_DB steps); a frame of the original far below the original's loud parts is
judged by loudness (still quiet in the copy?) instead of by its bits.

Signs cannot see a sound laid quietly under another (music under a voice moves a few
bits, as a codec does). Energy can: codecs and loudness changes take energy away or scale
it all, while a laid-under sound adds energy where the original had little. So the print
also keeps a coarse spectral envelope, the level of 16 bands every ENVELOPE_HOP samples
(0.09 s), which the verifier compares cell by cell after the overall gain.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

ALG = "realmark-sound-1"
SAMPLE_RATE = 5512  # Hz: 44.1 kHz / 8; the bands stop at 2 kHz
FRAME = 2048  # samples: 0.37 s, Philips' frame
DIFF = 128  # samples between the two frames whose band differences a bit compares
STORED_HOP = 128  # samples between stored frames: 23.2 ms, 43 frames a second
QUERY_HOP = 32  # samples between a copy's frames: a quarter of STORED_HOP, to line up finely
BANDS = np.geomspace(300.0, 2000.0, 34)  # 33 bands -> 32 bits
LEVEL_STEP_DB = 1.0  # stored loudness resolution
LEVEL_FLOOR_DB = -120.0
ENVELOPE_HOP = 4 * STORED_HOP  # samples between envelope frames: 93 ms
ENVELOPE_FRAME = 1024  # samples: 0.19 s
ENVELOPE_BANDS = np.geomspace(150.0, 2700.0, 17)  # 16 bands, up to just below SAMPLE_RATE / 2

_WINDOW = np.hanning(FRAME).astype(np.float32)
_BIN_HZ = np.fft.rfftfreq(FRAME, 1 / SAMPLE_RATE)
_BAND_OF_BIN = np.digitize(_BIN_HZ, BANDS) - 1  # -1 or 33 outside 300-2000 Hz
_POWERS = (1 << np.arange(32, dtype=np.uint64)).astype(np.uint64)
_ENV_WINDOW = np.hanning(ENVELOPE_FRAME).astype(np.float32)
_ENV_BAND_OF_BIN = np.digitize(np.fft.rfftfreq(ENVELOPE_FRAME, 1 / SAMPLE_RATE), ENVELOPE_BANDS) - 1


@dataclass(frozen=True)
class SoundPrint:
    """A timeline of 32-bit frame hashes and loudness levels, every `hop` samples from
    sample `start` (frame i starts at start + i * hop)."""

    bits: np.ndarray  # (n,) uint32
    levels: np.ndarray  # (n,) uint8, dB above LEVEL_FLOOR_DB in LEVEL_STEP_DB steps
    hop: int
    start: int = DIFF
    envelope: np.ndarray | None = None  # (m, 16) uint8 band levels of frames starting at e * ENVELOPE_HOP

    def __len__(self) -> int:
        return len(self.bits)

    def time(self, i) -> np.ndarray | float:
        """Seconds from the sound's start to the start of frame i."""
        return (self.start + np.asarray(i) * self.hop) / SAMPLE_RATE

    @property
    def step_s(self) -> float:
        return self.hop / SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return float(self.time(len(self))) if len(self) else 0.0

    def encode(self) -> str:
        """base64url of: the frame count (4 bytes, little-endian); each frame's bits (4
        bytes, little-endian) and level (1 byte); each envelope frame's 16 band levels."""
        packed = np.empty((len(self), 5), np.uint8)
        packed[:, :4] = self.bits.astype("<u4").view(np.uint8).reshape(-1, 4)
        packed[:, 4] = self.levels
        envelope = self.envelope if self.envelope is not None else np.zeros((0, len(ENVELOPE_BANDS) - 1), np.uint8)
        raw = np.uint32(len(self)).astype("<u4").tobytes() + packed.tobytes() + envelope.astype(np.uint8).tobytes()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def decode(cls, value: str, hop: int = STORED_HOP) -> SoundPrint:
        """The print encode() wrote; ValueError if its sizes do not add up."""
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        if len(raw) < 4:
            raise ValueError("a sound print starts with its frame count")
        n = int(np.frombuffer(raw[:4], "<u4")[0])
        bands = len(ENVELOPE_BANDS) - 1
        rest = len(raw) - 4 - 5 * n
        if rest < 0 or rest % bands:
            raise ValueError("a sound print is 5 bytes a frame and 16 an envelope frame")
        packed = np.frombuffer(raw[4 : 4 + 5 * n], np.uint8).reshape(-1, 5)
        bits = np.ascontiguousarray(packed[:, :4]).view("<u4").ravel().astype(np.uint32)
        envelope = np.frombuffer(raw[4 + 5 * n :], np.uint8).reshape(-1, bands).copy()
        return cls(bits, packed[:, 4].copy(), hop, envelope=envelope)


def bit_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between 32-bit frame hashes, element by element."""
    return np.bitwise_count(np.bitwise_xor(a.astype(np.uint32), b.astype(np.uint32))).astype(np.int32)


def _members(band_of_bin: np.ndarray, bands: int) -> tuple[np.ndarray, np.ndarray]:
    """(the FFT bins inside the bands, a bins x bands 0/1 matrix saying which band each is
    in): summing a frame's power into bands is then one matrix product."""
    inside = np.flatnonzero((band_of_bin >= 0) & (band_of_bin < bands))
    member = np.zeros((len(inside), bands))
    member[np.arange(len(inside)), band_of_bin[inside]] = 1.0
    return inside, member


_BINS, _MEMBER = _members(_BAND_OF_BIN, len(BANDS) - 1)
_ENV_BINS, _ENV_MEMBER = _members(_ENV_BAND_OF_BIN, len(ENVELOPE_BANDS) - 1)


def _rows(frame: int) -> int:
    """Frames transformed at once: 4 MB of them, which stays in cache (64 MB at a time,
    as before, measured 2-7x slower over a minute of sound) and bounds memory for hours."""
    return max(16, (4 << 20) // (8 * frame))


def _band_energies(samples: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(len(positions), 33) band energies of the frames starting at positions."""
    out = np.empty((len(positions), len(BANDS) - 1), np.float64)
    rows = _rows(FRAME)
    for lo in range(0, len(positions), rows):
        chunk = positions[lo : lo + rows]
        frames = samples[chunk[:, None] + np.arange(FRAME)[None, :]] * _WINDOW
        spectrum = np.fft.rfft(frames, axis=1)[:, _BINS]
        out[lo : lo + rows] = (spectrum.real**2 + spectrum.imag**2) @ _MEMBER
    return out


def band_levels(samples: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(len(positions), 16) levels (dB above LEVEL_FLOOR_DB, float) of the ENVELOPE_FRAME
    frames starting at positions (which must leave a whole frame)."""
    out = np.empty((len(positions), len(ENVELOPE_BANDS) - 1), np.float64)
    rows = _rows(ENVELOPE_FRAME)
    for lo in range(0, len(positions), rows):
        chunk = np.asarray(positions[lo : lo + rows])
        frames = samples[chunk[:, None] + np.arange(ENVELOPE_FRAME)[None, :]] * _ENV_WINDOW
        spectrum = np.fft.rfft(frames, axis=1)[:, _ENV_BINS]
        energies = (spectrum.real**2 + spectrum.imag**2) @ _ENV_MEMBER
        out[lo : lo + rows] = 10 * np.log10(energies / ENVELOPE_FRAME + 1e-12) - LEVEL_FLOOR_DB
    return out


def sound_print(samples: np.ndarray, hop: int = STORED_HOP) -> SoundPrint:
    """The print of mono samples at SAMPLE_RATE, a frame every `hop` samples (and the
    spectral envelope, when printing for a manifest)."""
    samples = np.asarray(samples, np.float32)
    if len(samples) < FRAME + DIFF:
        return SoundPrint(np.zeros(0, np.uint32), np.zeros(0, np.uint8), hop)
    positions = np.arange(DIFF, len(samples) - FRAME + 1, hop)
    if DIFF % hop == 0:
        # The frame DIFF earlier is a frame of the same series: each is transformed once.
        lag = DIFF // hop
        energies = _band_energies(samples, np.arange(0, len(samples) - FRAME + 1, hop))
        now, before = energies[lag : lag + len(positions)], energies[: len(positions)]
    else:
        now, before = _band_energies(samples, positions), _band_energies(samples, positions - DIFF)
    delta = (now[:, :-1] - now[:, 1:]) - (before[:, :-1] - before[:, 1:])
    bits = ((delta > 0).astype(np.uint64) * _POWERS).sum(axis=1).astype(np.uint32)
    level_db = 10 * np.log10(now.sum(axis=1) / FRAME + 1e-12)
    levels = np.clip(np.round((level_db - LEVEL_FLOOR_DB) / LEVEL_STEP_DB), 0, 255).astype(np.uint8)
    envelope = None
    if hop == STORED_HOP:
        starts = np.arange(0, len(samples) - ENVELOPE_FRAME + 1, ENVELOPE_HOP)
        envelope = np.clip(np.round(band_levels(samples, starts)), 0, 255).astype(np.uint8)
    return SoundPrint(bits, levels, hop, envelope=envelope)
