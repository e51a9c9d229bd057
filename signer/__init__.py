"""The publishing side: `Signer(store, key, index).sign(source, output, title=, artists=)`
(or `sign(...)` for one call) watermarks and signs an official photo or clip."""

from .common import SignResult
from .parallel import InThisProcess, ProcessPool, SegmentSigners
from .segments import EncoderSettings
from .sign import Signer, sign

__all__ = ["EncoderSettings", "InThisProcess", "ProcessPool", "SegmentSigners", "SignResult", "Signer", "sign"]
