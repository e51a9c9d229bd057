"""Which parts of a submitted clip are which parts of the signed original.

Evidence, per decoded frame of the submitted clip:
- the watermark's presence (known pattern, known offset, CFAR-calibrated);
- a perceptual fingerprint, matched against the manifest's fingerprints of the original
  at every quarter second ("timeline positions").

Rules, designed so that a fake is never called official:
- a stretch is mapped to the original by its anchors (frames that match a timeline
  position), and then *every* timeline position inside it must match the clip's frame
  at that time: stamping the public mark onto other pictures, replacing pictures,
  slowing down or speeding up all fail here and become "changed";
- a stretch without the mark is official only if every timeline position inside it
  matches, or, when it is too short to hold one, if it joins official footage at the
  same offset on both sides without a visual jump (a weak mark, not a splice);
- everything else without the mark is "foreign".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realmark.fingerprint import MATCH_DISTANCE, hamming, pairwise
from realmark.manifest.model import TIMELINE_STEP_S as STEP

MARK_PRESENT = 3.0  # mean presence score over a window for "carries the mark"
WINDOW = 7  # frames averaged per presence decision (then edges are refined per frame)
MARK_SINGLE = 2.0  # a single frame below this is taken as unmarked when refining an edge
CONTINUITY = 64  # fingerprint distance between neighbouring frames above which the picture jumps
OFFSET_TOLERANCE = 0.25  # seconds: anchors within this of a group's offset belong to it
# Scores are CFAR-calibrated per frame (codec.Presence) and averaged, not summed: frames
# of a static foreign shot are near copies of each other, so summing would multiply one
# unlucky correlation instead of averaging noise away.


@dataclass(frozen=True)
class Range:
    kind: str  # "official", "foreign" (no watermark), "changed" (pictures that do not match)
    clip_start: float
    clip_end: float
    original_start: float | None = None
    original_end: float | None = None

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "clip_start": round(self.clip_start, 2), "clip_end": round(self.clip_end, 2)}
        if self.original_start is not None:
            out.update(original_start=round(self.original_start, 2), original_end=round(self.original_end, 2))
        return out


def anchors(original: np.ndarray, query: np.ndarray, chunk: int = 2048) -> list[tuple[float, int, int]]:
    """(original time in seconds, query frame index, distance) for mutual best matches,
    computed in chunks so memory stays bounded for long originals and clips."""
    if len(original) == 0 or len(query) == 0:
        return []
    best_frame = np.zeros(len(original), np.int64)
    best_frame_d = np.zeros(len(original), np.int32)
    best_second = np.zeros(len(query), np.int64)
    best_second_d = np.full(len(query), 1 << 30, np.int64)
    for lo in range(0, len(original), chunk):
        d = pairwise(original[lo : lo + chunk], query)  # (k, F)
        best_frame[lo : lo + chunk] = d.argmin(axis=1)
        best_frame_d[lo : lo + chunk] = d.min(axis=1)
        col = d.argmin(axis=0)
        col_d = d[col, np.arange(d.shape[1])]
        better = col_d < best_second_d
        best_second[better], best_second_d[better] = col[better] + lo, col_d[better]
    return [
        (k * STEP, int(f), int(best_frame_d[k]))
        for k, f in enumerate(best_frame)
        if best_frame_d[k] <= MATCH_DISTANCE and best_second[f] == k
    ]


def windowed(scores: np.ndarray) -> np.ndarray:
    """Each frame's presence averaged with its neighbours' (fewer at the clip's ends)."""
    sums = np.convolve(scores, np.ones(WINDOW), mode="same")
    counts = np.convolve(np.ones_like(scores), np.ones(WINDOW), mode="same")
    return sums / np.maximum(counts, 1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[0::2], edges[1::2], strict=True))


