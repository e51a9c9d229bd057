"""Verify a photo: watermark -> manifest -> signature and trust -> content comparison.

Fails closed: every step that cannot be completed positively leads away from
`authentic`. Only a valid signature by a trusted, unrevoked key over a manifest whose
watermark id matches, *and* content that matches the signed content everywhere, is
authentic."""

from __future__ import annotations

import base64
import hashlib
import io

import numpy as np

from realmark import watermark
from realmark.fingerprint import ALG as FINGERPRINT_ALG
from realmark.fingerprint import Fingerprint, fingerprint_luma
from realmark.fingerprint.grid import MAX_CELL_DIFFERENCE, SIZE, cell_differences, changed_regions, grid
from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.manifest import Manifest
from realmark.media.image import Photo, load_photo, luma8
from realmark.store import Store
from realmark.watermark.codec import orient

from . import appearance
from .credentials import with_credentials
from .manifests import describe, find_manifest, reading_evidence
from .result import Verdict, Verification

# A copy counts as the signed picture when its global fingerprint is this close *and*
# no grid cell differs (see realmark.fingerprint.grid). Measured: re-encodes and resizes
# land at 0-2 of 256 bits, a quarter of the picture replaced at 40-90, unrelated
# pictures near 128. PDQ's looser 31 is for search, not for this.
MAX_COPY_DISTANCE = 20


def verify(data: bytes, *, store: Store, trust: TrustList, index: FingerprintIndex | None = None) -> Verification:
    """Verify the bytes of a photo. Raises BadInput only for unreadable input. With an
    index, a photo without a watermark is also looked up by appearance. Embedded Content
    Credentials are validated and reported beside the verdict."""
    photo = load_photo(data)
    return with_credentials(_verify(photo, data, store, trust, index), photo.mime_type, io.BytesIO(data), trust)


def _verify(photo: Photo, data: bytes, store: Store, trust: TrustList, index: FingerprintIndex | None) -> Verification:
    reading = watermark.extract(photo.rgb)
    evidence = {"watermark": reading_evidence(reading)}
    if reading.wm_id is None and index is not None:
        matched = appearance.photo(luma8(photo.rgb), index, store, trust, evidence)
        if matched is not None:
            return matched
    found = find_manifest(reading, store, trust, evidence)
    if isinstance(found, Verification):
        return found
    if reading.scale != 1.0:
        # The mark says whose picture this is, but the copy is re-framed: cropped (scale
        # above 1: only part of it shows) or set inside a larger picture (below 1: padded,
        # a screenshot). It cannot be compared with the whole: never authentic.
        evidence["content"] = {"exact_match": False, "cropped_to" if reading.scale > 1 else "shown_at": round(1 / reading.scale, 3)}
        how = "cropped or re-framed" if reading.scale > 1 else "padded, screenshotted or placed inside a larger picture"
        return Verification(
            Verdict.ALTERED,
            f"This is {how} from {describe(found)}: the mark is official, but the picture around or beyond it cannot be confirmed unchanged.",
            found.to_dict(),
            evidence,
        )
    # A mirrored or turned re-upload is compared turned back: the picture is the same.
    restored = np.ascontiguousarray(orient(photo.rgb, reading.mirrored, reading.turns))
    return _compare_content(data, restored, found, evidence)


def _compare_content(data: bytes, rgb: np.ndarray, manifest: Manifest, evidence: dict) -> Verification:
    exact = hashlib.sha256(data).hexdigest() == manifest.media.sha256
    content: dict = {"exact_match": exact, "fingerprint_alg": manifest.fingerprint_alg, "max_distance": MAX_COPY_DISTANCE, "fingerprint_distance": None}
    evidence["content"] = content
    what = describe(manifest)
    if exact:
        return Verification(Verdict.AUTHENTIC, f"This is the official file of {what}.", manifest.to_dict(), evidence)
    if manifest.fingerprint_alg != FINGERPRINT_ALG or manifest.fingerprint_grid is None:
        return Verification(Verdict.ALTERED, f"This carries the official mark of {what}, but its content cannot be compared, so it is not confirmed.", manifest.to_dict(), evidence)
    luma = luma8(rgb)
    distance = Fingerprint.from_hex(manifest.fingerprint_hash, manifest.fingerprint_quality).distance(fingerprint_luma(luma))
    signed_grid = np.frombuffer(base64.urlsafe_b64decode(manifest.fingerprint_grid + "=="), np.uint8).reshape(SIZE, SIZE)
    differences = cell_differences(signed_grid, grid(luma))
    regions = changed_regions(differences, manifest.media.width, manifest.media.height)
    content.update(
        fingerprint_distance=distance,
        max_cell_difference=round(float(differences.max()), 1),
        cell_threshold=MAX_CELL_DIFFERENCE,
        changed_regions=regions,
    )
    if distance <= MAX_COPY_DISTANCE and not regions:
        return Verification(Verdict.AUTHENTIC, f"This is a re-encoded or resized copy of {what}; the picture is unchanged.", manifest.to_dict(), evidence)
    where = f" in {len(regions)} marked region{'s' if len(regions) != 1 else ''}" if regions and distance <= 2 * MAX_COPY_DISTANCE else ""
    return Verification(Verdict.ALTERED, f"This carries the official mark of {what}, but the picture has been changed{where} since it was published.", manifest.to_dict(), evidence)
