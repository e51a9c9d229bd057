"""Real photos for tests and benchmarks: scikit-image ships them inside its wheel."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

# Colour photographs of real scenes (skimage.data), largest first.
REAL = [
    "hubble_deep_field",
    "rocket",
    "astronaut",
    "coffee",
    "chelsea",
    "immunohistochemistry",
    "retina",
    "motorcycle_left",
    "motorcycle_right",
]


@cache
def real(name: str) -> np.ndarray:
    import skimage.data
    from skimage import io as skio

    loader = getattr(skimage.data, name, None)
    if loader is not None:
        img = loader()
    else:  # stereo pair files have no loader function
        from pathlib import Path

        img = skio.imread(Path(skimage.data.__file__).parent / f"{name}.png")
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3].astype(np.uint8))


def fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize and centre-crop to exactly width x height (how a 1080p test photo is made)."""
    im = Image.fromarray(rgb)
    s = max(width / im.width, height / im.height)
    im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    left, top = (im.width - width) // 2, (im.height - height) // 2
    return np.asarray(im.crop((left, top, left + width, top + height)))


def hd(name: str) -> np.ndarray:
    return fit(real(name), 1920, 1080)


def encode(rgb: np.ndarray, fmt: str = "JPEG", **options) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        options.setdefault("quality", 92)
    Image.fromarray(rgb).save(buf, fmt, **options)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def bunny_frame(seconds: float) -> np.ndarray:
    """A frame of Big Buck Bunny (1280x720), as RGB."""
    import av

    from bench.samples import videos

    with av.open(str(videos.real(videos.BUNNY))) as container:
        for frame in container.decode(video=0):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"the clip is shorter than {seconds} s")


def robustness_set(short_side: int = 1080) -> list[tuple[str, np.ndarray]]:
    """The robustness benchmark's photos, all over 1 MP: every real photo framed as a
    16:9 landscape and as a 4:5 portrait (the feed format), plus four animation frames
    at 16:9; `short_side` is what they are published at: 1080 (1920x1080 and
    1080x1350), or 2160 for 4K (3840x2160 and 2160x2700)."""
    wide, tall = (short_side * 16 // 9, short_side), (short_side, short_side * 5 // 4)
    out = [(f"{name} 16:9", fit(real(name), *wide)) for name in REAL]
    out += [(f"{name} 4:5", fit(real(name), *tall)) for name in REAL]
    out += [(f"bunny {t:.0f}s 16:9", fit(bunny_frame(t), *wide)) for t in (0.5, 2.0, 3.5, 5.0)]
    return out


def group_photo() -> np.ndarray:
    """A 1920x1080 "group photo": three people side by side (the astronaut portrait,
    mirrored and re-lit for the others) on the coffee photo's colours."""
    person = fit(real("astronaut"), 640, 1080)
    people = [
        person,
        np.ascontiguousarray(person[:, ::-1]),
        np.clip(person.astype(np.int16) * 9 // 10 + 12, 0, 255).astype(np.uint8),
    ]
    return np.ascontiguousarray(np.concatenate(people, axis=1))


# Where the middle member's face is in group_photo(): (left, top, width, height).
GROUP_FACE = (930, 90, 200, 240)


def swap_face(rgb: np.ndarray, box: tuple[int, int, int, int], donor: np.ndarray) -> np.ndarray:
    """A face-swap fake: the donor face blended into box through a feathered ellipse,
    colour-matched to the face it replaces (as face-swap tools do)."""
    left, top, w, h = box
    face = np.asarray(Image.fromarray(donor).resize((w, h), Image.LANCZOS), dtype=np.float32)
    target = rgb[top : top + h, left : left + w].astype(np.float32)
    face = (face - face.mean(axis=(0, 1))) / (face.std(axis=(0, 1)) + 1e-6) * target.std(axis=(0, 1)) + target.mean(
        axis=(0, 1)
    )
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2)
    alpha = np.clip((1.0 - r) / 0.25, 0, 1)[..., None]  # feathered edge
    out = rgb.copy()
    out[top : top + h, left : left + w] = np.clip(alpha * face + (1 - alpha) * target, 0, 255).astype(np.uint8)
    return out


def donor_face() -> np.ndarray:
    """A face from another photo: the cameraman's head in scikit-image's camera.png."""
    return real("camera")[65:200, 165:262]
