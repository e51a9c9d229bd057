"""Find signed assets by how they look: the nearest 256-bit fingerprints by Hamming distance.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): the 256 bits are cut into 16
chunks of 16 bits, and each chunk has a sorted table. Two fingerprints within distance
31 (PDQ's match threshold) differ in at most one bit of at least one chunk (16 chunks x
2 bits = 32 > 31), so a query looks up, in each chunk's table, its own value and the 16
values one bit away: 272 binary searches find every candidate, and only candidates get a
full distance. Against scanning every fingerprint this is what keeps a search over
millions in milliseconds.

Entries added since the tables were last built sit in a short tail that is scanned in
full; the tables are rebuilt when the tail grows past a tenth of them.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realmark.fingerprint import BYTES, MATCH_DISTANCE, hamming
from realmark.fingerprint.audio import SoundPrint

from .sound import SoundIndex, SoundMatch

CHUNKS = 16  # of 16 bits each
MIN_TAIL_REBUILD = 50_000  # entries scanned in full before the tables are rebuilt
_ONE_BIT_AWAY = np.array([0] + [1 << b for b in range(16)], dtype=np.uint16)


@dataclass(frozen=True)
class Match:
    manifest_id: str
    distance: int  # bits that differ (realmark.fingerprint.BITS in all)
    entry: int  # which of the manifest's fingerprints (see catalogue.entries_for)
    query: int  # which of the queries matched


def _rows(hashes: Iterable[bytes]) -> np.ndarray:
    data = b"".join(hashes)
    if len(data) % BYTES:
        raise ValueError(f"fingerprints are {BYTES} bytes each")
    return np.frombuffer(data, dtype=np.uint64).reshape(-1, 4).copy()


def _digest(manifest_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(manifest_id.encode(), digest_size=16).digest(), "big")


class FingerprintIndex:
    """Fingerprints of signed assets, each tied to its manifest id and its place in that
    manifest's list. Thread-safe: the service signs and verifies concurrently."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bits = np.zeros((0, 4), np.uint64)
        self._owner = np.zeros(0, np.int32)  # number of the manifest id in self._ids
        self._entry = np.zeros(0, np.int32)  # place in the manifest's list of fingerprints
        self._ids: list[str] = []
        self._number: dict[str, int] = {}
        self._built = 0  # entries [0, built) are in the chunk tables
        self._tables: list[tuple[np.ndarray, np.ndarray]] = []  # per chunk: sorted values, their rows
        self.sound = SoundIndex()  # clips' sound prints, for audio files (index/sound.py)
        self._catalogue = 0  # XOR of the indexed manifest ids' digests: see catalogue

    def __len__(self) -> int:
        return len(self._bits)

    def __contains__(self, manifest_id: str) -> bool:
        return manifest_id in self._number

    @property
    def manifest_count(self) -> int:
        return len(self._ids)

    @property
    def catalogue(self) -> str:
        """Which manifests are indexed, as 32 hex digits: equal for equal sets, whatever
        the order they came in (instances that synced the same store agree), and changed
        by every manifest added. A cached answer keyed by it is never stale."""
        return f"{self._catalogue:032x}"

    def add(self, manifest_id: str, hashes: Sequence[bytes], heard: SoundPrint | None = None) -> None:
        """Index one manifest's fingerprints and sound print (a second call for the same
        id is ignored)."""
        with self._lock:
            self._append([(manifest_id, hashes, heard)])
            if len(self._bits) - self._built > max(MIN_TAIL_REBUILD, self._built // 10):
                self._build()

    def add_many(self, items: Iterable[tuple[str, Sequence[bytes], SoundPrint | None]]) -> int:
        """Bulk add (loading, syncing, benchmarks): one concatenation, one table build."""
        with self._lock:
            added = self._append(items)
            if added:
                self._build()
        return added

    def _append(self, items: Iterable[tuple[str, Sequence[bytes], SoundPrint | None]]) -> int:
        bits, owners, entries = [], [], []
        for manifest_id, hashes, heard in items:
            if manifest_id in self._number or not hashes:
                continue
            if heard is not None:
                self.sound.add(manifest_id, heard)
            rows = _rows(hashes)
            self._number[manifest_id] = len(self._ids)
            self._ids.append(manifest_id)
            self._catalogue ^= _digest(manifest_id)
            bits.append(rows)
            owners.append(np.full(len(rows), self._number[manifest_id], np.int32))
            entries.append(np.arange(len(rows), dtype=np.int32))
        if bits:
            self._bits = np.concatenate([self._bits, *bits])
            self._owner = np.concatenate([self._owner, *owners])
            self._entry = np.concatenate([self._entry, *entries])
        return len(bits)

    def _build(self) -> None:
        chunks = self._bits.view(np.uint16)  # (n, 16)
        self._tables = []
        for c in range(CHUNKS):
            order = np.argsort(chunks[:, c], kind="stable").astype(np.int32)
            self._tables.append((np.ascontiguousarray(chunks[order, c]), order))
        self._built = len(self._bits)

    def search_sound(self, copy: SoundPrint) -> list[SoundMatch]:
        """Signed clips whose sound the copy's comes from (index/sound.py), best first."""
        return self.sound.search(copy)

    def search(self, queries: Sequence[bytes], max_distance: int = MATCH_DISTANCE) -> list[Match]:
        """Every indexed fingerprint within max_distance of any query, nearest first."""
        if max_distance > 2 * CHUNKS - 1:
            raise ValueError(f"the tables find every match only up to distance {2 * CHUNKS - 1}")
        q = _rows(queries)
        with self._lock:
            bits, owner, entry, built, tables, ids = (
                self._bits,
                self._owner,
                self._entry,
                self._built,
                self._tables,
                self._ids,
            )
        found: list[tuple[int, int, int]] = []  # (distance, row, query)
        for qi, query in enumerate(q):
            parts = []
            for c, (values, order) in enumerate(tables):
                probes = np.bitwise_xor(query.view(np.uint16)[c], _ONE_BIT_AWAY)
                lo = np.searchsorted(values, probes, "left")
                hi = np.searchsorted(values, probes, "right")
                parts += [order[a:b] for a, b in zip(lo, hi, strict=True) if b > a]
            candidates = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
            tail = np.arange(built, len(bits))
            rows = np.concatenate([candidates, tail]) if len(tail) else candidates
            if len(rows) == 0:
                continue
            d = hamming(bits[rows], query)
            for row, dist in zip(rows[d <= max_distance], d[d <= max_distance], strict=True):
                found.append((int(dist), int(row), qi))
        found.sort()
        return [Match(ids[owner[row]], dist, int(entry[row]), qi) for dist, row, qi in found]

    # --- snapshot ---------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write a snapshot atomically (temp file, fsync, rename): a crash leaves the old one."""
        with self._lock:
            arrays = {
                "bits": self._bits,
                "owner": self._owner,
                "entry": self._entry,
                "ids": np.array(self._ids, dtype=np.str_),
                **self.sound.arrays(),
            }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> FingerprintIndex:
        """A snapshot written by save(); raises ValueError if it is damaged."""
        try:
            with np.load(path, allow_pickle=False) as data:
                bits, owner, entry, ids = data["bits"], data["owner"], data["entry"], [str(x) for x in data["ids"]]
                sound = SoundIndex.from_arrays(data)
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"the index snapshot {path} is unreadable ({exc})") from None
        n = len(bits)
        if (
            bits.dtype != np.uint64
            or bits.shape != (n, 4)
            or owner.shape != (n,)
            or entry.shape != (n,)
            or (n and not 0 <= owner.min() <= owner.max() < len(ids))
            or len(set(ids)) != len(ids)
        ):
            raise ValueError(f"the index snapshot {path} is inconsistent")
        index = cls()
        index._bits, index._owner, index._entry = bits.copy(), owner.astype(np.int32), entry.astype(np.int32)
        index._ids = ids
        index._number = {m: i for i, m in enumerate(ids)}
        index._catalogue = functools.reduce(operator.xor, map(_digest, ids), 0)
        index.sound = sound
        index._build()
        return index
