"""Invisible watermark carrying a 48-bit id: `embed` and `extract`."""

from realmark import allocator

from .codec import CODEC, VERSION, Reading, embed
from .reader import extract

# Reading a mark churns through large numpy buffers; the process keeps them (see allocator).
allocator.keep_buffers()

__all__ = ["CODEC", "VERSION", "Reading", "embed", "extract"]
