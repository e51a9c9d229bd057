"""Verify a photo: watermark -> manifest -> signature and trust -> content comparison.

Fails closed: every step that cannot be completed positively leads away from
`authentic`. Only a valid signature by a trusted, unrevoked key over a manifest whose
watermark id matches, *and* content that matches the signed content, is authentic."""

from __future__ import annotations

import hashlib

import numpy as np

from realmark import watermark
from realmark.errors import InvalidManifest
from realmark.fingerprint import ALG as FINGERPRINT_ALG
from realmark.fingerprint import Fingerprint, fingerprint
from realmark.keys import TrustList
from realmark.manifest import Manifest, parse_manifest, verify_manifest
from realmark.media.image import load_photo
from realmark.store import Records, Store
from realmark.watermark.codec import CHECK_BITS, MAX_ATTEMPTS, orient

from .result import Verdict, Verification

# A copy counts as the signed picture when its fingerprint is this close. Measured:
# re-encodes and resizes land at 0-2 of 256 bits, a quarter of the picture replaced at
# 40-90, unrelated pictures near 128. PDQ's looser 31 is for search, not for this.
MAX_COPY_DISTANCE = 20
FALSE_POSITIVE_BOUND = MAX_ATTEMPTS * 2.0**-CHECK_BITS

UNKNOWN_MESSAGE = (
    "No official watermark was found. This does not prove it is fake: it may be "
    "unofficial, or edited so heavily that the mark is gone."
)


def verify(data: bytes, *, store: Store, trust: TrustList) -> Verification:
    """Verify the bytes of a photo. Raises BadInput only for unreadable input."""
    photo = load_photo(data)
    reading = watermark.extract(photo.rgb)
    evidence: dict = {
        "watermark": {
            "found": reading.wm_id is not None,
            "id": f"{reading.wm_id:012x}" if reading.wm_id is not None else None,
            "codec": watermark.CODEC,
            "version": watermark.VERSION,
            "bit_errors": reading.bit_errors,
            "coded_bits": reading.coded_bits,
            "pilot_score": round(reading.pilot_score, 2),
            "mirrored": reading.mirrored,
            "quarter_turns": reading.turns,
            "false_positive_bound": FALSE_POSITIVE_BOUND,
        }
    }
    if reading.wm_id is None:
        return Verification(Verdict.UNKNOWN, UNKNOWN_MESSAGE, None, evidence)

    records = Records(store)
    wm_hex = f"{reading.wm_id:012x}"
    manifest_id = records.manifest_id_for_watermark(reading.wm_id)
    stored = records.manifest_bytes(manifest_id) if manifest_id else None
    if stored is None:
        return Verification(
            Verdict.UNKNOWN,
            f"A Realmark watermark ({wm_hex}) was found, but this verifier knows no manifest for it, so it cannot say who published it.",
            None,
            evidence,
        )
    try:
        manifest = parse_manifest(stored)
        evidence["signature"] = {"key_id": manifest.key_id, "valid": False}
        verify_manifest(manifest, trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
        if manifest.watermark_id != wm_hex or manifest.manifest_id != manifest_id:
            raise InvalidManifest("the manifest does not belong to this watermark")
    except InvalidManifest as exc:
        evidence["signature"] = {**evidence.get("signature", {}), "valid": False, "reason": str(exc)}
        return Verification(Verdict.INVALID, f"The official-looking mark leads to a record that fails verification: {exc}.", None, evidence)
    evidence["signature"] = {"key_id": manifest.key_id, "valid": True}
    # A mirrored or turned re-upload is compared turned back: the picture is the same.
    return _compare_content(data, np.ascontiguousarray(orient(photo.rgb, reading.mirrored, reading.turns)), manifest, evidence)


def _compare_content(data: bytes, rgb, manifest: Manifest, evidence: dict) -> Verification:
    exact = hashlib.sha256(data).hexdigest() == manifest.media.sha256
    content = {"exact_match": exact, "fingerprint_alg": manifest.fingerprint_alg, "max_distance": MAX_COPY_DISTANCE, "fingerprint_distance": None}
    evidence["content"] = content
    what = f"{manifest.agency}'s “{manifest.title}” ({', '.join(manifest.artists)}, published {manifest.published_at[:10]})"
    if exact:
        return Verification(Verdict.AUTHENTIC, f"This is the official file of {what}.", manifest.to_dict(), evidence)
    if manifest.fingerprint_alg != FINGERPRINT_ALG:
        return Verification(Verdict.ALTERED, f"This carries the official mark of {what}, but its content cannot be compared, so it is not confirmed.", manifest.to_dict(), evidence)
    distance = Fingerprint.from_hex(manifest.fingerprint_hash, manifest.fingerprint_quality).distance(fingerprint(rgb))
    content["fingerprint_distance"] = distance
    if distance <= MAX_COPY_DISTANCE:
        return Verification(Verdict.AUTHENTIC, f"This is a re-encoded or resized copy of {what}; the picture is unchanged.", manifest.to_dict(), evidence)
    return Verification(Verdict.ALTERED, f"This carries the official mark of {what}, but the picture has been changed since it was published.", manifest.to_dict(), evidence)
