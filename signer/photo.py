"""Sign an official photo: watermark it, fingerprint it, store a signed manifest."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from realmark import watermark
from realmark.errors import BadInput, Conflict, InvalidManifest, StoreError
from realmark.fingerprint import ALG as FINGERPRINT_ALG
from realmark.fingerprint import fingerprint
from realmark.keys import SigningKey
from realmark.manifest import Manifest, MediaInfo, parse_manifest, sign_manifest
from realmark.manifest.model import utc_now
from realmark.media.image import Photo, encode_photo, load_photo
from realmark.store import Records, Store
from realmark.watermark.codec import MIN_EMBED_SHORT_SIDE

MAX_TITLE = 500
MAX_ARTIST = 200
MAX_ARTISTS = 50


@dataclass(frozen=True)
class SignResult:
    manifest: Manifest
    data: bytes  # the signed, watermarked file
    created: bool  # False when this exact input had already been signed: same manifest


def manifest_id_for(agency: str, source_sha256: str) -> str:
    """Deterministic per (agency, input file): signing the same file twice finds the
    first record instead of creating a second, conflicting one."""
    digest = hashlib.sha256(f"realmark manifest id v1\0{agency}\0{source_sha256}".encode()).digest()
    return "rm-" + base64.b32encode(digest[:15]).decode().lower()


def _check_text(value, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{what} must not be empty")
    if len(value) > limit:
        raise BadInput(f"{what} is longer than {limit} characters")
    if any(ord(c) < 0x20 for c in value):
        raise BadInput(f"{what} must not contain control characters")
    return value.strip()


def _watermarked(photo: Photo, wm_id: int) -> tuple[bytes, Photo]:
    """Embed, encode, and read the mark back from the encoded file: a photo we cannot
    read back must fail here, loudly, rather than be published unprotected.
    Returns the file and its decoded pixels (what viewers will see)."""
    data = encode_photo(photo, watermark.embed(photo.rgb, wm_id))
    published = load_photo(data)
    if watermark.extract(published.rgb).wm_id != wm_id:
        raise BadInput("this picture cannot hold a readable watermark (too flat or too small)")
    return data, published


def sign(data: bytes, *, title: str, artists: Sequence[str], key: SigningKey, store: Store) -> SignResult:
    """Watermark and sign a JPEG, PNG or WebP photo; store its manifest.

    Raises BadInput for unusable input (nothing is stored then), Conflict if this file
    was already signed with other details, StoreError if the store fails."""
    title = _check_text(title, "the title", MAX_TITLE)
    if isinstance(artists, str) or not artists:
        raise BadInput("at least one artist is required")
    if len(artists) > MAX_ARTISTS:
        raise BadInput(f"at most {MAX_ARTISTS} artists")
    artists = tuple(_check_text(a, "an artist name", MAX_ARTIST) for a in artists)
    photo = load_photo(data)
    if min(photo.width, photo.height) < MIN_EMBED_SHORT_SIDE:
        raise BadInput(f"the photo is {photo.width}x{photo.height}; signing needs at least {MIN_EMBED_SHORT_SIDE} px on the short side")

    records = Records(store)
    manifest_id = manifest_id_for(key.agency, hashlib.sha256(data).hexdigest())
    for _ in range(8):
        existing = records.manifest_bytes(manifest_id)
        if existing is not None:
            return _resign(photo, existing, title, artists)
        wm_id = records.new_watermark_id()
        signed, published = _watermarked(photo, wm_id)
        if not records.claim_watermark_id(wm_id, manifest_id):
            continue  # a 1-in-2**48 clash with an existing id: draw again
        manifest = sign_manifest(
            Manifest(
                manifest_id=manifest_id,
                agency=key.agency,
                key_id=key.key_id,
                title=title,
                artists=artists,
                published_at=utc_now(),
                media=MediaInfo(photo.mime_type, photo.width, photo.height, hashlib.sha256(signed).hexdigest()),
                fingerprint_alg=FINGERPRINT_ALG,
                fingerprint_hash=(fp := fingerprint(published.rgb)).hex,
                fingerprint_quality=fp.quality,
                watermark_codec=watermark.CODEC,
                watermark_version=watermark.VERSION,
                watermark_id=f"{wm_id:012x}",
            ),
            key.private,
        )
        if records.put_manifest(manifest_id, manifest.to_json()):
            return SignResult(manifest, signed, created=True)
        # Another signer stored this input's manifest in the meantime: return theirs.
    raise StoreError("could not store the manifest after several attempts")


def _resign(photo: Photo, existing: bytes, title: str, artists: tuple[str, ...]) -> SignResult:
    try:
        manifest = parse_manifest(existing)
    except InvalidManifest as exc:
        raise StoreError(f"the stored manifest for this photo is damaged ({exc})") from None
    if manifest.title != title or manifest.artists != artists:
        raise Conflict(
            f"this photo was already signed as {manifest.manifest_id} "
            f"(title {manifest.title!r}, artists {', '.join(manifest.artists)}); a manifest is never changed"
        )
    signed, _ = _watermarked(photo, int(manifest.watermark_id, 16))
    return SignResult(manifest, signed, created=False)
