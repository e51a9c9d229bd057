"""What photo and video signing share: metadata checks, record ids, the store commit."""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from realmark import watermark
from realmark.credentials import Claim, Embedded
from realmark.errors import BadInput, Conflict, InvalidManifest, StoreError
from realmark.fingerprint import ALG as FINGERPRINT_ALG
from realmark.fingerprint import Fingerprint
from realmark.keys import SigningKey
from realmark.manifest import Manifest, MediaInfo, parse_manifest, sign_manifest
from realmark.store import Records

MAX_TITLE = 500
MAX_ARTIST = 200
MAX_ARTISTS = 50
# Bidi overrides and isolates can make a title display as something else in a verdict.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@dataclass(frozen=True)
class Metadata:
    title: str
    artists: tuple[str, ...]


@dataclass(frozen=True)
class SignResult:
    manifest: Manifest
    created: bool  # False when this exact input had already been signed: same manifest, same file
    data: bytes | None = None  # photos: the signed, watermarked file (clips are written to a file)


def _check_text(value, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{what} must not be empty")
    if len(value) > limit:
        raise BadInput(f"{what} is longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{what} is not valid text (undecodable bytes)") from None
    for c in value:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI_CONTROLS:
            raise BadInput(f"{what} must not contain control characters (U+{ord(c):04X})")
    return unicodedata.normalize("NFC", value.strip())


def check_metadata(title, artists: Sequence[str]) -> Metadata:
    title = _check_text(title, "the title", MAX_TITLE)
    if isinstance(artists, str) or not artists:
        raise BadInput("at least one artist is required")
    if len(artists) > MAX_ARTISTS:
        raise BadInput(f"at most {MAX_ARTISTS} artists")
    return Metadata(title, tuple(_check_text(a, "an artist name", MAX_ARTIST) for a in artists))


def manifest_id_for(key: SigningKey, source_sha256: str) -> str:
    """Deterministic per (agency, signing key, input file): signing the same file twice
    finds the first record instead of creating a second, conflicting one. A new key
    (after rotation or revocation) deliberately issues a new record."""
    digest = hashlib.sha256(f"realmark manifest id v2\0{key.agency}\0{key.key_id}\0{source_sha256}".encode()).digest()
    return "rm-" + base64.b32encode(digest[:15]).decode().lower()


def existing_manifest(records: Records, manifest_id: str, meta: Metadata) -> Manifest | None:
    """The stored manifest for this input, checked against the requested metadata."""
    data = records.manifest_bytes(manifest_id)
    if data is None:
        return None
    try:
        manifest = parse_manifest(data)
    except InvalidManifest as exc:
        raise StoreError(f"the stored manifest {manifest_id} is damaged ({exc})") from None
    if (manifest.title, manifest.artists) != (meta.title, meta.artists):
        raise Conflict(
            f"this file was already signed as {manifest.manifest_id} "
            f"(title {manifest.title!r}, artists {', '.join(manifest.artists)}); a manifest is never changed"
        )
    return manifest


def claim_for(key: SigningKey, meta: Metadata, manifest_id: str, wm_id: int, mime: str, published_at: str) -> Claim:
    """What the embedded Content Credentials state: the same facts as the manifest."""
    return Claim(
        manifest_id=manifest_id,
        agency=key.agency,
        title=meta.title,
        artists=meta.artists,
        published_at=published_at,
        watermark_id=wm_id,
        mime=mime,
    )


def commit(
    records: Records,
    key: SigningKey,
    meta: Metadata,
    manifest_id: str,
    wm_id: int,
    *,
    published_at: str,
    published: bytes | Path,
    credentials: Embedded | None,
    media: MediaInfo,
    fingerprint: Fingerprint,
    grid: str | None = None,
    variants: dict[str, str] | None = None,
    timeline: tuple[str, ...] | None = None,
    timeline_regions: str | None = None,
    sound: str | None = None,
    colourfulness: int | None = None,
    presence: str | None = None,
    detail: str | None = None,
) -> Manifest | None:
    """Build and sign the manifest, claim the watermark id, store the published file and
    its C2PA sidecar, and store the manifest last: everything a stored manifest refers to
    is already there.

    Everything that can fail on bad input has happened before this point (the manifest
    is built and serialized first), so a claim is only ever left behind by a store
    failure. Returns None when the id was taken (draw another) or another signer stored
    this input's manifest first (use theirs)."""
    unsigned = Manifest(
        manifest_id=manifest_id,
        agency=key.agency,
        key_id=key.key_id,
        title=meta.title,
        artists=meta.artists,
        published_at=published_at,
        media=media,
        fingerprint_alg=FINGERPRINT_ALG,
        fingerprint_hash=fingerprint.hex,
        fingerprint_quality=fingerprint.quality,
        fingerprint_grid=grid,
        watermark_codec=watermark.CODEC,
        watermark_version=watermark.VERSION,
        watermark_id=f"{wm_id:012x}",
        timeline=timeline,
        timeline_regions=timeline_regions,
        sound=sound,
        colourfulness=colourfulness,
        watermark_presence=presence,
        fingerprint_detail=detail,
        fingerprint_variants=variants or {},
        c2pa_label=credentials.label if credentials else None,
        c2pa_sha256=hashlib.sha256(credentials.manifest).hexdigest() if credentials else None,
    )
    manifest = sign_manifest(unsigned, key.private)
    body = manifest.to_json()
    if not records.claim_watermark_id(wm_id, manifest.manifest_id):
        return None
    records.open_attempt(manifest.manifest_id, media.sha256, manifest.c2pa_label)
    records.put_published(media.sha256, published)
    if credentials is not None:
        records.put_c2pa(credentials.label, credentials.manifest)
    if not records.put_manifest(manifest.manifest_id, body):
        return None
    records.index_file(manifest.media.sha256, manifest.manifest_id)  # a shortcut for verify
    return manifest


# How strongly a mark reads back depends a little on its id's pattern (its chips meet the
# picture's own texture differently), so a file is called too flat to hold a mark only
# after this many ids have failed to read back from it.
MARK_TRIES = 3
T = TypeVar("T")


def marked_with_fresh_id(
    records: Records, mark: Callable[[int], T | None], what: str, first: int | None = None
) -> tuple[int, T]:
    """Draw a watermark id and `mark(wm_id)` with it: what it made, or None when the mark
    did not read back from the result; another id then, up to MARK_TRIES. `first`, when
    given, is tried before any drawn id (a job's id, kept across its re-runs)."""
    for attempt in range(MARK_TRIES):
        wm_id = first if attempt == 0 and first is not None else records.new_watermark_id()
        made = mark(wm_id)
        if made is not None:
            return wm_id, made
    raise unmarkable(what)


def unmarkable(what: str) -> BadInput:
    """The error for a file whose mark does not read back."""
    return BadInput(f"this {what} cannot hold a readable watermark (too flat or too small)")


def sign_with_retries(
    records: Records,
    manifest_id: str,
    meta: Metadata,
    attempt: Callable[[], Manifest | None],
    resign: Callable[[Manifest], object],
):
    """Run `attempt` (draw an id, mark, commit) until it commits, or hand over to
    `resign` when the input's manifest exists (idempotent re-signing)."""
    for _ in range(8):
        existing = existing_manifest(records, manifest_id, meta)
        if existing is not None:
            records.close_attempts(existing)  # what attempts killed before storing it left
            return resign(existing)
        manifest = attempt()
        if manifest is not None:
            records.close_attempts(manifest)
            return manifest
    raise StoreError("could not store the manifest after several attempts")
