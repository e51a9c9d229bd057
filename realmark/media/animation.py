"""Animated GIF, WebP and AVIF: fandom's clips. They are verified as clips: their frames, at
their own times, are written losslessly (FFV1 in Matroska) to a private temporary file
that the clip verifier reads like any other. A still GIF is a photo.

Pillow decodes both (FFmpeg reads GIF but not animated WebP), compositing each frame
over the last as the file says. Limits keep a hostile file from costing more than a
long clip: MAX_FRAMES frames, MAX_FRAME_PIXELS each, MAX_TOTAL_PIXELS in all."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageSequence

from realmark.errors import BadInput

from .image import DECODE_ERRORS

MAX_FRAMES = 3000  # two minutes at 25 frames a second: past this it is a video; upload that
MAX_FRAME_PIXELS = 3840 * 2160
MAX_TOTAL_PIXELS = 1_500_000_000  # e.g. 720 frames of 1080p: a minute's clip to verify
# Browsers show a frame delay under 20 ms (or none) as 100 ms; so does this.
SHORTEST_DELAY_MS, DEFAULT_DELAY_MS = 20, 100
_FORMATS = {"gif": "GIF", "webp": "WEBP", "avif": "AVIF"}


def frame_count(data: bytes, container: str) -> int:
    """How many frames a GIF, WebP or AVIF holds (1 for a still one, 0 for other formats)."""
    if container not in _FORMATS:
        return 0
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[container]]) as im:
            return int(getattr(im, "n_frames", 1))
    except Image.DecompressionBombError:
        raise BadInput("the picture has too many pixels (possible decompression bomb)") from None
    except DECODE_ERRORS as exc:
        raise BadInput(f"the {container.upper()} file is damaged or truncated ({exc})") from None


@contextmanager
def as_clip(data: bytes, container: str) -> Iterator[Path]:
    """The animation as a lossless clip in a private temporary file, removed afterwards;
    BadInput for a damaged file or one past the limits."""
    folder = Path(tempfile.mkdtemp(prefix="realmark-"))
    try:
        path = folder / "animation.mkv"
        _write(data, container, path)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(data: bytes, container: str, path: Path) -> None:
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[container]]) as im:
            width, height = im.size
            frames = int(getattr(im, "n_frames", 1))
            if frames > MAX_FRAMES:
                raise BadInput(f"the animation has {frames} frames; the limit is {MAX_FRAMES}: upload it as a video")
            if width * height > MAX_FRAME_PIXELS:
                raise BadInput(f"the animation is {width}x{height}; the limit is {MAX_FRAME_PIXELS} pixels a frame")
            if width * height * frames > MAX_TOTAL_PIXELS:
                raise BadInput(f"the animation is too long for its size ({frames} frames of {width}x{height})")
            with av.open(str(path), "w", format="matroska") as out:
                stream = out.add_stream("ffv1", rate=1000)
                # Even sides for 4:2:0; the lost column or row is the picture's edge.
                stream.width, stream.height = width - width % 2, height - height % 2
                stream.pix_fmt = "yuv420p"
                stream.time_base = Fraction(1, 1000)
                stream.codec_context.time_base = Fraction(1, 1000)
                at_ms = 0
                for frame in ImageSequence.Iterator(im):
                    rgb = np.asarray(frame.convert("RGB"))[: stream.height, : stream.width]
                    delay = frame.info.get("duration") or DEFAULT_DELAY_MS  # WebP sets it on loading
                    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                    picture.pts, picture.time_base = at_ms, Fraction(1, 1000)
                    out.mux(stream.encode(picture))
                    at_ms += int(delay) if delay >= SHORTEST_DELAY_MS else DEFAULT_DELAY_MS
                out.mux(stream.encode(None))
    except BadInput:
        raise
    except Image.DecompressionBombError:
        raise BadInput("the animation has too many pixels (possible decompression bomb)") from None
    except DECODE_ERRORS as exc:
        raise BadInput(f"the {container.upper()} file is damaged or truncated ({exc})") from None
