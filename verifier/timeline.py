"""Which parts of a submitted clip are which parts of the signed original.

Evidence, per decoded frame of the submitted clip:
- the watermark's presence (known pattern, known offset, CFAR-calibrated);
- a perceptual fingerprint, matched against the manifest's fingerprints of the original
  at every quarter second ("timeline positions").

Rules, designed so that a fake is never called official:
- a stretch is mapped to the original by one path through (clip time, original time)
  chosen for the whole clip (alignment.py), and then *every* timeline position inside
  it must match the clip's frame at that time: stamping the public mark onto other pictures, replacing pictures,
  slowing down or speeding up all fail here and become "changed";
- a stretch without the mark is official only if every timeline position inside it
  matches, or, when it is too short to hold one, if it joins official footage at the
  same offset on both sides without a visual jump (a weak mark, not a splice);
- everything else without the mark is "foreign".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realmark.fingerprint import MATCH_DISTANCE, grid, hamming
from realmark.manifest.model import TIMELINE_STEP_S as STEP

from . import alignment

MARK_PRESENT = 3.0  # mean presence score over a window for "carries the mark"
WINDOW = 7  # frames averaged per presence decision (then edges are refined per frame)
MARK_SINGLE = 2.0  # a single frame below this is taken as unmarked when refining an edge
CONTINUITY = 64  # fingerprint distance between neighbouring frames above which the picture jumps
# A weakly marked clip's window can dip just under MARK_PRESENT around a frame that on its
# own still shows the mark (a 720 px letterbox of fast camera footage: a frame at 2.65,
# its window at 2.997, in one x264 encode of four), where fast footage leaves no
# continuity to judge by. Up to this many frames between official footage at one
# offset, each at MARK_SINGLE or more, are official: a frame of other pictures scores
# about N(0, 1), so one passes this way about once in 44, two about once in 2,000 (or
# once in 44 if they are one still picture): a flash of 33-67 ms.
WEAK_DIP_FRAMES = 2
OFFSET_TOLERANCE = 0.25  # seconds: official pieces whose offsets differ by less are one stretch
# Local changes (a face swapped, an object painted out): a region cell of a timeline
# position's frame off the signed frame's, after the tone curve, by more than the limit:
# REGION_LIMIT levels, or REGION_NOISE times the clip's typical worst cell (the median over
# its positions), whichever is larger, so heavier compression needs a larger change.
# Measured on 1080p and 720p clips (README "Local changes in clips"): CRF 28 and HEVC move
# no cell by more than 3.6 levels, CRF 32 at 720p by 7.8 (typical worst 3.5); a face-sized
# patch of other footage moves the cells it covers by 16-71 at most positions. Two such
# positions within REGION_WINDOW make a change (one frame at one position is a glitch, and
# under 0.5 s is allowed).
REGION_LIMIT = 10.0
REGION_NOISE = 4.0
REGION_WINDOW = 1.0  # seconds
REGION_MIN_POSITIONS = 2
# Positions in a row whose frames a copy certainly lacks (a gap of variable rate) that may
# go unchecked between two that match: a fifth of frames dropped at random leaves two in
# a row about once in 25 pairs, and what they can hide is under 0.75 s.
MISSING_RUN = 2
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
    box: tuple[int, int, int, int] | None = None  # changed: (x, y, width, height) in the signed frame's px

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "clip_start": round(self.clip_start, 2), "clip_end": round(self.clip_end, 2)}
        if self.original_start is not None:
            out.update(original_start=round(self.original_start, 2), original_end=round(self.original_end, 2))
        if self.box is not None:
            out["box"] = dict(zip(("x", "y", "width", "height"), self.box, strict=True))
        return out


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
    times: np.ndarray,
    presence: np.ndarray,
    original: np.ndarray,
    query: np.ndarray,
    clip_end: float,
    original_frame_step: float | None = None,
    regions: tuple[np.ndarray, np.ndarray, tuple[int, int]] | None = None,
) -> tuple[list[Range], list[tuple[float, int, int]]]:
    """Split the clip into official / foreign / changed ranges, mapped to the original
    (original_frame_step: seconds between the original's frames, when known; regions: the
    original's grid.regions per timeline position, the clip's per frame, and the signed
    frame's size, to find local changes inside official stretches)."""
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
    frame_step = float(np.median(np.diff(times))) if n > 1 else STEP
    segments = [_refined(s, times, original, query, frame_step) for s in alignment.path(times, original, query)]

    def edge(i: int) -> float:
        """The time between frames i-1 and i."""
        if i <= 0:
            return 0.0
        if i >= n:
            return float(clip_end)
        return float(times[i - 1] + times[i]) / 2

    def positions(start: int, end: int, offset: float) -> list[int]:
        """The timeline positions that land inside frames [start, end) at offset."""
        return [k for k in range(len(original)) if edge(start) <= k * STEP - offset < edge(end)]

    def dropped(t: float) -> bool:
        """May the original's frame at clip time t be missing from the copy? It has fewer
        frames a second than the original, or a gap of variable rate there."""
        after = min(int(np.searchsorted(times, t - 1e-6)), n - 1)
        fewer = original_frame_step is not None and frame_step > 1.2 * original_frame_step
        return 0 < after and (fewer or times[after] - times[after - 1] > 1.5 * frame_step)

    def near_frames(t: float) -> set[int]:
        """The clip's frames that may show the original's timeline frame at clip time t."""
        f = int(np.abs(times - t).argmin())
        # The signer fingerprinted the first frame at or after the position; the nearest
        # frame here may be the one before it, across a scene cut. So that frame counts
        # too, but never an earlier one: a fake frame at the position must not pass on
        # its official neighbour.
        after = min(int(np.searchsorted(times, t - 1e-6)), n - 1)
        near = {f, after} if abs(times[after] - t) <= 1.5 * frame_step else {f}
        if dropped(t):
            # The original's frame at the position was dropped (a conversion to fewer
            # frames a second, or a gap of variable rate): the frames either side of it
            # are what the copy shows there, and nothing shown there is fake.
            near.add(after - 1)
        return near

    def missing(k: int, offset: float) -> bool:
        """Does the copy certainly lack the original's frame at position k? No frame of it
        lies within half an original frame of that frame's time (a gap of variable rate,
        where the kept frames keep their times)."""
        if original_frame_step is None:
            return False
        frame = np.ceil(k * STEP / original_frame_step - 1e-9) * original_frame_step - offset
        return float(np.abs(times - frame).min()) >= 0.5 * original_frame_step

    def positions_match(start: int, end: int, offset: float, checked_around: bool = False) -> tuple[bool, list[int]]:
        """Do the clip's frames at every timeline position inside [start, end) match
        the original's fingerprint there? Returns (all match, indices of frames that fail).

        Where the copy may lack the position's frame (dropped()), its neighbours can show
        pictures 30-120 bits away from it in fast footage: one 30 fps frame of a bike
        race is not the next. Such failures are taken as not shown rather than changed
        when they lie between two positions that match (or official footage:
        checked_around), and are either one position alone, or at most MISSING_RUN
        positions whose frames certainly are not in the copy (missing()). A change of
        0.5 s or more in a copy with fewer frames a second spans two positions and fails;
        README "Not yet" says what a gap can hide."""
        checked = []  # (matches, the clip's frame there, may be dropped, certainly missing)
        for k in positions(start, end, offset):
            t = k * STEP - offset
            f = int(np.abs(times - t).argmin())
            ok = min(hamming(original[k], query[g]) for g in near_frames(t)) <= MATCH_DISTANCE
            checked.append((ok, f, dropped(t), missing(k, offset)))
        failed = []
        i = 0
        while i < len(checked):
            if checked[i][0]:
                i += 1
                continue
            j = i
            while j < len(checked) and not checked[j][0]:
                j += 1
            run = checked[i:j]
            # A matching position either side (checked_around: the footage either side of
            # [start, end) is official, its positions matched).
            bounded = (i > 0 or checked_around) and (j < len(checked) or checked_around)
            alone = len(run) == 1 and run[0][2]
            gap = len(run) <= MISSING_RUN and all(c[3] for c in run)
            if not (bounded and (alone or gap)):
                failed += [c[1] for c in run]
            i = j
        return not failed, failed

    def pieces(start: int, end: int) -> list[tuple[int, int, float | None]]:
        """The path's segments within frames [start, end)."""
        return [(max(s.start, start), min(s.end, end), s.offset) for s in segments if s.start < end and s.end > start]

    def offset_beside(i: int, before: bool) -> float | None:
        """The path's offset at frame i-1 (before) or at frame i (None: nowhere, or no frame)."""
        at = i - 1 if before else i
        return next((s.offset for s in segments if s.start <= at < s.end), None)

    def continuous(i: int) -> bool:
        """No picture jump between frames i-1 and i."""
        return 0 < i < n and hamming(query[i - 1], query[i]) <= CONTINUITY

    def official_cut(start: int, end: int, offset: float) -> bool:
        """Frames [start, end) join their neighbours without a jump except at one cut,
        and the original cuts there too (encoders often weaken the mark at a cut)."""
        steps = [i for i in range(max(start, 1), min(end + 1, n))]
        jumps = [i for i in steps if not continuous(i)]
        if len(jumps) != 1:
            return False
        # The positions either side of the cut: the last at or before the frame before it,
        # and the next (a position exactly on the cut's first frame is the next).
        k = int(np.floor((times[jumps[0] - 1] + offset) / STEP))
        return 0 <= k < len(original) - 1 and hamming(original[k], original[k + 1]) > CONTINUITY

    def local_changes(r: Range) -> list[Range]:
        """An official range split where a region of its pictures changed (regions)."""
        if r.kind != "official" or r.original_start is None:
            return [r]
        signed, copy, (width, height) = regions
        offset = r.original_start - r.clip_start
        start, end = int(np.searchsorted(times, r.clip_start)), int(np.searchsorted(times, r.clip_end))
        worst: list[tuple[float, np.ndarray]] = []  # (clip time, each cell's difference) per position
        if original_frame_step is not None and frame_step > 1.2 * original_frame_step:
            # Fewer frames a second than the original: the frame at a position is often
            # dropped, and its neighbours differ from it wherever things move. Regions
            # cannot be compared; the fingerprints still are.
            return [r]
        for k in positions(start, end, offset):
            if k >= len(signed):
                continue
            t = k * STEP - offset
            after = min(int(np.searchsorted(times, t - 1e-6)), n - 1)
            if 0 < after and times[after] - times[after - 1] > 1.5 * frame_step:
                continue  # a gap of variable rate: the frame at the position is not there
            # A frame either side as well: the offset is known to a quarter frame, and a
            # change worth reporting lasts far longer than a frame.
            near = near_frames(t) | {g for g in (int(np.abs(times - t).argmin()) + s for s in (-1, 1)) if 0 <= g < n}
            worst.append((t, np.min([grid.region_differences(signed[k], copy[g]) for g in near], axis=0)))
        if not worst:
            return [r]
        limit = max(REGION_LIMIT, REGION_NOISE * float(np.median([d.max() for _, d in worst])))
        changed = [(t, d > limit) for t, d in worst if (d > limit).any()]
        groups: list[list[tuple[float, np.ndarray]]] = []
        for t, cells in changed:
            if groups and t - groups[-1][-1][0] <= REGION_WINDOW:
                groups[-1].append((t, cells))
            else:
                groups.append([(t, cells)])
        out, at = [], r.clip_start
        for g in (g for g in groups if len(g) >= REGION_MIN_POSITIONS):
            a, b = max(at, g[0][0] - STEP / 2), min(r.clip_end, g[-1][0] + STEP / 2)
            if a > at:
                out.append(Range("official", at, a, at + offset, a + offset))
            rows, cols = np.nonzero(np.any([cells for _, cells in g], axis=0))
            cw, ch = width / grid.REGION_COLUMNS, height / grid.REGION_ROWS
            x, y = round(cols.min() * cw), round(rows.min() * ch)
            box = (x, y, round((cols.max() + 1) * cw) - x, round((rows.max() + 1) * ch) - y)
            out.append(Range("changed", a, b, box=box))
            at = b
        if at < r.clip_end:
            out.append(Range("official", at, r.clip_end, at + offset, r.clip_end + offset))
        return out

    # Unmarked stretches: official only on positive evidence.
    for start, end in _runs(~marked):
        matched = [(a, b, o) for a, b, o in pieces(start, end) if o is not None and positions(a, b, o)]
        if matched:
            for a, b, o in matched:
                if positions_match(a, b, o)[0]:
                    marked[a:b] = True
            continue
        left, right = offset_beside(start, True), offset_beside(end, False)
        if start == 0 or end == n:  # at an end of the clip: a weak mark on its first or last frames
            beside = right if start == 0 else left
            if beside is not None and edge(end) - edge(start) < 2 * STEP and continuous(end if start == 0 else start):
                marked[start:end] = True
            continue
        if left is None or right is None or abs(left - right) > OFFSET_TOLERANCE:
            continue
        if positions(start, end, left):
            if positions_match(start, end, left)[0] or (
                # A weak mark at a cut of the original, whose position's frame a gap of
                # variable rate took: the official footage either side is the check of
                # the positions around it.
                edge(end) - edge(start) < 2 * STEP
                and (official_cut(start, end, left) or (continuous(start) and continuous(end)))
                and positions_match(start, end, left, checked_around=True)[0]
            ):
                marked[start:end] = True
        elif continuous(start) and continuous(end):
            marked[start:end] = True  # a weak mark inside continuous official footage
        elif end - start <= WEAK_DIP_FRAMES and bool((single[start:end] >= MARK_SINGLE).all()):
            marked[start:end] = True  # a weak mark's window dipped: each frame still shows it
        elif official_cut(start, end, left):
            marked[start:end] = True  # a weak mark at a cut the original has too

    ranges: list[Range] = [Range("foreign", edge(s), edge(e)) for s, e in _runs(~marked)]
    for start, end in _runs(marked):
        for lo, hi, offset in pieces(start, end):
            first, last = edge(lo), edge(hi)
            if offset is None:
                # Marked, but matching no part of the original: changed, unless too short
                # to hold even one timeline position (then the mark is all there is).
                ranges.append(Range("changed" if last - first >= 2 * STEP else "official", first, last))
                continue
            ok, failed = positions_match(lo, hi, offset)
            outside = first + offset < -STEP or last + offset > duration + STEP
            if ok and not outside:
                ranges.append(Range("official", first, last, first + offset, last + offset))
                continue
            # Split into matching and non-matching pieces around the failed positions.
            bad = np.zeros(hi - lo, bool)
            for f in failed:
                bad |= np.abs(times[lo:hi] - times[f]) <= STEP / 2
            if outside:
                bad[:] = True
            for s, e in _runs(bad):
                ranges.append(Range("changed", edge(lo + s), edge(lo + e)))
            for s, e in _runs(~bad):
                a, b = edge(lo + s), edge(lo + e)
                ranges.append(Range("official", a, b, a + offset, b + offset))
    if regions is not None:
        ranges = [piece for r in ranges for piece in local_changes(r)]
    ranges = _joined(ranges)
    found = [
        (k * STEP, f, d)
        for seg in segments
        if seg.offset is not None
        for k in positions(seg.start, seg.end, seg.offset)
        for f in [int(np.abs(times - (k * STEP - seg.offset)).argmin())]
        for d in [int(hamming(original[k], query[f]))]
        if d <= MATCH_DISTANCE
    ]
    return ranges, found


def _refined(segment, times, original, query, frame_step):
    """The segment with its offset (found to a frame) refined to a quarter frame: the one
    whose timeline positions land on the frames that match them best."""
    if segment.offset is None:
        return segment
    lo, hi = times[segment.start], times[segment.end - 1]
    best = None
    for d in np.linspace(-frame_step, frame_step, 9):
        offset = segment.offset + d
        k = np.arange(len(original))
        at = k * STEP - offset
        inside = (at >= lo - frame_step / 2) & (at <= hi + frame_step / 2)
        if not inside.any():
            return segment
        f = np.abs(times[None, :] - at[inside][:, None]).argmin(axis=1)
        cost = float(hamming(original[k[inside]], query[f]).mean())
        if best is None or cost < best[0] - 1e-9:
            best = (cost, offset)
    return alignment.Segment(segment.start, segment.end, float(best[1]))


def _union(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None:
        return a or b
    x, y = min(a[0], b[0]), min(a[1], b[1])
    return (x, y, max(a[0] + a[2], b[0] + b[2]) - x, max(a[1] + a[3], b[1] + b[3]) - y)


def _joined(ranges: list[Range]) -> list[Range]:
    """In clip order, neighbours of one kind (and, if official, one offset) made one."""
    out: list[Range] = []
    for r in sorted(ranges, key=lambda r: r.clip_start):
        last = out[-1] if out else None
        same_offset = (
            last is not None
            and r.original_start is not None
            and last.original_start is not None
            and abs((r.original_start - r.clip_start) - (last.original_start - last.clip_start)) <= OFFSET_TOLERANCE
        )
        if last is not None and last.kind == r.kind and abs(last.clip_end - r.clip_start) < 1e-9:
            if r.kind != "official" or same_offset:
                box = _union(last.box, r.box)
                out[-1] = Range(r.kind, last.clip_start, r.clip_end, last.original_start, r.original_end, box)
                continue
            if last.original_start is None and r.original_start is None:
                out[-1] = Range(r.kind, last.clip_start, r.clip_end)
                continue
            # A marked sliver too short to place (no timeline position in it) beside
            # official footage that is placed: the same footage, so it carries the
            # neighbour's offset rather than showing as a second official part.
            placed = last if last.original_start is not None else r
            if (last.original_start is None) != (r.original_start is None):
                shift = placed.original_start - placed.clip_start
                out[-1] = Range(r.kind, last.clip_start, r.clip_end, last.clip_start + shift, r.clip_end + shift)
                continue
        out.append(r)
    return out
