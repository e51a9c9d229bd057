"""A long clip's segments signed by every free worker (distributed mode).

The job's own run cuts the clip (signer/segments.py) and sends one Dramatiq message per
segment; whichever worker is free takes one, signs it from the job's upload in the
shared store, and puts the result there: `segments/<job>/<wm id>-<n>.bin` (packets),
then `.json` (the summary; its presence means done). The job's run signs segments too,
so it never waits on a busy system, then joins them all into the published file.

Each segment is signed once at a time: a worker first claims it in the broker's server
(a lease, renewed while it works). A message whose segment is claimed or done is simply
acknowledged. A worker that dies lets its lease lapse, and the job's run, which checks
every pending segment until all are done, claims and signs it itself. A job run again
after a crash finds the segments already in the store and signs only the rest; the
objects are removed when the job ends."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import redis

from realmark.errors import RealmarkError
from realmark.store import Store
from signer.segments import Segment, SegmentWork, sign_segment

from .broker import NAMESPACE

log = logging.getLogger(__name__)
QUEUE = "realmark-segment"
POLL_SECONDS = 0.5  # how often the job's run looks for segments done elsewhere
# Free workers have this long to take segments before the job's run takes any itself
# (an idle worker's consumer polls the broker about once a second).
GRACE_SECONDS = 2.0
# Dramatiq's sorted set of the broker connections that spoke lately (workers fetch about
# once a second; a service instance also appears for a while after it sent a job).
_HEARTBEATS = f"{NAMESPACE}:__heartbeats__"


def _prefix(job_id: str) -> str:
    return f"segments/{job_id}/"


def _name(job_id: str, work: SegmentWork) -> str:
    # The watermark id is part of the name: a job that had to draw another id signs anew.
    return f"{_prefix(job_id)}{work.wm_id:012x}-{work.cut.index}"


def live_workers(client: redis.Redis, lost_seconds: int) -> int:
    """About how many processes can sign: those that reached the broker within the last
    `lost_seconds` (a hint for how many segments to cut, not a promise)."""
    since = (time.time() - lost_seconds) * 1000
    try:
        return int(client.zcount(_HEARTBEATS, since, "+inf"))
    except redis.RedisError:
        return 0


class Claims:
    """Who is signing which segment, in the broker's server. A claim lapses `lease`
    seconds after its worker last showed progress (progress comes every frame): the
    time after which Dramatiq, too, presumes a silent worker lost."""

    def __init__(self, client: redis.Redis, lease: int):
        self._r = client
        self.lease = lease
        self.token = secrets.token_hex(8)
        # Compare-and-set in one step on the server: a lapsed claim that another worker
        # took is never extended or removed by its former holder.
        self._extend = client.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
        )
        self._drop = client.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
        )

    def take(self, name: str) -> bool:
        return bool(self._r.set(f"realmark:claim:{name}", self.token, nx=True, ex=self.lease))

    def renew(self, name: str) -> bool:
        """Extend our claim; False if it is no longer ours."""
        return bool(self._extend(keys=[f"realmark:claim:{name}"], args=[self.token, self.lease]))

    def release(self, name: str) -> None:
        self._drop(keys=[f"realmark:claim:{name}"], args=[self.token])

    @contextmanager
    def held(self, name: str):
        """Keep a claim taken while the block runs: renewed from a thread of its own every
        quarter lease, so only a dead (or frozen) process lets it lapse, not a slow step
        such as x264's flush of its look-ahead, which shows no progress. Released after."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.lease / 4):
                try:
                    if not self.renew(name):
                        return
                except redis.RedisError as exc:  # the broker is away: try again next quarter
                    log.warning("claim on segment %s not renewed (%s); it may lapse", name, exc)

        keeper = threading.Thread(target=keep, name=f"claim {name}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join()
            self.release(name)


def sign_if_free(
    store: Store, claims: Claims, job_id: str, source, work: SegmentWork, folder: Path, progress=None
) -> bool:
    """Sign a segment unless another worker holds it: put it in the store, and let the
    claim go. `source()` gives the clip's file (fetched only when there is work);
    `progress` gets the segment's frames' times over the whole clip's."""
    name = _name(job_id, work)
    if not claims.take(name):
        return False
    if store.get(f"{name}.json") is not None:  # finished elsewhere since we last looked
        claims.release(name)
        return False
    packets = folder / f"segment-{work.cut.index}.bin"
    with claims.held(name):
        try:
            segment = sign_segment(source(), work, packets, progress)
            store.put_if_absent(f"{name}.bin", packets)
            store.put_if_absent(f"{name}.json", segment.to_json().encode())
        finally:
            packets.unlink(missing_ok=True)
    log.info(
        "signed segment %d of job %s with watermark %012x (%d frames, %.1f s)",
        work.cut.index,
        job_id,
        work.wm_id,
        segment.frames,
        segment.seconds,
    )
    return True


def stored(store: Store, job_id: str, work: SegmentWork) -> Segment | None:
    text = store.get(f"{_name(job_id, work)}.json")
    return Segment.from_json(text.decode()) if text is not None else None


def forget(store: Store, job_id: str) -> None:
    """Remove a job's segment objects (when it ended)."""
    for key in list(store.list(_prefix(job_id))):
        store.delete(key)


class SharedSegments:
    """The SegmentSigners of one job run in distributed mode (signer/parallel.py)."""

    def __init__(self, store: Store, claims: Claims, send, job_id: str, parallel: int, segment_seconds: float):
        self.store, self.job_id, self._send = store, job_id, send
        self.claims = claims
        self.parallel = max(1, parallel)
        self.segment_seconds = segment_seconds

    def sign(self, src, works, folder, progress):
        done: dict[int, Segment] = {}
        sent = False
        for work in works:
            segment = stored(self.store, self.job_id, work)
            if segment is not None:
                done[work.cut.index] = segment  # from a run before a crash
            elif len(works) > 1:
                self._send(self.job_id, work.to_json())
                sent = True
        if sent:
            time.sleep(GRACE_SECONDS)
        # A clip signed whole reports its frames, as it does in one process; a cut one
        # reports its segments as they are stored, whoever signed them.
        whole = progress if len(works) == 1 else None
        while len(done) < len(works):
            pending = [work for work in works if work.cut.index not in done]
            # One segment at a time, then look again: free workers keep taking the rest.
            if not any(
                sign_if_free(self.store, self.claims, self.job_id, lambda: src, w, folder, whole) for w in pending
            ):
                time.sleep(POLL_SECONDS)  # every pending segment is claimed by another worker
            for work in pending:
                segment = stored(self.store, self.job_id, work)
                if segment is not None:
                    done[work.cut.index] = segment
                    if progress:
                        progress(len(done) / len(works))
        parts = []
        for work in works:
            path = folder / f"segment-{work.cut.index}.bin"
            if not self.store.get_to_file(f"{_name(self.job_id, work)}.bin", path):
                raise RealmarkError(f"segment {work.cut.index} of job {self.job_id} is missing from the store")
            parts.append((done[work.cut.index], path))
        return parts
