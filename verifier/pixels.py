"""A copy that is the published picture pixel for pixel, in another file.

Uploads are often the official file with its metadata stripped or changed: a platform or
an app that removes EXIF, a comment, an XMP packet or a C2PA manifest without decoding
the picture. The bytes differ, so the published file's record does not know them, but
the decoded picture is the signed one exactly: nothing in it can have been edited, and
the maps and the comparison with the published file (about 150 ms at 1080p) would only
confirm it. Pixels are compared by digest; each published picture's digest is worked out
once per process (a fetch and a decode) and kept, with a sparse sample of its pixels that
turns away a re-encoded copy before its digest is taken. A transparent picture, or one
under another colour profile, shows other colours than its pixels say: never the same."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from realmark.errors import BadInput, StoreError
from realmark.manifest import Manifest
from realmark.media.image import Photo, load_photo
from realmark.store import Records

# A published picture is remembered by its digest (32 bytes) and SAMPLE x SAMPLE pixels
# spread evenly over it (7 KB whatever its size: 7 MB for all those kept). The official
# pictures a viral moment brings back fit many times over.
DIGESTS_KEPT = 1024
SAMPLE = 48


def _sample(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    rows = np.linspace(0, h - 1, SAMPLE).astype(int)
    cols = np.linspace(0, w - 1, SAMPLE).astype(int)
    return rgb[np.ix_(rows, cols)]


def pixels_digest(photo: Photo) -> bytes:
    """SHA-256 of a picture's size, pixels and colour profile (about 5 ms at 1080p): the
    same pixels under another profile are other colours."""
    h = hashlib.sha256(np.asarray(photo.rgb.shape, np.int64).tobytes())
    h.update(np.ascontiguousarray(photo.rgb).data)
    h.update(photo.icc_profile or b"")
    return h.digest()


def _opaque(photo: Photo) -> bool:
    """Without transparency: pixels that show through would make it another picture."""
    return photo.alpha is None or bool(photo.alpha.min() == 255)


class PublishedPixels:
    """Whether a photo, as uploaded (not mirrored or turned), is a published photo's
    pixels exactly."""

    def __init__(self, records: Records):
        self._records = records
        self._known: OrderedDict[str, tuple[np.ndarray, bytes] | None] = OrderedDict()
        self._lock = threading.Lock()

    def same(self, photo: Photo, manifest: Manifest) -> bool:
        if manifest.media.is_video:  # a frame grab: its published file is a whole clip, not fetched
            return False
        if photo.rgb.shape[:2] != (manifest.media.height, manifest.media.width) or not _opaque(photo):
            return False
        known = self._published(manifest)
        if known is None or not np.array_equal(_sample(photo.rgb), known[0]):
            return False
        return pixels_digest(photo) == known[1]

    def _published(self, manifest: Manifest) -> tuple[np.ndarray, bytes] | None:
        sha256 = manifest.media.sha256
        with self._lock:
            if sha256 in self._known:
                self._known.move_to_end(sha256)
                return self._known[sha256]
        try:
            data = self._records.published_bytes(manifest.manifest_id, sha256)
        except StoreError:  # the store is unwell: the usual comparison decides
            return None
        if data is None:  # removed from the store: not kept, it may come back
            return None
        try:
            published = load_photo(data)
            known = (_sample(published.rgb), pixels_digest(published)) if _opaque(published) else None
        except BadInput:  # a published file this build cannot decode: never the same
            known = None
        with self._lock:
            self._known[sha256] = known
            while len(self._known) > DIGESTS_KEPT:
                self._known.popitem(last=False)
        return known
