"""Photos' watermarks read in worker processes.

Reading the mark is the CPU-heavy, stateless part of verifying a photo. Requests are
served from threads, but the reader's Python steps hold the interpreter lock, so under
load threads take turns on one core; worker processes read on every core at once. Only
the decoded pixels go to a worker and only the Reading comes back: the store, the trust
list and the index stay in the service's own process."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from realmark.watermark import Reading, extract


class MarkReaders:
    """`readers(rgb)` is watermark.extract(rgb), run in one of `processes` workers."""

    def __init__(self, processes: int):
        self._processes = processes
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn: a fork of a process with running threads (the server's) can inherit held locks
        return ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"))

    def __call__(self, rgb: np.ndarray) -> Reading:
        pool = self._pool
        try:
            return pool.submit(extract, rgb).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the next requests get a new pool,
            # and this one is read here, so no request fails for it.
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return extract(rgb)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
