"""Perceptual fingerprints: similar-looking pictures get nearby hashes (pdq.py), where a
photo differs (grid.py), and how a clip sounds (audio.py)."""

from .pdq import (
    ALG,
    BITS,
    BYTES,
    COPY_DISTANCE,
    CROP_VARIANTS,
    MATCH_DISTANCE,
    UNRELATED_DISTANCE,
    Fingerprint,
    crop_variants,
    fingerprint_luma,
    hamming,
    orientations,
    pairwise,
    stack,
)

__all__ = [
    "ALG",
    "BITS",
    "BYTES",
    "COPY_DISTANCE",
    "CROP_VARIANTS",
    "MATCH_DISTANCE",
    "UNRELATED_DISTANCE",
    "Fingerprint",
    "crop_variants",
    "fingerprint_luma",
    "hamming",
    "orientations",
    "pairwise",
    "stack",
]
