"""The appearance index: signed assets found by fingerprint when no watermark is left."""

from .catalogue import entries_for, open_index, sound_for, sync
from .index import FingerprintIndex, Match
from .sound import SoundMatch

__all__ = ["FingerprintIndex", "Match", "SoundMatch", "entries_for", "open_index", "sound_for", "sync"]
