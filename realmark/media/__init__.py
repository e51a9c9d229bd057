"""Reading and writing media files safely: which format a file is (formats.py), photos
(image.py), clips (video.py), animated GIF and WebP as clips (animation.py), and any
source opened one way (source.py)."""

import hashlib
from pathlib import Path

from .formats import Kind, Media, detect

__all__ = ["Kind", "Media", "detect", "sha256_file"]


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (videos may be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
