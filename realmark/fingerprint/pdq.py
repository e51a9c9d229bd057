"""A 256-bit perceptual hash following Facebook's PDQ algorithm, in numpy.

PDQ: luma, tent-filtered down to 64x64, the 16x16 lowest non-DC DCT coefficients,
each bit = coefficient above the median. Re-encoding and resizing move a few bits;
different pictures differ in about half (128). We use Pillow's triangle-filter resize
for the tent filter instead of PDQ's two-pass Jarosz box, so hashes are PDQ-like but
not bit-identical to the reference implementation; hence our own algorithm name.
(`pdqhash` has no wheel and its sdist needs a C++ toolchain: not for a default install.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ALG = "realmark-pdq-1"
BITS = 256
BYTES = BITS // 8

# Distances between fingerprints, in bits of BITS. Measured on this project's photos and
# clips (README "Fingerprint"): re-encodes and resizes 0-2, a quarter of the picture
# replaced 40-90, unrelated pictures 112-142 (half the bits, by chance).
MATCH_DISTANCE = 31  # PDQ's own threshold for "the same picture": appearance search, clip anchors
COPY_DISTANCE = 20  # a photo that passes as the signed picture (with no changed grid cell);
# stricter than MATCH_DISTANCE, which is for finding candidates, not for confirming them
UNRELATED_DISTANCE = BITS // 2  # where unrelated pictures sit: no resemblance at all


def _dct_matrix() -> np.ndarray:
    i = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return np.sqrt(2.0 / 64) * np.cos(np.pi / 128 * i * (2 * j + 1))


_DCT = _dct_matrix()  # (16, 64)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bits that differ between packed fingerprints, along the last axis: any unsigned
    integer packing (32 uint8 or 4 uint64 per fingerprint), broadcast like numpy."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int32)


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) distances between two stacks of (n, BYTES) uint8 fingerprints.

    As a matrix product of +-1 bit vectors: a full table for thousands of fingerprints
    a side, without the (n, m, BYTES) temporary that broadcasting hamming() would need."""
    sa, sb = _signs(a), _signs(b)
    return ((BITS - sa @ sb.T) / 2).astype(np.int32)


def _signs(packed: np.ndarray) -> np.ndarray:
    return np.unpackbits(packed, axis=1).astype(np.float32) * 2 - 1


@dataclass(frozen=True)
class Fingerprint:
    bits: bytes  # BYTES bytes
    quality: int  # 0..100, PDQ's gradient-based confidence

    @property
    def hex(self) -> str:
        return self.bits.hex()

    @property
    def array(self) -> np.ndarray:
        """The bits as (BYTES,) uint8, for batch distances."""
        return np.frombuffer(self.bits, np.uint8)

    @classmethod
    def from_hex(cls, value: str, quality: int = 0) -> Fingerprint:
        return cls(bytes.fromhex(value), quality)

    def distance(self, other: Fingerprint) -> int:
        """Hamming distance, 0..BITS."""
        return int(hamming(self.array, other.array))

    def distances(self, others: np.ndarray) -> np.ndarray:
        """Distances to each row of an (n, BYTES) uint8 stack."""
        return hamming(others, self.array)


def stack(hashes) -> np.ndarray:
    """(n, BYTES) uint8 of fingerprints given as bytes, hex strings or Fingerprints."""
    rows = [
        h.bits if isinstance(h, Fingerprint) else bytes.fromhex(h) if isinstance(h, str) else bytes(h) for h in hashes
    ]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), BYTES)


def fingerprint_luma(luma: np.ndarray) -> Fingerprint:
    """Fingerprint an 8-bit luma plane (a video frame's Y plane, any size)."""
    return _fingerprint_small(_small(luma))


def _small(luma: np.ndarray) -> np.ndarray:
    """The plane resized to 64 x 64, in float: rounding to whole levels first flips bits
    of smooth pictures."""
    gray = Image.fromarray(np.ascontiguousarray(luma)).convert("F")
    return np.asarray(gray.resize((64, 64), Image.BILINEAR), dtype=np.float64)


def _fingerprint_small(small: np.ndarray) -> Fingerprint:
    # PDQ's quality metric: summed absolute gradients, in percent of full scale.
    grad = np.abs(np.diff(small, axis=0)).astype(np.int64) * 100 // 255
    grad_sum = int(grad.sum()) + int((np.abs(np.diff(small, axis=1)) * 100 // 255).sum())
    quality = min(grad_sum // 90, 100)
    coeffs = _DCT @ small @ _DCT.T
    bits = (coeffs > np.median(coeffs)).ravel()
    return Fingerprint(np.packbits(bits).tobytes(), quality)


# Crops re-posters make most (centre crops, square and 9:16 re-frames) change the
# picture's framing, which a global fingerprint does not survive. Signing stores the
# fingerprints of these centre windows too, so such a copy still matches one of them
# when its watermark is gone. Window: (share of width, share of height) or an aspect.
CROP_VARIANTS = {"centre-70": 0.7, "centre-50": 0.5, "square": "1:1", "portrait-9x16": "9:16"}


def _window(width: int, height: int, spec) -> tuple[int, int, int, int]:
    if isinstance(spec, float):
        w, h = round(width * spec), round(height * spec)
    else:
        aw, ah = (int(x) for x in spec.split(":"))
        w, h = (width, round(width * ah / aw)) if width * ah <= height * aw else (round(height * aw / ah), height)
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def crop_variants(luma: np.ndarray) -> dict[str, Fingerprint]:
    """Fingerprints of the CROP_VARIANTS windows of an 8-bit luma plane (windows that
    would be the whole picture, e.g. a square crop of a square photo, are left out)."""
    height, width = luma.shape
    out = {}
    for name, spec in CROP_VARIANTS.items():
        left, top, right, bottom = _window(width, height, spec)
        if (right - left, bottom - top) != (width, height):
            out[name] = fingerprint_luma(luma[top:bottom, left:right])
    return out


def orientations(luma: np.ndarray) -> list[Fingerprint]:
    """Fingerprints of the 8 mirror / quarter-turn versions of a picture: a query for a
    copy that was flipped or rotated looks for all of them.

    The picture is resized once: resizing each axis on its own commutes with mirroring
    and quarter turns, so the versions are turned at 64 x 64."""
    small = _small(luma)
    out = []
    for mirrored in (False, True):
        plane = small[:, ::-1] if mirrored else small
        for turns in range(4):
            out.append(_fingerprint_small(np.ascontiguousarray(np.rot90(plane, turns))))
    return out
