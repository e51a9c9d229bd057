"""Where in the original each part of a clip comes from: one path through (clip time,
original time), found by dynamic programming.

The original is fingerprinted every STEP seconds (its timeline). For a clip played at
the original's speed from some offset (original time = clip time + offset), each of those
timeline positions lands on the clip's frame nearest to it; the offset is as good as the
fingerprint distances of its landings. Taking, for each moment, the offset whose single
landing matches best would jump about on footage that repeats itself (a loop, a chorus, a
static shot, frames repeated for a frame-rate change): a similar frame elsewhere in the
original can match a little better than the right one. So the offsets of a whole clip are
chosen together (Viterbi): every change of offset costs JUMP, as much as two timeline
positions that match nothing, so the path only changes where the pictures say so (an
edit), and stays put wherever several offsets fit equally well.

States: the candidate offsets (every offset at which some frame matches some timeline
position), binned a frame wide, and `None`, "matches nothing here" (foreign footage, or
pictures changed), which costs NOTHING_COST per clip tick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realmark.fingerprint import MATCH_DISTANCE, hamming, pairwise
from realmark.manifest.model import TIMELINE_STEP_S as STEP

NOTHING_COST = MATCH_DISTANCE + 1  # a tick that matches nothing: dearer than any match, cheaper than a miss
MISS_COST = 2 * MATCH_DISTANCE  # a landing that does not match (distances above it count as this)
JUMP = 2 * NOTHING_COST  # changing offset (an edit) needs at least two ticks of evidence
DRIFT = 2  # moving to a neighbouring offset bin (rounding, variable frame rate)
MAX_STATES = 96  # offsets kept: the best supported ones (repetitive footage offers many)
CHUNK = 2048  # timeline positions compared at once (bounded memory for hours of footage)


@dataclass(frozen=True)
class Segment:
    """Frames [start, end) of the clip, from the original at `offset` (None: nowhere)."""

    start: int
    end: int
    offset: float | None


def _candidates(times: np.ndarray, original: np.ndarray, query: np.ndarray, bin_s: float) -> np.ndarray:
    """Offset bins (integers, bin_s wide) supported by matching (position, frame) pairs,
    the best supported first (that order breaks ties), at most MAX_STATES."""
    support: dict[int, int] = {}
    for lo in range(0, len(original), CHUNK):
        d = pairwise(original[lo : lo + CHUNK], query)
        k, f = np.nonzero(d <= MATCH_DISTANCE)
        bins = np.round(((k + lo) * STEP - times[f]) / bin_s).astype(np.int64)
        values, counts = np.unique(bins, return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist(), strict=True):
            support[v] = support.get(v, 0) + c
    ranked = sorted(support, key=lambda v: -support[v])[:MAX_STATES]
    return np.array(ranked, np.int64)


def path(times: np.ndarray, original: np.ndarray, query: np.ndarray) -> list[Segment]:
    """Segments covering every frame of the clip, in order."""
    n = len(times)
    if n == 0:
        return []
    frame_step = float(np.median(np.diff(times))) if n > 1 else STEP
    bin_s = max(frame_step, 1e-3)
    states = _candidates(times, original, query, bin_s) if len(original) else np.zeros(0, np.int64)
    ticks = max(1, int(np.ceil((times[-1] + frame_step / 2) / STEP)))
    # Emission costs: ticks x (states + nothing).
    cost = np.full((ticks, len(states) + 1), float(NOTHING_COST))
    landing = np.full((ticks, len(states)), -1, np.int64)  # the frame each state's landing falls on
    position = np.full((ticks, len(states)), -1, np.int64)  # the timeline position that lands
    for s, b in enumerate(states):
        offset = b * bin_s
        k = np.arange(len(original))
        at = k * STEP - offset  # clip time where position k lands
        inside = (at >= -frame_step / 2) & (at <= times[-1] + frame_step / 2)
        k, at = k[inside], at[inside]
        f = np.clip(np.searchsorted(times, at), 1, n - 1) if n > 1 else np.zeros(len(at), np.int64)
        if n > 1:
            f = np.where(np.abs(times[f - 1] - at) <= np.abs(times[f] - at), f - 1, f)
        tick = np.clip(np.floor((at + 1e-9) / STEP).astype(np.int64), 0, ticks - 1)
        d = hamming(original[k], query[f])
        cost[tick, s] = np.minimum(d, MISS_COST)
        landing[tick, s], position[tick, s] = f, k
    # Viterbi: stay (free), drift to a neighbouring bin, or jump anywhere (JUMP).
    width = len(states) + 1
    total = cost[0].copy()
    total[: len(states)] += 1e-3 * np.arange(len(states)) / max(1, len(states))  # ties: the best supported offset
    back = np.zeros((ticks, width), np.int64)
    order = np.argsort(states)  # drift moves between neighbouring bins: in bin order
    by_bin = states[order]
    neighbour = np.abs(np.diff(by_bin)) == 1 if len(states) > 1 else np.zeros(0, bool)
    for t in range(1, ticks):
        best = int(total.argmin())
        choice = np.full(width, best)
        value = np.full(width, total[best] + JUMP)
        stay = total <= value
        value[stay], choice[stay] = total[stay], np.arange(width)[stay]
        if len(neighbour):  # from the bin below or above (same edit, a frame off)
            for step in (-1, 1):
                src = np.arange(len(states)) + step  # positions in bin order
                ok = (src >= 0) & (src < len(states))
                joined = np.zeros(len(states), bool)
                joined[ok] = neighbour[np.minimum(np.arange(len(states)), src)[ok]]
                target, source = order[ok & joined], order[src[ok & joined]]
                drift = total[source] + DRIFT
                better = drift < value[target]
                value[target[better]], choice[target[better]] = drift[better], source[better]
        total = value + cost[t]
        back[t] = choice
    chosen = np.empty(ticks, np.int64)
    chosen[-1] = int(total.argmin())
    for t in range(ticks - 1, 0, -1):
        chosen[t - 1] = back[t, chosen[t]]
    return _segments(times, query, states, bin_s, chosen, cost)


def _segments(times, query, states, bin_s, chosen, cost) -> list[Segment]:
    """Runs of ticks on one offset (neighbouring bins joined), as frame ranges. Where the
    offset changes, the boundary is put at the clip's largest picture change (the cut)."""
    nothing = len(states)
    runs: list[tuple[int, int, list[int]]] = []  # (first tick, last tick + 1, states)
    for t, s in enumerate(chosen.tolist()):
        if runs and (
            s == runs[-1][2][-1]
            or (s != nothing and runs[-1][2][-1] != nothing and abs(states[s] - states[runs[-1][2][-1]]) == 1)
        ):
            runs[-1] = (runs[-1][0], t + 1, runs[-1][2] + [s])
        else:
            runs.append((t, t + 1, [s]))
    n = len(times)
    bounds = [0]
    for (_, end, _), (start, _, _) in zip(runs, runs[1:], strict=False):
        lo = int(np.searchsorted(times, (start - 1) * STEP))  # the cut lies within a tick of the change
        hi = int(np.searchsorted(times, (end + 1) * STEP))
        lo, hi = max(lo, bounds[-1] + 1), min(hi, n - 1)
        if hi > lo:
            jumps = hamming(query[lo - 1 : hi], query[lo : hi + 1])
            bounds.append(lo + int(np.argmax(jumps)))
        else:
            bounds.append(min(max(int(np.searchsorted(times, start * STEP)), bounds[-1] + 1), n))
    bounds.append(n)
    out = []
    for (_, _, picked), a, b in zip(runs, bounds, bounds[1:], strict=False):
        if b <= a:
            continue
        on = [s for s in picked if s != nothing]
        offset = float(np.median(states[on]) * bin_s) if on else None
        out.append(Segment(a, b, offset))
    return out
