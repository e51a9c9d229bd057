"""The publishing side: `Signer(store, key, index).sign(source, output, title=, artists=)`
(or `sign(...)` for one call) watermarks and signs an official photo or clip."""

from .common import SignResult
from .sign import Signer, sign
from .video import EncoderSettings

__all__ = ["EncoderSettings", "SignResult", "Signer", "sign"]
