"""Who signs a clip's segments (segments.py): this process, a pool of this machine's
processes, or, in the service's distributed mode, every free worker (service/jobs).

One interface, `SegmentSigners`; the clip pipeline asks it how many segments are worth
cutting and hands it their work."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Protocol

from .segments import Progress, Segment, SegmentWork, sign_segment


class SegmentSigners(Protocol):
    # How many segments can be signed at once (1: a clip is signed in one piece), and the
    # shortest segment worth cutting.
    parallel: int
    segment_seconds: float

    def sign(
        self, src: Path, works: list[SegmentWork], folder: Path, progress: Progress | None
    ) -> list[tuple[Segment, Path]]:
        """Sign every segment; their packet files go in `folder`. In segment order."""
        ...


class InThisProcess:
    """One segment after the other, here (a batch's files are parallel already)."""

    parallel = 1
    segment_seconds = 0.0  # never cut

    def sign(self, src, works, folder, progress):
        done = []
        for work in works:
            path = folder / f"segment-{work.cut.index}.bin"
            # A segment reports its frames' times over the whole clip's: the clip's progress.
            done.append((sign_segment(src, work, path, progress), path))
        return done


class ProcessPool:
    """Segments across `processes` processes of this machine, each taking the next one
    when it is free. Started fresh ('spawn'): the service forks nothing from its threads."""

    def __init__(self, processes: int, segment_seconds: float):
        self.parallel = max(1, processes)
        self.segment_seconds = segment_seconds

    def sign(self, src, works, folder, progress):
        if self.parallel == 1 or len(works) == 1:
            return InThisProcess().sign(src, works, folder, progress)
        paths = {work.cut.index: folder / f"segment-{work.cut.index}.bin" for work in works}
        done: dict[int, Segment] = {}
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(self.parallel, len(works)), mp_context=context) as pool:
            futures = [pool.submit(_sign_elsewhere, str(src), w.to_json(), str(paths[w.cut.index])) for w in works]
            try:
                for future in as_completed(futures):
                    segment = Segment.from_json(future.result())
                    done[segment.index] = segment
                    if progress:
                        progress(len(done) / len(works))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return [(done[w.cut.index], paths[w.cut.index]) for w in works]


def _sign_elsewhere(src: str, work: str, packets: str) -> str:
    """A pool process's task: plain strings in and out."""
    return sign_segment(Path(src), SegmentWork.from_json(work), Path(packets)).to_json()
