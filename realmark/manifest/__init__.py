"""Signed manifests: what an agency published, bound to the file by hash, fingerprint
and watermark id, and to the agency by an Ed25519 signature."""

from .canonical import canonical_json
from .model import FORMAT, Manifest, MediaInfo, parse_manifest
from .signing import sign_manifest, verify_manifest

__all__ = ["FORMAT", "Manifest", "MediaInfo", "canonical_json", "parse_manifest", "sign_manifest", "verify_manifest"]
