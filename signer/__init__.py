"""The publishing side: `sign` an official photo, `sign_video` an official video."""

from .photo import SignResult, sign
from .video import EncoderSettings, VideoSignResult, sign_video

__all__ = ["EncoderSettings", "SignResult", "VideoSignResult", "sign", "sign_video"]
