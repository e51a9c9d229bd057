"""Photos' pixel work in worker processes: the watermark read, and a copy compared with
its published file.

These are the CPU-heavy, stateless parts of verifying a photo. Requests are served from
threads, but their many numpy steps hold the interpreter lock between calls, so under
load threads take turns on one core; worker processes work on every core at once (the
comparison run in the request threads took the viral mix from 44 to 25 requests/s).
Only the pixels (and the published file's bytes) go to a worker, and only the Reading or
the Changes come back: the store, the trust list and the index stay in the service's own
process."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from realmark.fingerprint.published import Changes, changes_from_file
from realmark.watermark import Reading, extract


class MarkReaders:
    """`readers(rgb)` is watermark.extract(rgb) and `readers.compare(published, sha256, rgb)` is
    fingerprint.published.changes_from_file, each run in one of `processes` workers."""

    def __init__(self, processes: int):
        self._processes = processes
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fork of a process with running threads (the server's) can inherit held locks
        return ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"))

    def __call__(self, rgb: np.ndarray) -> Reading:
        return self._run(extract, rgb)

    def compare(self, published: bytes, sha256: str, rgb: np.ndarray) -> Changes:
        return self._run(changes_from_file, published, sha256, rgb)

    def _run(self, work, *args):
        pool = self._pool
        try:
            return pool.submit(work, *args).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the next requests get a new pool,
            # and this one is done here, so no request fails for it.
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return work(*args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
