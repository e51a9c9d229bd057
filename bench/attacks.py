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
