"""The publishing side: `sign` an official photo."""

from .photo import SignResult, sign

__all__ = ["SignResult", "sign"]
