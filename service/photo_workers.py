"""Still photos verified in worker processes, each with its own Verifier.

Verifying a photo is CPU work from end to end (decoding, the watermark read, the maps, the
comparison with the published file), and its many numpy steps hold the interpreter lock
between calls: in the service's threads, requests take turns on one core. In worker
processes they use every core.

Each worker verifies the whole photo, from the upload's bytes, against the same store and
trust list as the service (the trust list on disk is followed with one stat per
verification, as in the service). The appearance index is the service's, copied: each
worker opens the snapshot and the store as the service did at start, and before each
verification catches up with the store when the service's catalogue has changed (a
signing), so an `unknown` upload is found as soon as its asset is signed.

Measured (bench.service, 2 cores): when only the pixel work went to the workers (the
decoded picture sent there once for its read and again for the comparison), the service's
own process spent 43-49 ms on each new signed or unsigned upload and 83-88 ms on each copy
(decoding, the maps, moving 6 MB of pixels each way), beside the workers' 22-95 ms."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from realmark.deployment import Deployment
from realmark.errors import BadInput
from realmark.index import FingerprintIndex, open_index, sync
from realmark.settings import Settings
from verifier import Verifier
from verifier.result import Verification

TRIES = 2  # a photo whose verification kills its worker again is not tried a third time


class PhotoWorkers:
    """`workers.verify(data)` is Verifier.verify(data) for a still photo's bytes, run in one
    of `processes` workers; `index` is the service's, whose catalogue the workers follow."""

    def __init__(self, processes: int, settings: Settings, index: FingerprintIndex):
        self._processes, self._settings, self._index = processes, settings, index
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fork of a process with running threads (the server's) can inherit held locks
        return ProcessPoolExecutor(
            self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self._settings,),
        )

    def verify(self, data: bytes) -> Verification:
        for _ in range(TRIES):
            pool = self._pool
            try:
                return pool.submit(_verify, data, self._index.catalogue).result()
            except BrokenProcessPool:
                # A worker died (killed, out of memory): the next requests get a new pool,
                # and this one is tried again there, so no request fails for it.
                with self._lock:
                    if self._pool is pool:
                        self._pool = self._new_pool()
        raise BadInput(f"this photo stopped the verifying process {TRIES} times; it was not verified")

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


# A worker's own: its Verifier, its copy of the index, and the store that copy follows.
_worker: tuple[Verifier, FingerprintIndex, Deployment] | None = None


def _start(settings: Settings) -> None:
    global _worker
    deployment = Deployment(settings)
    index = open_index(settings.home, deployment.store, save=False)  # the service saves the snapshot
    _worker = (Verifier(deployment.store, deployment.trust, index), index, deployment)


def _verify(data: bytes, catalogue: str) -> Verification:
    verifier, index, deployment = _worker
    if index.catalogue != catalogue:  # the service's index has an asset this copy lacks
        sync(index, deployment.store)
    return verifier.verify(data)
