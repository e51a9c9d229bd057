"""Photos in and out: sniffed by content, bounded in size, EXIF orientation applied.

Uploads are hostile until proven otherwise, so every limit is checked *before* pixels are
decoded: file size, format (by magic bytes, never by name), and pixel count (the
decompression-bomb check). Truncated files raise instead of being padded with grey."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from realmark.errors import BadInput, UnsupportedMedia

from .formats import FORMATS, Kind, detect

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_PIXELS = 60_000_000  # 60 MP: bigger than any camera output an agency publishes
MAX_ASPECT = 10  # long side / short side; wider strips would blow up the watermark grid
_8BIT_MODES = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "La", "RGBa"}
# container -> Pillow's format name (HEIF's decoder is pillow-heif's, registered on first use)
_PILLOW = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "avif": "AVIF", "heif": "HEIF"}
JPEG_QUALITY = 95  # published photos: high quality, full-resolution chroma

# What Pillow's decoders raise for a damaged or truncated file (libavif's, through Pillow,
# come as RuntimeError).
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, RuntimeError)

# Pillow's own bomb guard warns at 89 MP; ours is stricter and raises.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Photo:
    """A decoded photo: RGB pixels as displayed (orientation applied) plus what is needed
    to write it back in its own format."""

    rgb: np.ndarray  # (height, width, 3) uint8
    format: str  # "JPEG", "PNG", "WEBP" or "GIF"
    alpha: np.ndarray | None = None  # (height, width) uint8, kept as it was
    grayscale: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None  # with the orientation tag reset
    # Drawn from a palette of at most 256 colours (a GIF, an 8-bit PNG): its dithering
    # adds fine grain where the picture was smooth.
    palette: bool = False

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def mime_type(self) -> str:
        return FORMATS[self.format.lower()].mime


def load_photo(data: bytes) -> Photo:
    """Decode a JPEG, PNG or WebP file, or raise BadInput with the reason."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BadInput("expected the bytes of an image file")
    data = bytes(data)
    if len(data) == 0:
        raise BadInput("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"the file is {len(data)} bytes; the limit is {MAX_FILE_BYTES} bytes")
    media = detect(data)
    if media.kind is not Kind.PHOTO:
        raise UnsupportedMedia(f"this is a {media.kind} file, not a photo")
    fmt = _PILLOW[media.container]
    if fmt == "HEIF":
        _register_heif()
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise BadInput(f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS} pixels")
            if min(width, height) == 0 or max(width, height) > MAX_ASPECT * min(width, height):
                raise BadInput(f"the image is {width}x{height}; aspect ratios beyond {MAX_ASPECT}:1 are not supported")
            # A HEIC can hold several pictures (a burst, a depth map): its primary one is the photo.
            if getattr(im, "n_frames", 1) > 1 and fmt != "HEIF":
                raise BadInput("animated images are not supported; sign each frame as a photo or the clip as a video")
            if im.mode not in _8BIT_MODES:
                raise BadInput(
                    f"{im.mode} images (more than 8 bits per channel) are not supported; export an 8-bit file"
                )
            im.load()
            exif = im.getexif()
            # Only a turned or mirrored photo is transposed; an upright one is read where it
            # was decoded (exif_transpose would copy its pixels for nothing).
            oriented = ImageOps.exif_transpose(im) if exif.get(0x0112, 1) in _TRANSPOSED else im
            icc = im.info.get("icc_profile")
            alpha, rgb = _pixels(oriented)
            grayscale = oriented.mode in ("L", "LA", "I", "I;16", "F", "1")
            palette = oriented.mode in ("P", "PA")
    except BadInput:
        raise
    except Image.DecompressionBombError:
        raise BadInput(f"the image has more than {MAX_PIXELS} pixels (possible decompression bomb)") from None
    except DECODE_ERRORS as exc:
        raise BadInput(f"the {fmt} file is damaged or truncated ({exc})") from None

    if 0x0112 in exif:
        exif[0x0112] = 1  # the pixels are now upright
    return Photo(
        rgb=np.ascontiguousarray(rgb),
        format=fmt,
        alpha=alpha,
        grayscale=grayscale and alpha is None,
        icc_profile=icc,
        exif=exif.tobytes() if len(exif) else None,
        palette=palette,
    )


@cache
def _register_heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


_TRANSPOSED = range(2, 9)  # EXIF orientations that exif_transpose turns or mirrors


def _pixels(im: Image.Image) -> tuple[np.ndarray | None, np.ndarray]:
    """(alpha or None, RGB) of a decoded image (an RGB one is not converted: a copy)."""
    if "A" in im.getbands() or "transparency" in im.info:
        rgba = im.convert("RGBA")
        return np.asarray(rgba)[..., 3].copy(), np.asarray(rgba.convert("RGB"))
    return None, np.asarray(im if im.mode == "RGB" else im.convert("RGB"))


def encode_photo(photo: Photo, rgb: np.ndarray) -> bytes:
    """Write new pixels in the original photo's format, size, colour profile and EXIF."""
    im = Image.fromarray(rgb)
    if photo.grayscale:
        im = im.convert("L")
    if photo.alpha is not None:
        im = im.convert("RGBA")
        im.putalpha(Image.fromarray(photo.alpha))
    options: dict = {}
    if photo.icc_profile:
        options["icc_profile"] = photo.icc_profile
    if photo.exif:
        options["exif"] = photo.exif
    if photo.format == "JPEG":
        options.update(quality=JPEG_QUALITY, subsampling=0, optimize=True)
    elif photo.format == "WEBP":
        options.update(quality=JPEG_QUALITY, method=4)
    buf = io.BytesIO()
    try:
        im.save(buf, photo.format, **options)
    except (ValueError, OSError) as exc:
        raise BadInput(f"cannot write this photo back as {photo.format} with its metadata ({exc})") from None
    return buf.getvalue()


def luma8(rgb: np.ndarray) -> np.ndarray:
    """8-bit BT.601 luma of RGB pixels (the channel fingerprints use)."""
    return np.asarray(Image.fromarray(rgb).convert("L"))
