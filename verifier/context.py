"""What a verification works against, handed in once: the store of records, the trust
list and (optionally) the appearance index."""

from __future__ import annotations

from dataclasses import dataclass, field

from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.store import Records, Store

from .pixels import PublishedPixels


@dataclass(frozen=True)
class Context:
    store: Store
    trust: TrustList
    index: FingerprintIndex | None = None
    # Kept by dataclasses.replace (the verifier's per-verification contexts): what it
    # learnt of published pictures lasts the process.
    published_pixels: PublishedPixels | None = None
    records: Records = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "records", Records(self.store))
        if self.published_pixels is None:
            object.__setattr__(self, "published_pixels", PublishedPixels(self.records))
