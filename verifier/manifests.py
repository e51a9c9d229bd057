"""From a watermark reading to a trusted manifest, shared by photo and video checks."""

from __future__ import annotations

from dataclasses import dataclass

from realmark.errors import InvalidManifest, StoreError
from realmark.manifest import Manifest, parse_manifest, verify_manifest

from .context import Context
from .evidence import SignatureEvidence
from .reasons import Reason


@dataclass(frozen=True)
class Lookup:
    """What a watermark id leads to: a trusted manifest, or the reason there is none."""

    manifest: Manifest | None
    problem: Reason | None = None  # set exactly when manifest is None
    signature: SignatureEvidence | None = None  # None when no record was found to check


def lookup(wm_id: int | None, ctx: Context) -> Lookup:
    """The trusted manifest behind a watermark id (None: no mark was read)."""
    if wm_id is None:
        return Lookup(None, Reason.NO_MARK)
    wm_hex = f"{wm_id:012x}"
    try:
        manifest_id = ctx.records.manifest_id_for_watermark(wm_id)
        stored = ctx.records.manifest_bytes(manifest_id) if manifest_id else None
    except StoreError as exc:
        reason = f"the store's record for this watermark is damaged ({exc})"
        return Lookup(None, Reason.RECORD_DAMAGED, SignatureEvidence(None, False, reason))
    if stored is None:
        return Lookup(None, Reason.MARK_WITHOUT_RECORD)
    key_id = None
    try:
        manifest = parse_manifest(stored)
        key_id = manifest.key_id
        verify_manifest(manifest, ctx.trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
        if manifest.watermark_id != wm_hex or manifest.manifest_id != manifest_id:
            raise InvalidManifest("the manifest does not belong to this watermark", Reason.MARK_MISMATCH.value)
    except InvalidManifest as exc:
        return Lookup(None, Reason(exc.reason), SignatureEvidence(key_id, False, str(exc)))
    return Lookup(manifest, None, SignatureEvidence(manifest.key_id, True))


def trusted_manifest(manifest_id: str, ctx: Context) -> Manifest | None:
    """The manifest stored under manifest_id if it parses and its signature verifies with
    a trusted, unrevoked key; otherwise None (an appearance match is then ignored)."""
    try:
        stored = ctx.records.manifest_bytes(manifest_id)
        if stored is None:
            return None
        manifest = parse_manifest(stored)
        verify_manifest(manifest, ctx.trust.public_key_for(manifest.agency, manifest.key_id, manifest.published_at))
    except (StoreError, InvalidManifest):
        return None
    return manifest if manifest.manifest_id == manifest_id else None


def published_manifest(sha256: str, ctx: Context) -> Manifest | None:
    """The trusted manifest whose published file has exactly this hash, through the
    store's file index; None for anything short of that (the full check then runs)."""
    try:
        manifest_id = ctx.records.manifest_id_for_file(sha256)
    except StoreError:
        return None
    manifest = trusted_manifest(manifest_id, ctx) if manifest_id else None
    return manifest if manifest is not None and manifest.media.sha256 == sha256 else None
