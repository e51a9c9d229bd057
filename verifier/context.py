"""What a verification works against, handed in once: the store of records, the trust
list, (optionally) the appearance index, and how a photo's pixels are worked on (its
watermark read, a copy compared with the published file: in the calling thread by
default; the service hands in worker processes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from realmark.fingerprint.published import Changes, changes_from_file
from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.store import Records, Store
from realmark.watermark import Reading, extract

from .pixels import PublishedPixels


@dataclass(frozen=True)
class Context:
    store: Store
    trust: TrustList
    index: FingerprintIndex | None = None
    read_mark: Callable[[np.ndarray], Reading] = extract
    compare_published: Callable[[bytes, str, np.ndarray], Changes] = changes_from_file
    # Kept by dataclasses.replace (the verifier's per-verification contexts): what it
    # learnt of published pictures lasts the process.
    published_pixels: PublishedPixels | None = None
    records: Records = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "records", Records(self.store))
        if self.published_pixels is None:
            object.__setattr__(self, "published_pixels", PublishedPixels(self.records))
