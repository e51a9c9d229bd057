"""The one way to verify: `Verifier(store, trust, index).verify(source)` for any
supported photo, clip or sound file, given as a path, bytes or a binary stream."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.manifest import Manifest
from realmark.media import Kind, animation
from realmark.media.source import Source, open_source
from realmark.store import Store

from .audio import verify_sound
from .context import Context
from .credentials import with_credentials
from .manifests import lookup, trusted_manifest
from .photo import verify_photo
from .result import Verification
from .video import verify_clip

Progress = Callable[[float], None]  # fraction of a clip looked at, 0..1


class Verifier:
    """Built once with what it checks against; verify() is safe to call from many threads.

    `trust` may be a TrustFile (realmark.keys), which follows the trust list on disk: a
    revocation then counts from the next verification on. With an `index`, a photo or
    clip whose watermark is gone is also looked up by appearance. `photos`, when given,
    verifies a still photo's bytes in its stead, as a Verifier of the same store, trust
    list and index would (the service's worker processes: service/photo_workers.py)."""

    def __init__(
        self,
        store: Store,
        trust: TrustList,
        index: FingerprintIndex | None = None,
        photos: Callable[[bytes], Verification] | None = None,
    ):
        self.context = Context(store, trust, index)
        self.photos = photos

    def verify(self, source: Source, *, progress: Progress | None = None) -> Verification:
        """Raises BadInput (UnsupportedMedia) only for input that cannot be read at all;
        every other outcome, a failing record included, is a Verification. Embedded
        Content Credentials are validated and reported beside the verdict."""
        ctx = self._now()
        with open_source(source) as opened:
            if opened.media.kind is Kind.PHOTO and animation.frame_count(opened.data, opened.media.container) > 1:
                with animation.as_clip(opened.data, opened.media.container) as frames:
                    result = verify_clip(frames, ctx, progress)  # an animated GIF or WebP: its frames are a clip
            elif opened.media.kind is Kind.PHOTO and self.photos is not None:
                return self.photos(opened.data)  # credentials included
            elif opened.media.kind is Kind.PHOTO:
                result = verify_photo(opened.data, ctx)
            elif opened.media.kind is Kind.SOUND:
                result = verify_sound(opened.path, ctx)
            else:
                result = verify_clip(opened.path, ctx, progress)  # or by its sound, when it has no pictures
            with opened.stream() as stream:
                return with_credentials(result, opened.media, stream, ctx.trust)

    def _now(self) -> Context:
        """The context with the trust list as it is now, fixed for one verification."""
        return dataclasses.replace(self.context, trust=self.context.trust.snapshot())

    def manifest_for_mark(self, wm_id: int) -> Manifest | None:
        """The trusted manifest a watermark id belongs to (the soft-binding lookup)."""
        return lookup(wm_id, self._now()).manifest

    def trusted_manifest(self, manifest_id: str) -> Manifest | None:
        """The manifest stored under manifest_id, if its signature verifies under a
        trusted, unrevoked key (the soft-binding lookup by fingerprint)."""
        return trusted_manifest(manifest_id, self._now())


def verify(
    source: Source,
    *,
    store: Store,
    trust: TrustList,
    index: FingerprintIndex | None = None,
    progress: Progress | None = None,
) -> Verification:
    """Verify one photo or clip (a Verifier for one call)."""
    return Verifier(store, trust, index).verify(source, progress=progress)
