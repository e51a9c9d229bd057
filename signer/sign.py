"""The one way to sign: `Signer(store, key, index).sign(source, output, title=, artists=)`
for any supported photo or clip, given as a path, bytes or a binary stream."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from realmark.errors import BadInput, UnsupportedMedia
from realmark.index import FingerprintIndex, entries_for, sound_for
from realmark.keys import SigningKey
from realmark.media import Kind
from realmark.media.source import Source, open_source
from realmark.store import Records, Store

from .common import SignResult, check_metadata
from .parallel import InThisProcess, SegmentSigners
from .photo import sign_photo
from .segments import EncoderSettings, Progress
from .video import sign_clip

# What fans' copies come as, never what an agency publishes: verified, not signed.
VERIFIED_ONLY = {"gif": "GIF", "avif": "AVIF file", "heif": "HEIC file"}


class Signer:
    """Signs as one agency key into one store. With an `index`, every signed asset is
    added to it at once, so the appearance search finds it from the next request on."""

    def __init__(
        self,
        store: Store,
        key: SigningKey,
        index: FingerprintIndex | None = None,
        encoder: EncoderSettings | None = None,
        segments: SegmentSigners | None = None,
    ):
        self.records = Records(store)
        self.key = key
        self.index = index
        self.encoder = encoder or EncoderSettings()
        # Who signs a long clip's segments; by default this process, in one piece.
        self.segments = segments or InThisProcess()

    def sign(
        self,
        source: Source,
        output: Path | None = None,
        *,
        title: str,
        artists: Sequence[str],
        progress: Progress | None = None,
        watermark_id: int | None = None,
    ) -> SignResult:
        """Watermark, embed Content Credentials, and store the signed manifest and the
        published file. The signed file goes to `output` (the caller renames it into
        place); a photo's is also in the result's `data`. A clip needs `output`.
        `watermark_id` is the id to try first: a job draws one when it is accepted, so
        a re-run after a crash claims no second id.

        Idempotent: the same input with the same key returns the same manifest and file.
        Raises BadInput for unusable input (nothing is stored then), Conflict if the file
        was signed before with other details, StoreError if the store fails."""
        meta = check_metadata(title, artists)
        with open_source(source) as opened:
            if opened.media.kind is Kind.SOUND:
                raise UnsupportedMedia("this is a sound file, not a video: only photos and videos are signed")
            if opened.media.container in VERIFIED_ONLY:
                name = VERIFIED_ONLY[opened.media.container]
                raise UnsupportedMedia(f"a {name} is verified, never signed: sign the photo or clip it was made from")
            if opened.media.is_video:
                if output is None:
                    raise BadInput("signing a clip needs an output file")
                result = sign_clip(
                    opened.path,
                    Path(output),
                    meta,
                    self.key,
                    self.records,
                    self.encoder,
                    progress,
                    watermark_id,
                    self.segments,
                )
            else:
                result = sign_photo(opened.data, meta, self.key, self.records, watermark_id)
                if output is not None:
                    Path(output).write_bytes(result.data)
        if self.index is not None:
            self.index.add(result.manifest.manifest_id, entries_for(result.manifest), sound_for(result.manifest))
        return result


def sign(
    source: Source,
    output: Path | None = None,
    *,
    title: str,
    artists: Sequence[str],
    key: SigningKey,
    store: Store,
    index: FingerprintIndex | None = None,
    encoder: EncoderSettings | None = None,
    progress: Progress | None = None,
) -> SignResult:
    """Sign one photo or clip (a Signer for one call)."""
    return Signer(store, key, index, encoder).sign(source, output, title=title, artists=artists, progress=progress)
