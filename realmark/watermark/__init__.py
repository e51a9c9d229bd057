"""Invisible watermark carrying a 48-bit id: `embed` and `extract`."""

from .codec import CODEC, VERSION, Reading, embed
from .reader import extract

__all__ = ["CODEC", "VERSION", "Reading", "embed", "extract"]
