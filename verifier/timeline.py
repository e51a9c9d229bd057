"""Which parts of a submitted clip are which parts of the signed original.

A part is "foreign" only when it carries no mark *and* none of its frames matches the
original's fingerprints; "changed" when it carries the mark but its frames at timeline
positions do not match; "official" otherwise, mapped to the original's time by anchors.

Two kinds of evidence, both per frame of the submitted clip:
- the watermark's presence (known pattern, known offset): official footage carries it,
  spliced-in foreign footage does not, so boundaries are frame-accurate;
- perceptual fingerprints, matched against the manifest's fingerprint of the frame at
  every quarter second of the original ("anchors"), which give the time mapping and
  check that marked frames still show what was signed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realmark.manifest.model import TIMELINE_INTERVAL_MS

ANCHOR_DISTANCE = 31  # PDQ's "same picture" threshold
STEP = TIMELINE_INTERVAL_MS / 1000  # seconds between the original's timeline fingerprints
MARK_PRESENT = 3.0  # mean presence score over a window for "carries the mark"
WINDOW = 7  # samples averaged per presence decision (then edges are refined per sample)
MARK_SINGLE = 2.0  # a single sample below this is taken as unmarked when refining an edge
# Scores are CFAR-calibrated per frame (codec.Presence) and averaged, not summed: frames
# of a static foreign shot are near copies of each other, so summing would multiply
# one unlucky correlation instead of averaging noise away.
OFFSET_TOLERANCE = 0.25  # seconds: anchors closer than this in offset belong to one run
MIN_RANGE = 0.2  # seconds: shorter unmarked runs are treated as noise, not splices


@dataclass(frozen=True)
class Range:
    kind: str  # "official", "foreign" (no watermark), "changed" (watermark, other content)
    clip_start: float
    clip_end: float
    original_start: float | None = None
    original_end: float | None = None

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "clip_start": round(self.clip_start, 2), "clip_end": round(self.clip_end, 2)}
        if self.original_start is not None:
            out.update(original_start=round(self.original_start, 2), original_end=round(self.original_end, 2))
        return out


def _bits(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes -> (n, 256) float32 of +-1, so Hamming distance is a matmul."""
    return np.unpackbits(hashes, axis=1).astype(np.float32) * 2 - 1


def anchors(original: np.ndarray, query: np.ndarray) -> list[tuple[float, int, int]]:
    """(original time in seconds, query frame index, distance) for mutual best matches
    between the original's timeline fingerprints and the clip's sampled frames."""
    if len(original) == 0 or len(query) == 0:
        return []
    distance = ((256 - _bits(original) @ _bits(query).T) / 2).astype(np.int32)  # (K, F)
    best_frame = distance.argmin(axis=1)
    best_second = distance.argmin(axis=0)
    out = []
    for k, f in enumerate(best_frame):
        d = int(distance[k, f])
        if d <= ANCHOR_DISTANCE and best_second[f] == k:
            out.append((k * STEP, int(f), d))
    return out


def windowed(scores: np.ndarray) -> np.ndarray:
    """Each sample's presence averaged with its neighbours' (fewer at the clip's ends)."""
    sums = np.convolve(scores, np.ones(WINDOW), mode="same")
    counts = np.convolve(np.ones_like(scores), np.ones(WINDOW), mode="same")
    return sums / np.maximum(counts, 1)


def _hamming(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[0::2], edges[1::2]))


def match(
    times: np.ndarray, frame_duration: float, presence: np.ndarray, original: np.ndarray, query: np.ndarray, clip_end: float
) -> tuple[list[Range], list[tuple[int, int, int]]]:
    """Split the clip into official / foreign / changed ranges, mapped to the original."""
    n = len(times)
    single = np.asarray(presence, dtype=np.float64)
    marked = windowed(single) >= MARK_PRESENT
    # The window blurs a splice's edges by up to two samples; move each edge of an
    # unmarked run outward while the sample there, on its own, shows no mark.
    for start, end in _runs(~marked):
        while start > 0 and single[start - 1] < MARK_SINGLE:
            start -= 1
        while end < n and single[end] < MARK_SINGLE:
            end += 1
        marked[start:end] = False
    # Runs shorter than MIN_RANGE inside the other kind are noise: a splice lasts longer.
    min_frames = max(1, int(round(MIN_RANGE / frame_duration)))
    for value in (False, True):
        for start, end in _runs(marked == value):
            if end - start < min_frames and 0 < start and end < n:
                marked[start:end] = not value
    found = sorted(anchors(original, query), key=lambda a: a[1])

    def edge(i: int) -> float:
        """The time between samples i-1 and i: half a sample gap from either at most."""
        if i <= 0:
            return 0.0
        if i >= n:
            return float(clip_end)
        return float(times[i - 1] + times[i]) / 2

    # Foreign means *both* kinds of evidence are missing. A run whose mark reads weak
    # (fast motion re-encoded at low bitrate smears a static pattern) but which holds a
    # frame matching the original's timeline fingerprint is official footage.
    for start, end in _runs(~marked):
        if any(start <= f < end for _, f, _ in found):
            marked[start:end] = True
            continue
        # Inside continuous official footage (the same time offset on both sides) the
        # run's timeline positions are known: the original's fingerprint at each must
        # match the clip's frame there. A splice shifts the offset or fails this check.
        before = [(k - times[f]) for k, f, _ in found if f < start]
        after = [(k - times[f]) for k, f, _ in found if f >= end]
        if before and after and abs(before[-1] - after[0]) <= OFFSET_TOLERANCE:
            offset = before[-1]
            expected = [k for k in range(len(original)) if edge(start) <= k * STEP - offset < edge(end)]
            nearest = [int(np.abs(times - (k * STEP - offset)).argmin()) for k in expected]
            if all(_hamming(original[k], query[f]) <= ANCHOR_DISTANCE for k, f in zip(expected, nearest)):
                marked[start:end] = True
    ranges: list[Range] = []

    for start, end in _runs(~marked):
        ranges.append(Range("foreign", edge(start), edge(end)))
    for start, end in _runs(marked):
        inside = [(k, f, d) for k, f, d in found if start <= f < end]
        if not inside:
            # Marked, but no frame at a timeline position of the original matched: either
            # the run is too short to hold one, or the pictures were changed.
            kind = "changed" if edge(end) - edge(start) >= 3 * STEP else "official"
            ranges.append(Range(kind, edge(start), edge(end)))
            continue
        # Split the marked run where the time offset to the original jumps (re-edits).
        inside.sort(key=lambda a: a[1])
        groups = [[inside[0]]]
        for a in inside[1:]:
            prev = groups[-1][-1]
            if abs((a[0] - times[a[1]]) - (prev[0] - times[prev[1]])) <= OFFSET_TOLERANCE:
                groups[-1].append(a)
            else:
                groups.append([a])
        bounds = [start] + [(g[0][1] + prev[-1][1] + 1) // 2 for prev, g in zip(groups, groups[1:])] + [end]
        for g, lo, hi in zip(groups, bounds, bounds[1:]):
            offset = float(np.median([k - times[f] for k, f, _ in g]))
            first, last = edge(lo), edge(hi)
            ranges.append(Range("official", first, last, first + offset, last + offset))
    ranges.sort(key=lambda r: r.clip_start)
    return ranges, found
