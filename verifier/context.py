"""What a verification works against, handed in once: the store of records, the trust
list, (optionally) the appearance index, and how a photo's watermark is read (in the
calling thread by default; the service hands in worker processes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.store import Records, Store
from realmark.watermark import Reading, extract


@dataclass(frozen=True)
class Context:
    store: Store
    trust: TrustList
    index: FingerprintIndex | None = None
    read_mark: Callable[[np.ndarray], Reading] = extract
    records: Records = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "records", Records(self.store))
