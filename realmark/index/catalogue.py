"""What of a manifest goes into the index, and keeping the index in step with the store."""

from __future__ import annotations

import logging
from pathlib import Path

from realmark.errors import InvalidManifest, StoreError
from realmark.fingerprint import ALG
from realmark.fingerprint.audio import SoundPrint
from realmark.manifest import Manifest, parse_manifest
from realmark.store import Records, Store

from .index import FingerprintIndex

log = logging.getLogger(__name__)
SNAPSHOT = "index.npz"  # under REALMARK_HOME: a cache of the store, never the truth


def entries_for(manifest: Manifest) -> list[bytes]:
    """The fingerprints a manifest is found by, in a fixed order (a Match's `entry`):
    a photo's own fingerprint, then its crop variants (as the manifest lists them); a
    video's timeline, one per TIMELINE_INTERVAL_MS. Fingerprints of another algorithm
    are not comparable and are left out."""
    if manifest.fingerprint_alg != ALG:
        return []
    if manifest.media.is_video:
        return [bytes.fromhex(h) for h in manifest.timeline or ()]
    return [
        bytes.fromhex(manifest.fingerprint_hash),
        *(bytes.fromhex(h) for h in manifest.fingerprint_variants.values()),
    ]


def sound_for(manifest: Manifest) -> SoundPrint | None:
    """The sound print an audio file cut from the manifest's clip is found by."""
    return SoundPrint.decode(manifest.sound) if manifest.sound else None


def sync(index: FingerprintIndex, store: Store) -> int:
    """Add every manifest in the store the index does not have yet; returns how many.

    Only the listing is read in full: manifests already indexed are not fetched again.
    Manifests are parsed strictly but not signature-checked here: a search result is
    only ever used after verify checks its manifest's signature and trust (fail closed)."""
    records = Records(store)
    new = []
    for key in store.list("manifests/"):
        manifest_id = key.removeprefix("manifests/").removesuffix(".json")
        if manifest_id in index:
            continue
        try:
            data = records.manifest_bytes(manifest_id)
            manifest = parse_manifest(data) if data is not None else None
        except (StoreError, InvalidManifest) as exc:
            log.warning("not indexed: %s (%s)", key, exc)
            continue
        if manifest is None or manifest.manifest_id != manifest_id:
            continue
        hashes = entries_for(manifest)
        if hashes:
            new.append((manifest_id, hashes, sound_for(manifest)))
    return index.add_many(new)


def open_index(home: Path, store: Store, save: bool = True) -> FingerprintIndex:
    """The index for a deployment: its snapshot, brought up to date with the store and
    saved again (unless `save` is false: a helper process's copy, whose owner saves it).
    A missing or damaged snapshot means one full scan, nothing worse; a snapshot that
    cannot be written (a full or read-only disk) means the next start scans again, and
    never stops a verification."""
    path = home / SNAPSHOT
    index = FingerprintIndex()
    if path.exists():
        try:
            index = FingerprintIndex.load(path)
        except ValueError as exc:
            log.warning("%s; rebuilding from the store", exc)
    if (sync(index, store) or not path.exists()) and save:
        save_snapshot(index, path)
    return index


def save_snapshot(index: FingerprintIndex, path: Path) -> None:
    try:
        index.save(path)
    except OSError as exc:
        log.warning("the index snapshot %s was not saved (%s); the next start scans the store", path, exc.strerror)
