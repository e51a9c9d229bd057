"""The checking side: `verify` a photo found anywhere; get one typed `Verification`."""

from .result import Verdict, Verification
from .photo import verify

__all__ = ["Verdict", "Verification", "verify"]
