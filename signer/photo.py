"""Sign an official photo: watermark it, fingerprint it, store a signed manifest."""

from __future__ import annotations

import hashlib
import io

from realmark import compat, watermark
from realmark.credentials import embed
from realmark.errors import BadInput, StoreError
from realmark.fingerprint import crop_variants, fingerprint_luma, grid
from realmark.keys import SigningKey
from realmark.manifest import Manifest, MediaInfo
from realmark.manifest.model import utc_now
from realmark.media.image import Photo, encode_photo, load_photo, luma8
from realmark.store import Records
from realmark.watermark.codec import MIN_EMBED_SHORT_SIDE
from realmark.watermark.presence import Detail, Presence, working

from .common import (
    Metadata,
    SignResult,
    claim_for,
    commit,
    manifest_id_for,
    marked_with_fresh_id,
    sign_with_retries,
    unmarkable,
)


def _watermarked(photo: Photo, wm_id: int) -> tuple[bytes, Photo] | None:
    """Embed, encode, and read the mark back from the encoded file: the file and its
    decoded pixels (what viewers will see), or None when the mark does not read back (a
    photo must not be published unprotected)."""
    data = encode_photo(photo, watermark.embed(photo.rgb, wm_id))
    published = load_photo(data)
    if watermark.extract(published.rgb).wm_id != wm_id:
        return None
    return data, published


def _published_again(records: Records, manifest: Manifest, photo: Photo) -> bytes:
    """The file published under an existing manifest, exactly: from the store (an embedded
    C2PA manifest cannot be made twice: it carries a fresh id and signing time), or, for a
    manifest from before Content Credentials, made again (realmark.compat)."""
    data = records.published_bytes(manifest.manifest_id, manifest.media.sha256)
    if data is None and compat.can_remake_published(manifest.c2pa_label):
        remade = _watermarked(photo, int(manifest.watermark_id, 16))
        if remade is None:
            raise unmarkable("picture")
        data = remade[0]
    if data is None or hashlib.sha256(data).hexdigest() != manifest.media.sha256:
        raise StoreError(f"the published file of {manifest.manifest_id} is missing or damaged in the store")
    return data


def sign_photo(
    data: bytes, meta: Metadata, key: SigningKey, records: Records, watermark_id: int | None = None
) -> SignResult:
    """Watermark a JPEG, PNG or WebP photo, embed its Content Credentials, and store the
    signed manifest, the published file and the C2PA sidecar. `watermark_id` is tried first."""
    photo = load_photo(data)
    if min(photo.width, photo.height) < MIN_EMBED_SHORT_SIDE:
        raise BadInput(
            f"the photo is {photo.width}x{photo.height}; signing needs at least {MIN_EMBED_SHORT_SIDE} px on the "
            f"short side"
        )
    manifest_id = manifest_id_for(key, hashlib.sha256(data).hexdigest())
    output: dict[str, bytes] = {}
    first_id = [watermark_id] if watermark_id is not None else []  # tried once: it may be taken

    def attempt() -> Manifest | None:
        wm_id, (marked, published) = marked_with_fresh_id(
            records, lambda i: _watermarked(photo, i), "picture", first_id.pop() if first_id else None
        )
        luma, work = luma8(published.rgb), working(published.rgb)
        published_at = utc_now()
        out = io.BytesIO()
        claim = claim_for(key, meta, manifest_id, wm_id, photo.mime_type, published_at)
        credentials = embed(claim, key, io.BytesIO(data), io.BytesIO(marked), out)
        signed = out.getvalue()
        output["data"] = signed
        return commit(
            records,
            key,
            meta,
            manifest_id,
            wm_id,
            published_at=published_at,
            published=signed,
            credentials=credentials,
            media=MediaInfo(photo.mime_type, photo.width, photo.height, hashlib.sha256(signed).hexdigest()),
            fingerprint=fingerprint_luma(luma),
            grid=grid.encode(grid.grid(luma)),
            variants={name: fp.hex for name, fp in crop_variants(luma).items()},
            colourfulness=grid.colourfulness(published.rgb),
            presence=Presence.of(work, wm_id).encode(),
            detail=Detail.of(work).encode(),
        )

    def resign(existing: Manifest) -> SignResult:
        return SignResult(existing, created=False, data=_published_again(records, existing, photo))

    result = sign_with_retries(records, manifest_id, meta, attempt, resign)
    return result if isinstance(result, SignResult) else SignResult(result, created=True, data=output["data"])