def match(
    times: np.ndarray, presence: np.ndarray, original: np.ndarray, query: np.ndarray, clip_end: float
) -> tuple[list[Range], list[tuple[float, int, int]]]:
    """Split the clip into official / foreign / changed ranges, mapped to the original."""
    n = len(times)
    times = np.asarray(times, dtype=np.float64)
    single = np.asarray(presence, dtype=np.float64)
    duration = len(original) * STEP  # the original's timeline covers [0, duration)
    marked = windowed(single) >= MARK_PRESENT
    # The window blurs a splice's edges; move each edge of an unmarked run outward while
    # the frame there, on its own, shows no mark.
    for start, end in _runs(~marked):
        while start > 0 and single[start - 1] < MARK_SINGLE:
            start -= 1
        while end < n and single[end] < MARK_SINGLE:
            end += 1
        marked[start:end] = False
    found = sorted(anchors(original, query), key=lambda a: a[1])
    frame_step = float(np.median(np.diff(times))) if n > 1 else STEP

    def edge(i: int) -> float:
        """The time between frames i-1 and i."""
        if i <= 0:
            return 0.0
        if i >= n:
            return float(clip_end)
        return float(times[i - 1] + times[i]) / 2

    def positions_match(start: int, end: int, offset: float) -> tuple[bool, list[int]]:
        """Do the clip's frames at every timeline position inside [start, end) match
        the original's fingerprint there? Returns (all match, indices of frames that fail)."""
        failed = []
        for k in range(len(original)):
            t = k * STEP - offset
            if edge(start) <= t < edge(end):
                f = int(np.abs(times - t).argmin())
                # The signer fingerprinted the first frame at or after the position; the
                # nearest frame here may be the one before it, across a scene cut. So
                # that frame counts too, but never an earlier one: a fake frame at the
                # position must not pass on its official neighbour.
                after = min(int(np.searchsorted(times, t - 1e-6)), n - 1)
                near = {f, after} if abs(times[after] - t) <= 1.5 * frame_step else {f}
                if min(hamming(original[k], query[g]) for g in near) > MATCH_DISTANCE:
                    failed.append(f)
        return not failed, failed

    def offset_near(i: int, before: bool) -> float | None:
        pool = [k - times[f] for k, f, _ in found if (f < i if before else f >= i)]
        return (pool[-1] if before else pool[0]) if pool else None

    # Unmarked stretches: official only on positive evidence.
    for start, end in _runs(~marked):
        inside = [k - times[f] for k, f, _ in found if start <= f < end]
        left, right = offset_near(start, True), offset_near(end, False)
        if inside:
            offset = float(np.median(inside))
            holds = any(edge(start) <= k * STEP - offset < edge(end) for k in range(len(original)))
            if holds and positions_match(start, end, offset)[0]:
                marked[start:end] = True
            continue
        if left is None or right is None or abs(left - right) > OFFSET_TOLERANCE:
            continue
        holds_position = any(edge(start) <= k * STEP - left < edge(end) for k in range(len(original)))
        if holds_position:
            if positions_match(start, end, left)[0]:
                marked[start:end] = True
        elif (
            start > 0
            and end < n
            and hamming(query[start - 1], query[start]) <= CONTINUITY
            and hamming(query[end - 1], query[end]) <= CONTINUITY
        ):
            marked[start:end] = True  # a weak mark inside continuous official footage

    ranges: list[Range] = [Range("foreign", edge(s), edge(e)) for s, e in _runs(~marked)]
    for start, end in _runs(marked):
        inside = [(k, f) for k, f, _ in found if start <= f < end]
        if not inside:
            # Marked, but no frame matched the original: changed, unless too short to
            # hold even one timeline position (then the mark is all there is).
            kind = "changed" if edge(end) - edge(start) >= 2 * STEP else "official"
            ranges.append(Range(kind, edge(start), edge(end)))
            continue
        # Group anchors by time offset to the original (re-edits jump; speed changes drift
        # away from the group's median).
        groups: list[list[tuple[float, int]]] = [[inside[0]]]
        for k, f in inside[1:]:
            median = float(np.median([a - times[b] for a, b in groups[-1]]))
            if abs((k - times[f]) - median) <= OFFSET_TOLERANCE:
                groups[-1].append((k, f))
            else:
                groups.append([(k, f)])
        bounds = (
            [start] + [(g[0][1] + prev[-1][1] + 1) // 2 for prev, g in zip(groups, groups[1:], strict=False)] + [end]
        )
        for g, lo, hi in zip(groups, bounds, bounds[1:], strict=False):
            offset = float(np.median([k - times[f] for k, f in g]))
            first, last = edge(lo), edge(hi)
            ok, failed = positions_match(lo, hi, offset)
            outside = first + offset < -STEP or last + offset > duration + STEP
            if ok and not outside:
                ranges.append(Range("official", first, last, first + offset, last + offset))
                continue
            # Split into matching and non-matching pieces around the failed positions.
            bad = np.zeros(hi - lo, bool)
            for f in failed:
                around = np.abs(times[lo:hi] - times[f]) <= STEP / 2
                bad |= around
            if outside:
                bad[:] = True
            for s, e in _runs(bad):
                ranges.append(Range("changed", edge(lo + s), edge(lo + e)))
            for s, e in _runs(~bad):
                a, b = edge(lo + s), edge(lo + e)
                ranges.append(Range("official", a, b, a + offset, b + offset))
    ranges.sort(key=lambda r: r.clip_start)
    return ranges, found
