"""From a watermark reading to a trusted manifest, shared by photo and video checks."""

from __future__ import annotations

from realmark import watermark
from realmark.errors import InvalidManifest, StoreError
from realmark.keys import TrustList
from realmark.manifest import Manifest, parse_manifest, verify_manifest
from realmark.store import Records, Store
from realmark.watermark.codec import CHECK_BITS, MAX_ATTEMPTS, Reading

from .result import Verdict, Verification

FALSE_POSITIVE_BOUND = MAX_ATTEMPTS * 2.0**-CHECK_BITS

UNKNOWN_MESSAGE = (
    "No official watermark was found. This does not prove it is fake: it may be "
    "unofficial, or edited so heavily that the mark is gone."
)


def reading_evidence(reading: Reading, frames: int | None = None) -> dict:
    out = {
        "found": reading.wm_id is not None,
        "id": f"{reading.wm_id:012x}" if reading.wm_id is not None else None,
        "codec": watermark.CODEC,
        "version": watermark.VERSION,
        "bit_errors": reading.bit_errors,
        "coded_bits": reading.coded_bits,
        "pilot_score": round(reading.pilot_score, 2),
        "mirrored": reading.mirrored,
        "quarter_turns": reading.turns,
        "scale": round(reading.scale, 3),
        "false_positive_bound": FALSE_POSITIVE_BOUND,
    }
    if frames is not None:
        out["frames_read"] = frames
    return out


def describe(manifest: Manifest) -> str:
    return f"{manifest.agency}'s “{manifest.title}” ({', '.join(manifest.artists)}, published {manifest.published_at[:10]})"


def published_file(sha256: str, store: Store, trust: TrustList) -> Verification | None:
    """Authentic at once when these are exactly the bytes an agency published: the file
    index names a manifest whose signature is valid and whose media.sha256 is this hash.
    Anything short of that returns None and the full check runs (fail closed). Used for
    videos, where it saves decoding; a photo's full check costs milliseconds anyway."""
    try:
        manifest_id = Records(store).manifest_id_for_file(sha256)
    except StoreError:
        return None
    manifest = trusted_manifest(manifest_id, store, trust) if manifest_id else None
    if manifest is None or manifest.media.sha256 != sha256:
        return None
    evidence = {
        "watermark": {"found": None, "id": manifest.watermark_id, "codec": manifest.watermark_codec, "version": manifest.watermark_version, "note": "not read: the file is byte-identical to the signed one"},
        "signature": {"key_id": manifest.key_id, "valid": True},
        "content": {"exact_match": True},
    }
    if manifest.media.is_video:
        whole = manifest.media.duration_ms / 1000
        evidence["content"]["ranges"] = [{"kind": "official", "clip_start": 0.0, "clip_end": whole, "original_start": 0.0, "original_end": whole}]
    return Verification(Verdict.AUTHENTIC, f"This is the official file of {describe(manifest)}.", manifest.to_dict(), evidence)


def find_manifest(reading: Reading, store: Store, trust: TrustList, evidence: dict) -> Manifest | Verification:
    """The trusted manifest behind a reading, or the final Verification when there is none."""
    if reading.wm_id is None:
        return Verification(Verdict.UNKNOWN, UNKNOWN_MESSAGE, None, evidence)
    records = Records(store)
    wm_hex = f"{reading.wm_id:012x}"
    damaged, stored, manifest_id = None, None, None
    try:
        manifest_id = records.manifest_id_for_watermark(reading.wm_id)
        stored = records.manifest_bytes(manifest_id) if manifest_id else None
    except StoreError as exc:
        damaged = f"the store's record for this watermark is damaged ({exc})"
    if damaged is None and stored is None:
        return Verification(
            Verdict.UNKNOWN,
            f"A Realmark watermark ({wm_hex}) was found, but this verifier knows no manifest for it, so it cannot say who published it.",
            None,
            evidence,
        )
    evidence["signature"] = {"key_id": None, "valid": False}
    try:
        if damaged is not None:
            raise InvalidManifest(damaged)
        manifest = parse_manifest(stored)
        evidence["signature"]["key_id"] = manifest.key_id
        verify_manifest(manifest, trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
        if manifest.watermark_id != wm_hex or manifest.manifest_id != manifest_id:
            raise InvalidManifest("the manifest does not belong to this watermark")
    except InvalidManifest as exc:
        evidence["signature"]["reason"] = str(exc)
        return Verification(Verdict.INVALID, f"The official-looking mark leads to a record that fails verification: {exc}.", None, evidence)
    evidence["signature"]["valid"] = True
    return manifest


def trusted_manifest(manifest_id: str, store: Store, trust: TrustList) -> Manifest | None:
    """The manifest stored under manifest_id if it parses and its signature verifies with
    a trusted, unrevoked key; otherwise None (an appearance match is then ignored)."""
    try:
        stored = Records(store).manifest_bytes(manifest_id)
        if stored is None:
            return None
        manifest = parse_manifest(stored)
        verify_manifest(manifest, trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
    except (StoreError, InvalidManifest):
        return None
    return manifest if manifest.manifest_id == manifest_id else None
