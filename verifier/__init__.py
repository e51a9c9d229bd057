"""The checking side: `verify` a photo or `verify_video` a clip; get one `Verification`."""

from .photo import verify
from .result import Verdict, Verification
from .video import verify_video

__all__ = ["Verdict", "Verification", "verify", "verify_video"]
