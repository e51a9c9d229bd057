"""A phone photo of a screen: the mark under a perspective.

A picture photographed off a screen is seen in perspective (keystone: one edge a few
per cent shorter than the opposite one), so the tile's period changes across the
picture. No single lattice holds it together: an affine fold drifts by several cells
between the middle and the edges, and the whole picture's autocorrelation is smeared
into peaks too weak to measure the lattice from (sync.py finds the wrong one).

Near the picture's middle, though, a perspective is an affine map like any other. So
this search
1. ranks the plausible near-square lattices (SWEEP_SCALES x SWEEP_ASPECTS x SWEEP_ANGLES,
   414) by the autocorrelation of the middle ACF_WINDOW: too smeared to name the
   lattice, it still rules most of them out;
2. folds the SWEEP_KEEP it supports best on the middle SWEEP_WINDOW, in one batch;
3. climbs from the CLIMBS best whose pilot stands out, over the lattice's scale, aspect,
   angle and shear and the perspective's two terms, on windows that grow to the whole
   plane (each step widens what the fold must hold together);
4. leaves the whole plane's fold to the caller, which decodes it when its pilot stands
   out (MIN_PILOT, as any fold) and counts the attempt like any other.

Steps 1-2 (sweep()) are what every photo that gets this far pays, unmarked ones
included: about 10 ms on the working grid (AMD EPYC, 2 cores), in a thread of their own
beside the reader's panels and finer planes (reader._Search._start_sweep). On the
bench's keystone copies (22 photos, 3-8 %, JPEG or WebP) the window that led to the mark
had a pilot of 6-18.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy import ndimage

from . import sync
from .codec import ORIENTATIONS, TILE, pilot_scores
from .sync import SUBSAMPLE

# The picture fills the photo (a keystone photo is cropped to the screen's inside), so its
# mark's period on the working grid is near its signed one, magnified a little by the crop:
# 0.9x to 1.35x, in steps fine enough for a SWEEP_WINDOW window to hold (an error of half
# a step drifts by a third of a cell at its edge).
SWEEP_WINDOW = 128
SWEEP_SCALES = np.arange(0.90, 1.355, 0.01)
# The perspective stretches one axis against the other by up to about 4 % at the middle.
SWEEP_ASPECTS = (-0.03, 0.0, 0.03)
# A photo taken by hand is tilted by a degree or two (degrees; a step of 1.2 leaves at
# most 0.6, a drift of two thirds of a cell at the window's edge).
SWEEP_ANGLES = (-1.2, 0.0, 1.2)
# Of those, the SWEEP_KEEP that the autocorrelation of the middle ACF_WINDOW supports best
# are folded. On 44 of the bench's keystone copies, folding all 414 (0.55 s) led to the
# mark in 25, these 24 in 24; a window of 256 smears the peaks (19), one of 128 has too
# few periods (20).
ACF_WINDOW = 160
SWEEP_KEEP = 24
# Only mirror images, not quarter turns: a photo of a screen is taken upright.
SWEEP_ORIENTATIONS = tuple(i for i, (_, turns) in enumerate(ORIENTATIONS) if turns == 0)
# A climb costs 0.3-1 s. On 66 unmarked photos, keystones and crops of them the best
# window reached 5.56 (median 4.7): few unmarked photos climb.
SWEEP_CLIMB_FROM = 5.6
CLIMBS = 2  # best windows climbed from (distinct scales)
# Growing windows (plane pixels; the last is the whole plane) and the first step of each
# parameter: scale, aspect, angle (radians), shear, and the perspective's two terms (the
# relative change of scale over PERSPECTIVE_SPAN plane pixels, in per cent).
CLIMB_WINDOWS = (SWEEP_WINDOW, 256, 400, None, None)  # the whole plane twice, the second finer
CLIMB_STEPS = np.array([0.004, 0.01, np.radians(0.3), 0.01, 1.0, 1.0])
PERSPECTIVE_SPAN = 128.0
CLIMB_ROUNDS = 4
# The perspective terms tried either side of the middle before the climb (per cent of
# scale change over PERSPECTIVE_SPAN): a keystone of 8 % on a 1080p photo is about 4.
TILT_TERMS = np.arange(-6.0, 6.5, 1.0)


@dataclass(frozen=True)
class Fit:
    """A perspective fold of the whole plane: its pilot, the folded tile and its sub-cell
    phase, the orientation it reads in, and the affine map that holds at the plane's
    centre."""

    pilot: float
    tile: np.ndarray  # [TILE, TILE], un-oriented
    phase: tuple[int, int]  # (dy, dx) sub-cells
    orientation: tuple[bool, int]
    matrix: np.ndarray  # plane pixels per cell, at the centre
    centre: tuple[float, float]  # plane pixels: where cell (0, 0) of phase 0 starts


def _matrix(params: np.ndarray) -> np.ndarray:
    """Plane pixels per cell for (scale, aspect, angle, shear, ...)."""
    scale, aspect, angle, shear = params[:4]
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]]) @ np.array([[1 + aspect / 2, shear], [0.0, 1 - aspect / 2]])


def _window(shape: tuple[int, int], side: int | None, at: tuple[int, int] = (0, 0)) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a window of `side` centred `at` (dx, dy) from the
    plane's centre (kept inside the plane); None: the whole plane."""
    h, w = shape
    hh, ww = (h, w) if side is None else (min(h, side), min(w, side))
    top = min(max(0, (h - hh) // 2 + at[1]), h - hh)
    left = min(max(0, (w - ww) // 2 + at[0]), w - ww)
    return top, left, hh, ww


def _fold(white: np.ndarray, params: np.ndarray, side: int | None, at: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Fold a window of the plane (centred `at` from the plane's centre) along (params):
    the affine lattice at the plane's centre, seen through the perspective
    x -> x / (1 + p.x) about that centre."""
    top, left, hh, ww = _window(white.shape, side, at)
    h, w = white.shape
    x = (np.arange(left, left + ww) + 0.5 - w / 2)[None, :]
    y = (np.arange(top, top + hh) + 0.5 - h / 2)[:, None]
    d = 1.0 + (params[4] * x + params[5] * y) / (PERSPECTIVE_SPAN * 100.0)
    xp, yp = x / d, y / d
    inverse = np.linalg.inv(_matrix(params)) * SUBSAMPLE
    cells = TILE * SUBSAMPLE
    u = np.floor(inverse[0, 0] * xp + inverse[0, 1] * yp).astype(np.int64) & (cells - 1)
    v = np.floor(inverse[1, 0] * xp + inverse[1, 1] * yp).astype(np.int64) & (cells - 1)
    weights = white[top : top + hh, left : left + ww].ravel().astype(np.float64)
    fine = np.bincount((v * cells + u).ravel(), weights=weights, minlength=cells * cells)
    return sync.phases_of(fine.reshape(cells, cells))


def _score(
    white: np.ndarray, params: np.ndarray, side: int | None, orientation: int, at: tuple[int, int] = (0, 0)
) -> tuple[float, np.ndarray]:
    phases = _fold(white, params, side, at)
    return float(pilot_scores(phases, (orientation,)).max()), phases


@cache
def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sweep's lattices: (params rows (scale, aspect, angle, shear, 0, 0) [n, 6],
    their tile sides v1 and v2 in plane pixels [n, 2] each)."""
    grid = np.array(
        [(s, a, np.radians(t), 0.0, 0.0, 0.0) for s in SWEEP_SCALES for a in SWEEP_ASPECTS for t in SWEEP_ANGLES]
    )
    sides = np.stack([_matrix(row) for row in grid]) * TILE  # [n, (x, y), (v1, v2)]
    return grid, sides[:, :, 0], sides[:, :, 1]


def _likely(white: np.ndarray) -> np.ndarray:
    """The sweep's lattices that the middle of the plane's autocorrelation supports best:
    SWEEP_KEEP of them. Too weak to name the lattice (the perspective smears it), it is
    strong enough to rule most of them out, which saves folding them."""
    grid, v1, v2 = _grid()
    top, left, hh, ww = _window(white.shape, ACF_WINDOW)
    lag = int(np.ceil(TILE * SWEEP_SCALES[-1] * (1 + max(SWEEP_ASPECTS)) * np.sqrt(2))) + 3
    sub = np.ascontiguousarray(white[top : top + hh, left : left + ww])
    z, _ = sync._zscores(sync.autocorrelation(sub, (lag, lag)), sub.shape, (lag, lag))
    # A peak smeared by the perspective across the window stands a pixel off
    z = sync.max_around(z)
    support = np.zeros(len(grid))
    for vector in (v1, v2, v1 + v2, v1 - v2):  # the shortest lattice vectors and diagonals
        # the autocorrelation is kept for dx >= 0 (it is symmetric)
        flip = np.where((vector[:, 0] < 0) | ((vector[:, 0] == 0) & (vector[:, 1] < 0)), -1.0, 1.0)[:, None]
        dx, dy = (vector * flip).T
        support += ndimage.map_coordinates(z, [dy + lag, dx], order=1, mode="nearest")
    return grid[np.argsort(-support)[:SWEEP_KEEP]]


def searchable(white: np.ndarray) -> bool:
    """Whether a plane is large enough to be searched (it holds a SWEEP_WINDOW)."""
    return min(white.shape) >= SWEEP_WINDOW


def sweep(white: np.ndarray) -> list[tuple[float, np.ndarray, int]]:
    """Steps 1-2: the likely lattices folded on the middle window at once; the best
    (pilot, params, orientation index), best first, one per scale (search() climbs from
    them)."""
    top, left, hh, ww = _window(white.shape, SWEEP_WINDOW)
    h, w = white.shape
    x = (np.arange(left, left + ww, dtype=np.float32) + 0.5 - w / 2)[None, None, :]
    y = (np.arange(top, top + hh, dtype=np.float32) + 0.5 - h / 2)[None, :, None]
    grid = _likely(white)
    cells = TILE * SUBSAMPLE
    inverse = (np.linalg.inv(np.stack([_matrix(row) for row in grid])) * SUBSAMPLE).astype(np.float32)
    u = np.floor(inverse[:, 0, 0, None, None] * x + inverse[:, 0, 1, None, None] * y).astype(np.int32)
    v = np.floor(inverse[:, 1, 0, None, None] * x + inverse[:, 1, 1, None, None] * y).astype(np.int32)
    index = ((v & (cells - 1)) * cells + (u & (cells - 1))) + (np.arange(len(grid), dtype=np.int32) * cells * cells)[
        :, None, None
    ]
    weights = np.broadcast_to(white[top : top + hh, left : left + ww], index.shape).ravel().astype(np.float64)
    fine = np.bincount(index.ravel(), weights=weights, minlength=len(grid) * cells * cells)
    phases = sync.phases_of(fine.reshape(len(grid), cells, cells))
    pilots = pilot_scores(phases.reshape(-1, TILE, TILE), SWEEP_ORIENTATIONS)
    pilots = pilots.reshape(len(grid), -1, len(SWEEP_ORIENTATIONS)).max(axis=1)  # [n, orientations]
    found = []
    for n in np.argsort(-pilots.max(axis=1)):
        if any(abs(grid[n][0] - p[1][0]) < 0.015 for p in found):
            continue  # a neighbour of a better one
        o = SWEEP_ORIENTATIONS[int(np.argmax(pilots[n]))]
        found.append((float(pilots[n].max()), grid[n].copy(), o))
        if len(found) == CLIMBS:
            break
    return found


def _tilted(white: np.ndarray, params: np.ndarray, orientation: int) -> np.ndarray:
    """The middle's lattice with the perspective's two terms that hold it together best in
    windows either side of the middle, left and right, then above and below (in each,
    the period is the middle's, scaled by the perspective): a starting point near
    enough for the climb, which alone can wander off on a wide picture."""
    h, w = white.shape
    params = params.copy()
    for term, reach in ((4, w), (5, h)):
        offset = round(0.3 * reach)
        if offset < SWEEP_WINDOW // 2:
            continue
        sides = [(offset, 0), (-offset, 0)] if term == 4 else [(0, offset), (0, -offset)]
        best = None
        for value in TILT_TERMS:
            trial = params.copy()
            trial[term] = value
            pilot = sum(_score(white, trial, SWEEP_WINDOW, orientation, at)[0] for at in sides)
            if best is None or pilot > best[0]:
                best = (pilot, value)
        params[term] = best[1]
    return params


def _climb(white: np.ndarray, params: np.ndarray, orientation: int) -> np.ndarray:
    """Coordinate ascent of the pilot on growing windows (perspective once a window is wide
    enough to show it)."""
    steps = CLIMB_STEPS.copy()
    for level, side in enumerate(CLIMB_WINDOWS):
        best = _score(white, params, side, orientation)[0]
        steps = CLIMB_STEPS / (1.6**level)
        free = 4 if side == SWEEP_WINDOW else 6
        for _ in range(CLIMB_ROUNDS):
            improved = False
            for i in range(free):
                for sign in (1.0, -1.0):
                    trial = params.copy()
                    trial[i] += sign * steps[i]
                    pilot = _score(white, trial, side, orientation)[0]
                    if pilot > best:
                        best, params, improved = pilot, trial, True
            if not improved:
                steps = steps / 2
    return params


def search(white: np.ndarray, swept: list[tuple[float, np.ndarray, int]]) -> list[Fit]:
    """Perspective fits of a whitened plane worth decoding, best window first (possibly
    none), climbed from its sweep(): the caller decodes those whose pilot reaches its
    threshold."""
    fits = []
    h, w = white.shape
    for pilot, params, o in swept:
        if pilot < SWEEP_CLIMB_FROM:
            break
        params = _climb(white, _tilted(white, params, o), o)
        phases = _fold(white, params, None)
        scores = pilot_scores(phases, (o,))[:, 0]
        best = int(np.argmax(scores))
        phase = divmod(best, SUBSAMPLE)
        fits.append(Fit(float(scores[best]), phases[best], phase, ORIENTATIONS[o], _matrix(params), (w / 2, h / 2)))
    return fits


def homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 3x3 map taking four points (x, y) to four others, in homogeneous coordinates."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    return np.append(np.linalg.solve(np.array(rows, float), np.array(values, float)), 1.0).reshape(3, 3)


def mapped(matrix: np.ndarray, point) -> np.ndarray:
    """Where a homography takes a point (x, y)."""
    x, y, z = matrix @ np.array([point[0], point[1], 1.0])
    return np.array([x / z, y / z])


def local_affine(matrix: np.ndarray, point) -> np.ndarray:
    """The homography's derivative at a point: the 2x2 affine map that holds near it."""
    x, y, z = matrix @ np.array([point[0], point[1], 1.0])
    return (matrix[:2, :2] * z - np.outer([x, y], matrix[2, :2])) / (z * z)
