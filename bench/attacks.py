"""What platforms and re-uploaders do to a photo, as functions RGB uint8 -> RGB uint8.

Used by the robustness benchmark and by tests, so both attack the same way."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode as JPEG with 4:2:0 chroma subsampling, as every platform does."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality, subsampling="4:2:0")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def scale(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def crop_side(rgb: np.ndarray, fraction: float) -> np.ndarray:
    """Cut `fraction` of the width off the right-hand side."""
    w = rgb.shape[1]
    return np.ascontiguousarray(rgb[:, : w - round(w * fraction)])


def replace_quarter(rgb: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Paste another picture over the top-left quarter of the area."""
    h, w = rgb.shape[:2]
    out = rgb.copy()
    patch = np.asarray(Image.fromarray(other).resize((w // 2, h // 2), Image.LANCZOS))
    out[: h // 2, : w // 2] = patch
    return out


PHOTO_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda x: x,
    "jpeg_q90": lambda x: jpeg(x, 90),
    "jpeg_q75": lambda x: jpeg(x, 75),
    "scale_50": lambda x: scale(x, 0.5),
    "scale_25": lambda x: scale(x, 0.25),
    "upscale_150": lambda x: scale(x, 1.5),
    "crop_10": lambda x: crop_side(x, 0.10),
    "scale_50_jpeg_q75": lambda x: jpeg(scale(x, 0.5), 75),
}


# --- videos -----------------------------------------------------------------------------
# Clips are written with PyAV: the same FFmpeg libraries a platform's transcoder uses.


def _video_frames(path, start: float = 0.0, end: float | None = None):
    """(time, RGB frame) pairs of a clip within [start, end)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first = None
        for frame in container.decode(stream):
            t = frame.time or 0.0
            first = t if first is None else first
            t -= first
            if t < start - 1e-6:
                continue
            if end is not None and t >= end - 1e-6:
                break
            yield t, frame.to_ndarray(format="rgb24")


def write_clip(frames, dst, fps, *, crf: int = 28, codec: str = "libx264", size: tuple[int, int] | None = None, preset: str = "veryfast") -> None:
    """Encode RGB frames (an iterable) as a new clip, as a platform's transcoder would."""
    import av
    from fractions import Fraction

    fmt = "webm" if str(dst).endswith(".webm") else "mp4"
    with av.open(str(dst), "w", format=fmt) as out:
        stream = None
        for i, rgb in enumerate(frames):
            if size is not None and (rgb.shape[1], rgb.shape[0]) != size:
                rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
            if stream is None:
                stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
                options = {"crf": str(crf)}
                if codec == "libx264":
                    options["preset"] = preset
                else:  # libvpx-vp9: constant quality needs b:v 0; realtime speed keeps tests fast
                    options.update({"b": "0", "deadline": "realtime", "cpu-used": "8"})
                stream.codec_context.options = options
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, 1) / Fraction(fps).limit_denominator(1001)
            for packet in stream.encode(frame):
                out.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                out.mux(packet)


def clip_rate(path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.streams.video[0].average_rate)


def reencode(src, dst, *, height: int | None = None, crf: int = 28) -> None:
    """A platform re-encode: optionally downscaled to `height` lines, H.264 at `crf`."""
    frames = (rgb for _, rgb in _video_frames(src))
    size = None
    if height is not None:
        with __import__("av").open(str(src)) as c:
            s = c.streams.video[0]
            size = (round(s.width * height / s.height / 2) * 2, height)
    write_clip(frames, dst, clip_rate(src), crf=crf, size=size)


def trim(src, dst, start: float, end: float, *, crf: int = 23) -> None:
    """A piece of a clip, [start, end) seconds, re-encoded."""
    write_clip((rgb for _, rgb in _video_frames(src, start, end)), dst, clip_rate(src), crf=crf)


def splice(parts, dst, *, crf: int = 23) -> None:
    """Concatenate (path, start, end) pieces, each scaled to the first piece's frame size."""
    import av

    with av.open(str(parts[0][0])) as c:
        size = (c.streams.video[0].width, c.streams.video[0].height)
    frames = (rgb for path, start, end in parts for _, rgb in _video_frames(path, start, end))
    write_clip(frames, dst, clip_rate(parts[0][0]), crf=crf, size=size)
