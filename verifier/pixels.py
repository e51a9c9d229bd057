"""A copy that is the published picture pixel for pixel, in another file.

Uploads are often the official file with its metadata stripped or changed: a platform or
an app that removes EXIF, a comment, an XMP packet or a C2PA manifest without decoding
the picture. The bytes differ, so the published file's record does not know them, but
the decoded picture is the signed one exactly: nothing in it can have been edited, and
the maps and the comparison with the published file (about 150 ms at 1080p) would only
confirm it. Pixels are compared by digest; each published picture's digest is worked out
once per process (a fetch and a decode) and kept, with a sparse sample of its pixels that
turns away a re-encoded copy before its digest is taken."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from realmark.errors import BadInput
from realmark.manifest import Manifest
from realmark.media.image import load_photo
from realmark.store import Records

# A published picture is remembered by its digest (32 bytes) and every SAMPLE_EVERY-th
# pixel (4 KB at 1080p, 16 KB at 4K: 16 MB at most for all those kept). The official
# pictures a viral moment brings back fit many times over.
DIGESTS_KEPT = 1024
SAMPLE_EVERY = (37, 41)  # rows, columns: primes, so no JPEG block or chroma grid aligns


def _sample(rgb: np.ndarray) -> np.ndarray:
    return rgb[:: SAMPLE_EVERY[0], :: SAMPLE_EVERY[1]].copy()


def pixels_digest(rgb: np.ndarray) -> bytes:
    """SHA-256 of a picture's size and pixels (about 5 ms at 1080p)."""
    h = hashlib.sha256(np.asarray(rgb.shape, np.int64).tobytes())
    h.update(np.ascontiguousarray(rgb).data)
    return h.digest()


class PublishedPixels:
    """Whether a picture is a published one's pixels exactly (photo manifests only)."""

    def __init__(self, records: Records):
        self._records = records
        self._known: OrderedDict[str, tuple[np.ndarray, bytes] | None] = OrderedDict()
        self._lock = threading.Lock()

    def same(self, rgb: np.ndarray, manifest: Manifest) -> bool:
        if rgb.shape[:2] != (manifest.media.height, manifest.media.width):
            return False
        known = self._published(manifest)
        if known is None or not np.array_equal(_sample(rgb), known[0]):
            return False
        return pixels_digest(rgb) == known[1]

    def _published(self, manifest: Manifest) -> tuple[np.ndarray, bytes] | None:
        sha256 = manifest.media.sha256
        with self._lock:
            if sha256 in self._known:
                self._known.move_to_end(sha256)
                return self._known[sha256]
        data = self._records.published_bytes(manifest.manifest_id, sha256)
        if data is None:  # removed from the store: not kept, it may come back
            return None
        try:
            rgb = load_photo(data).rgb
            known = (_sample(rgb), pixels_digest(rgb))
        except BadInput:  # a published file this build cannot decode: never the same
            known = None
        with self._lock:
            self._known[sha256] = known
            while len(self._known) > DIGESTS_KEPT:
                self._known.popitem(last=False)
        return known
