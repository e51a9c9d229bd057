"""Find signed clips by their sound: an audio file cut from an official clip carries no
picture and no mark, only the sound the manifest printed.

Philips' lookup (Haitsma and Kalker, 2002): a copy that is re-encoded keeps a good share
of its 32-bit frame hashes exactly (at a bit error rate of 0.1, one frame in 30; a second
of sound has 172 query frames), so each query frame looks up its exact value in a table
of every indexed frame, and each hit votes for (clip, offset). The offset most voted for
is where the copy comes from; verifier.sound then checks it frame by frame.

Frames of silence and near-silence are left out (their bits are noise), and so is every
second stored frame: the query is computed four times as finely as the stored prints, so
each indexed frame still meets a query frame that starts within 3 ms of it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from realmark.fingerprint.audio import QUERY_HOP, STORED_HOP, SoundPrint

INDEXED_EVERY = 2  # stored frames
LOUD_DB = 30  # frames this far below a clip's loud level (90th percentile) are not indexed
VOTE_BUCKET_S = 0.05  # offsets this close are one vote
MIN_VOTES = 6  # exact hits agreeing on one offset; unrelated sound gives 0-2 (README "Sound")


@dataclass(frozen=True)
class SoundMatch:
    manifest_id: str
    offset_s: float  # original time = copy time + offset_s
    votes: int


class SoundIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._values = np.zeros(0, np.uint32)
        self._owner = np.zeros(0, np.int32)
        self._time = np.zeros(0, np.float32)  # seconds into the original
        self._ids: list[str] = []
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._sorted = True

    def __len__(self) -> int:
        return len(self._values) + sum(len(v) for v, _, _ in self._pending)

    def add(self, manifest_id: str, heard: SoundPrint) -> None:
        if not len(heard):
            return
        levels = heard.levels.astype(np.float64)
        keep = np.zeros(len(heard), bool)
        keep[::INDEXED_EVERY] = True
        keep &= levels >= np.percentile(levels, 90) - LOUD_DB
        frames = np.flatnonzero(keep)
        with self._lock:
            owner = len(self._ids)
            self._ids.append(manifest_id)
            self._pending.append(
                (heard.bits[frames], np.full(len(frames), owner, np.int32), heard.time(frames).astype(np.float32))
            )
            self._sorted = False

    def _tables(self):
        with self._lock:
            if not self._sorted:
                values = np.concatenate([self._values] + [v for v, _, _ in self._pending])
                owner = np.concatenate([self._owner] + [o for _, o, _ in self._pending])
                time = np.concatenate([self._time] + [t for _, _, t in self._pending])
                order = np.argsort(values, kind="stable")
                self._values, self._owner, self._time = values[order], owner[order], time[order]
                self._pending, self._sorted = [], True
            return self._values, self._owner, self._time, list(self._ids)

    def search(self, copy: SoundPrint) -> list[SoundMatch]:
        """Clips and offsets the copy's frames vote for, most votes first."""
        if copy.hop != QUERY_HOP and STORED_HOP % copy.hop:
            raise ValueError("query prints need a hop that divides the stored hop")
        values, owner, time, ids = self._tables()
        if not len(values) or not len(copy):
            return []
        lo = np.searchsorted(values, copy.bits, "left")
        hi = np.searchsorted(values, copy.bits, "right")
        hits = np.flatnonzero(hi > lo)
        if not len(hits):
            return []
        counts = hi[hits] - lo[hits]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(lo[hits], hi[hits], strict=True)])
        query_time = np.repeat(copy.time(hits), counts)
        offsets = np.round((time[rows] - query_time) / VOTE_BUCKET_S).astype(np.int64)
        keys = owner[rows].astype(np.int64) << 32 | (offsets & 0xFFFFFFFF)
        unique, votes = np.unique(keys, return_counts=True)
        # Neighbouring buckets are one offset split by rounding.
        found = []
        for key, n in sorted(zip(unique.tolist(), votes.tolist(), strict=True), key=lambda kv: -kv[1]):
            if n < MIN_VOTES:
                break
            who, bucket = key >> 32, np.int32(np.uint32(key & 0xFFFFFFFF))
            found.append(SoundMatch(ids[who], float(bucket) * VOTE_BUCKET_S, int(n)))
        return found

    def arrays(self) -> dict[str, np.ndarray]:
        values, owner, time, ids = self._tables()
        return {"sound_values": values, "sound_owner": owner, "sound_time": time, "sound_ids": np.array(ids, np.str_)}

    @classmethod
    def from_arrays(cls, data) -> SoundIndex:
        index = cls()
        index._values = np.asarray(data["sound_values"], np.uint32)
        index._owner = np.asarray(data["sound_owner"], np.int32)
        index._time = np.asarray(data["sound_time"], np.float32)
        index._ids = [str(x) for x in data["sound_ids"]]
        n = len(index._values)
        if index._owner.shape != (n,) or index._time.shape != (n,) or (n and index._owner.max() >= len(index._ids)):
            raise ValueError("the sound index is inconsistent")
        return index
