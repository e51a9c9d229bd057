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


def long_side(rgb: np.ndarray, pixels: int) -> np.ndarray:
    """Resize so the long side is `pixels` (what platforms do to uploads)."""
    return scale(rgb, pixels / max(rgb.shape[:2]))


def crop_bottom(rgb: np.ndarray, fraction: float) -> np.ndarray:
    """Cut `fraction` of the height off the bottom: for a landscape picture this shortens
    the short side, so the mark's scale changes (harder than a side crop)."""
    h = rgb.shape[0]
    return np.ascontiguousarray(rgb[: h - round(h * fraction)])


def centre_crop(rgb: np.ndarray, fraction: float) -> np.ndarray:
    """Keep the centre `fraction` of each side."""
    h, w = rgb.shape[:2]
    ch, cw = round(h * fraction), round(w * fraction)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np.ascontiguousarray(rgb[top : top + ch, left : left + cw])


def reframe_9_16(rgb: np.ndarray, height: int = 1920) -> np.ndarray:
    """A Shorts / Reels / TikTok re-frame: the centre 9:16 window, resized to 1080x1920."""
    h, w = rgb.shape[:2]
    if w * 16 > h * 9:  # too wide: keep full height
        cw, ch = round(h * 9 / 16), h
    else:
        cw, ch = w, round(w * 16 / 9)
    top, left = (h - ch) // 2, (w - cw) // 2
    window = Image.fromarray(rgb[top : top + ch, left : left + cw])
    return np.asarray(window.resize((round(height * 9 / 16), height), Image.LANCZOS))


def pad_square(rgb: np.ndarray) -> np.ndarray:
    """Letterbox: the picture centred on a black square canvas."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    out = np.zeros((side, side, 3), np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = rgb
    return out


def hflip(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


def enhance(rgb: np.ndarray, kind: str, factor: float) -> np.ndarray:
    """Pillow's photo-app adjustments: Brightness, Contrast or Color (saturation)."""
    from PIL import ImageEnhance

    return np.asarray(getattr(ImageEnhance, kind)(Image.fromarray(rgb)).enhance(factor))


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)  # Pillow's bundled font: no system fonts needed


