"""A copy that is the published picture pixel for pixel, in another file.

Uploads are often the official file with its metadata stripped or changed: a platform or
an app that removes EXIF, a comment, an XMP packet or a C2PA manifest without decoding
the picture. The bytes differ, so the published file's record does not know them, but
the decoded picture is the signed one exactly: nothing in it can have been edited, and
the maps and the comparison with the published file (about 150 ms at 1080p) would only
confirm it. Pixels are compared by digest; each published picture's digest is worked out
once per process (a fetch and a decode) and kept."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from realmark.errors import BadInput
from realmark.manifest import Manifest
from realmark.media.image import load_photo
from realmark.store import Records

# A digest is 32 bytes: the official pictures a viral moment brings back again and again
# fit many times over.
DIGESTS_KEPT = 4096


def pixels_digest(rgb: np.ndarray) -> bytes:
    """SHA-256 of a picture's size and pixels (about 5 ms at 1080p)."""
    h = hashlib.sha256(np.asarray(rgb.shape, np.int64).tobytes())
    h.update(np.ascontiguousarray(rgb).data)
    return h.digest()


class PublishedPixels:
    """Whether a picture is a published one's pixels exactly (photo manifests only)."""

    def __init__(self, records: Records):
        self._records = records
        self._digests: OrderedDict[str, bytes | None] = OrderedDict()
        self._lock = threading.Lock()

    def same(self, rgb: np.ndarray, manifest: Manifest) -> bool:
        if rgb.shape[:2] != (manifest.media.height, manifest.media.width):
            return False
        published = self._digest(manifest)
        return published is not None and published == pixels_digest(rgb)

    def _digest(self, manifest: Manifest) -> bytes | None:
        sha256 = manifest.media.sha256
        with self._lock:
            if sha256 in self._digests:
                self._digests.move_to_end(sha256)
                return self._digests[sha256]
        data = self._records.published_bytes(manifest.manifest_id, sha256)
        if data is None:  # removed from the store: not kept, it may come back
            return None
        try:
            digest = pixels_digest(load_photo(data).rgb)
        except BadInput:  # a published file this build cannot decode: never the same
            digest = None
        with self._lock:
            self._digests[sha256] = digest
            while len(self._digests) > DIGESTS_KEPT:
                self._digests.popitem(last=False)
        return digest
