"""Perceptual fingerprints: similar-looking pictures get nearby hashes."""

from .pdq import ALG, MATCH_DISTANCE, Fingerprint, fingerprint, fingerprint_luma

__all__ = ["ALG", "MATCH_DISTANCE", "Fingerprint", "fingerprint", "fingerprint_luma"]