def caption(rgb: np.ndarray, area: float = 0.10) -> np.ndarray:
    """A sticker-style caption box with text covering `area` of the picture, lower third."""
    from PIL import ImageDraw

    im = Image.fromarray(rgb).copy()
    w, h = im.size
    box_w = round(w * 0.8)
    box_h = round(w * h * area / box_w)
    left, top = (w - box_w) // 2, round(h * 0.7) - box_h // 2
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle((left, top, left + box_w, top + box_h), radius=box_h // 4, fill=(250, 220, 40))
    draw.text(
        (left + box_h // 4, top + box_h // 6),
        "OMG new teaser!! 🔥 #comeback",
        fill=(20, 20, 20),
        font=_font(max(10, box_h // 2)),
    )
    return np.asarray(im)


def screenshot(rgb: np.ndarray, width: int = 1080) -> np.ndarray:
    """A phone screenshot: the picture rescaled to the screen width, a status bar with
    clock and icons on top, a navigation bar below, saved as PNG."""
    from PIL import ImageDraw

    h, w = rgb.shape[:2]
    shown = Image.fromarray(rgb).resize((width, round(h * width / w)), Image.BILINEAR)
    status, nav = round(width * 0.067), round(width * 0.117)
    shot = Image.new("RGB", (width, status + shown.height + nav), (18, 18, 18))
    shot.paste(shown, (0, status))
    draw = ImageDraw.Draw(shot)
    draw.text((round(width * 0.05), status // 5), "9:41", fill=(240, 240, 240), font=_font(status // 2))
    for i in range(3):  # signal, wifi, battery
        x = width - round(width * (0.08 + 0.06 * i))
        draw.rectangle((x, status // 3, x + status // 3, status * 2 // 3), fill=(240, 240, 240))
    y = status + shown.height + nav // 2
    for x in (0.25, 0.5, 0.75):  # back, home, recents
        cx = round(width * x)
        draw.ellipse((cx - nav // 6, y - nav // 6, cx + nav // 6, y + nav // 6), outline=(200, 200, 200), width=3)
    buf = io.BytesIO()
    shot.save(buf, "PNG")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


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

# The robustness suite (issue 5): attack -> (function, target class). Target classes and
# their required recovery rates are in TARGETS; None = measured, no target set.
TARGETS = {"platform": 0.99, "geometry": 0.95, "reframe": 0.80}
ROBUSTNESS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str | None]] = {
    "jpeg_q50": (lambda x: jpeg(x, 50), "platform"),
    "jpeg_q70": (lambda x: jpeg(x, 70), "platform"),
    "jpeg_q85": (lambda x: jpeg(x, 85), "platform"),
    "long_side_1080": (lambda x: long_side(x, 1080), "platform"),
    "long_side_720": (lambda x: long_side(x, 720), "platform"),
    "long_side_480": (lambda x: long_side(x, 480), "platform"),
    "upscale_x1.5": (lambda x: scale(x, 1.5), "platform"),
    "crop_10_right": (lambda x: crop_side(x, 0.10), "geometry"),
    "crop_10_bottom": (lambda x: crop_bottom(x, 0.10), "geometry"),
    "centre_crop_80": (lambda x: centre_crop(x, 0.80), None),
    "reframe_9_16": (reframe_9_16, "reframe"),
    "pad_square": (pad_square, "platform"),
    "hflip": (hflip, "geometry"),
    "brightness_+25": (lambda x: enhance(x, "Brightness", 1.25), "platform"),
    "brightness_-25": (lambda x: enhance(x, "Brightness", 0.75), "platform"),
    "contrast_+30": (lambda x: enhance(x, "Contrast", 1.3), "platform"),
    "contrast_-30": (lambda x: enhance(x, "Contrast", 0.7), "platform"),
    "saturation_x1.5": (lambda x: enhance(x, "Color", 1.5), "platform"),
    "saturation_x0.5": (lambda x: enhance(x, "Color", 0.5), "platform"),
    "caption_10": (caption, "platform"),
    "screenshot": (screenshot, "platform"),
    "chain_720p_q75_crop5": (lambda x: crop_bottom(jpeg(scale(x, 720 / min(x.shape[:2])), 75), 0.05), "geometry"),
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


def write_clip(
    frames,
    dst,
    fps,
    *,
    crf: int = 28,
    codec: str = "libx264",
    size: tuple[int, int] | None = None,
    preset: str = "veryfast",
) -> None:
    """Encode RGB frames (an iterable) as a new clip, as a platform's transcoder would."""
    from fractions import Fraction

    import av

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


def transform(
    src,
    dst,
    *,
    picture: Callable[[np.ndarray], np.ndarray] | None = None,
    fps: float | None = None,
    crf: int = 23,
    codec: str = "libx264",
    start: float = 0.0,
    end: float | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """A re-upload of a clip: [start, end) seconds, each picture passed through `picture`,
    the frame rate changed to `fps` (frames dropped or repeated by time, as FFmpeg's fps
    filter does), re-encoded with `codec` at `crf`."""
    rate = clip_rate(src)
    out_fps = fps or rate

    def frames():
        k = 0  # next output frame
        for t, rgb in _video_frames(src, start, end):
            rgb = picture(rgb) if picture else rgb
            while k / out_fps < (t - start) + 0.5 / rate + 1e-6:  # output frames this input frame covers
                if (k / out_fps) >= (t - start) - 0.5 / rate - 1e-6:
                    yield rgb
                k += 1

    write_clip(frames(), dst, out_fps, crf=crf, codec=codec, size=size)


def burn_caption(rgb: np.ndarray) -> np.ndarray:
    """Burnt-in subtitles: white text on a dark box across the bottom of the picture."""
    from PIL import ImageDraw

    im = Image.fromarray(rgb).copy()
    w, h = im.size
    box_h = round(h * 0.12)
    draw = ImageDraw.Draw(im)
    draw.rectangle(
        (round(w * 0.1), h - box_h - round(h * 0.05), round(w * 0.9), h - round(h * 0.05)), fill=(10, 10, 10)
    )
    draw.text(
        (round(w * 0.13), h - box_h - round(h * 0.03)),
        "[ENG SUB] the teaser everyone is talking about",
        fill=(255, 255, 255),
        font=_font(box_h // 2),
    )
    return np.asarray(im)


def _reframe_video(rgb: np.ndarray) -> np.ndarray:
    return reframe_9_16(rgb, height=1280)


def _height(src, height: int) -> tuple[int, int]:
    import av

    with av.open(str(src)) as c:
        s = c.streams.video[0]
        return (round(s.width * height / s.height / 2) * 2, height)


# Video robustness suite (issue 5): name -> (function(src, dst), target class).
VIDEO_ROBUSTNESS: dict[str, tuple[Callable, str | None]] = {
    "h264_crf23": (lambda s, d: transform(s, d, crf=23), "platform"),
    "h264_crf28": (lambda s, d: transform(s, d, crf=28), "platform"),
    "h264_crf32": (lambda s, d: transform(s, d, crf=32), "platform"),
    "720p_crf28": (lambda s, d: transform(s, d, crf=28, size=_height(s, 720)), "platform"),
    "480p_crf28": (lambda s, d: transform(s, d, crf=28, size=_height(s, 480)), "platform"),
    "30_to_25fps": (lambda s, d: transform(s, d, fps=25), "platform"),
    "vp9_webm": (lambda s, d: transform(s, d, codec="libvpx-vp9", crf=34), "platform"),
    "reframe_9_16": (lambda s, d: transform(s, d, picture=_reframe_video), "reframe"),
    "hflip": (lambda s, d: transform(s, d, picture=hflip), "geometry"),
    "burnt_captions": (lambda s, d: transform(s, d, picture=burn_caption), "platform"),
    "trim_3s": (lambda s, d: transform(s, d, start=1.0, end=4.0), "platform"),
}
VIDEO_SUFFIX = {"vp9_webm": ".webm"}
