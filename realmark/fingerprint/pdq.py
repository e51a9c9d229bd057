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
MATCH_DISTANCE = 31  # PDQ's own threshold for "the same picture"


def _dct_matrix() -> np.ndarray:
    i = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return np.sqrt(2.0 / 64) * np.cos(np.pi / 128 * i * (2 * j + 1))


_DCT = _dct_matrix()  # (16, 64)


@dataclass(frozen=True)
class Fingerprint:
    bits: bytes  # 32 bytes
    quality: int  # 0..100, PDQ's gradient-based confidence

    @property
    def hex(self) -> str:
        return self.bits.hex()

    @classmethod
    def from_hex(cls, value: str, quality: int) -> "Fingerprint":
        return cls(bytes.fromhex(value), quality)

    def distance(self, other: "Fingerprint") -> int:
        """Hamming distance, 0..256."""
        return (int.from_bytes(self.bits, "big") ^ int.from_bytes(other.bits, "big")).bit_count()


def fingerprint(rgb: np.ndarray) -> Fingerprint:
    """Fingerprint an RGB uint8 image (any size)."""
    return fingerprint_luma(np.asarray(Image.fromarray(rgb).convert("L")))


def fingerprint_luma(luma: np.ndarray) -> Fingerprint:
    """Fingerprint an 8-bit luma plane (a video frame's Y plane, any size)."""
    # Resized in float: rounding to whole levels first flips bits of smooth pictures.
    gray = Image.fromarray(np.ascontiguousarray(luma)).convert("F")
    small = np.asarray(gray.resize((64, 64), Image.BILINEAR), dtype=np.float64)
    # PDQ's quality metric: summed absolute gradients, in percent of full scale.
    grad = np.abs(np.diff(small, axis=0)).astype(np.int64) * 100 // 255
    grad_sum = int(grad.sum()) + int((np.abs(np.diff(small, axis=1)) * 100 // 255).sum())
    quality = min(grad_sum // 90, 100)
    coeffs = _DCT @ small @ _DCT.T
    bits = (coeffs > np.median(coeffs)).ravel()
    return Fingerprint(np.packbits(bits).tobytes(), quality)
