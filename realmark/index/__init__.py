"""The appearance index: signed assets found by fingerprint when no watermark is left."""

from .catalogue import entries_for, open_index, sync
from .index import FingerprintIndex, Match

__all__ = ["FingerprintIndex", "Match", "entries_for", "open_index", "sync"]
