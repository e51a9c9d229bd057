"""Perceptual fingerprints: similar-looking pictures get nearby hashes."""

from .pdq import ALG, CROP_VARIANTS, MATCH_DISTANCE, Fingerprint, crop_variants, fingerprint, fingerprint_luma, orientations

__all__ = ["ALG", "CROP_VARIANTS", "MATCH_DISTANCE", "Fingerprint", "crop_variants", "fingerprint", "fingerprint_luma", "orientations"]
