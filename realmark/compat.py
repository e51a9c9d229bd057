"""Data written by older versions of Realmark, and the only paths kept for it.

Each is read (never written) so that what was signed before an upgrade keeps working;
a new version writes the current form only. Remove a path here once no deployment
holds such data.

- Published files under `published/<manifest_id>` (before Content Credentials, the
  service kept files by manifest id; now `published/<sha256>`).
- Photo manifests without a `c2pa` field whose published file is not in the store: the
  file is made again (marking is deterministic; an embedded C2PA manifest could not be).
- Agency keys made before Content Credentials, without a C2PA certificate: the next
  `realmark keys init` for that agency issues one for the same key.
"""

from __future__ import annotations

from pathlib import Path


def published_keys(manifest_id: str, sha256: str) -> tuple[str, str]:
    """Where a published file may be stored: the current key first, then the old one."""
    return f"published/{sha256}", f"published/{manifest_id}"


def can_remake_published(c2pa_label: str | None) -> bool:
    """A photo signed before Content Credentials can be watermarked again, identically."""
    return c2pa_label is None


def key_without_certificate(key_path: Path, chain_path: Path) -> bool:
    return key_path.exists() and not chain_path.exists()
