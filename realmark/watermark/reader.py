"""Reading the mark: `extract(rgb)` for a photo, `Reader` for the frames of a clip.

First the working grid as it is (8 orientations: mirror images and quarter turns); when
nothing decodes there, the picture moved (cropped anywhere, rotated, stretched, set inside
a screenshot, a collage or a letterbox), and the search measures where the tile lattice
went (sync.py) on planes of three resolutions, folds along the strongest lattices, tunes
the promising ones by pilot and decodes; a photo seen in perspective (a phone photo of a
screen) is folded last through a perspective (perspective.py). A found mark comes with its geometry and a map
of where it is present, from which the verifier places the signed picture.

False positives: an unmarked image yields effectively random decoded bits, so the check
matches with probability 2**-40 per decoding attempt. `extract` makes at most
`MAX_ATTEMPTS` (8 orientations + at most SYNC_ATTEMPTS = 90 outline, lattice and
perspective decodes) attempts,
so P(false id) <= 98 * 2**-40 (about 8.9e-11). Choosing what to decode by pilot score
costs nothing here: the pilot chips are apart from the coded bits the check covers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from PIL import Image
from scipy import ndimage

from . import measure, perspective, regions, sync
from .codec import (
    ORIENTATIONS,
    TILE,
    WORK_SHORT_SIDE,
    Folds,
    Geometry,
    PresenceMap,
    Reading,
    _decode_folded,
    _gray,
    _tile,
    _whiten,
    _work_luma,
    check_readable_size,
    folds,
    orient,
    pilot_scores,
    working_size,
)


# When nothing decodes on the working grid as it is, the picture moved: it was cropped,
# rotated, stretched, or set inside a larger one. sync.py measures where the tile lattice
# went, so that a cell of the mark is about one plane pixel where it is measured (the
# whitening sees chips of one to two pixels best). In this order:
# - first, for a photo, a picture in perspective or turned on a flat fill, read inside
#   its outline (regions.quadrilateral), resampled onto its signed grid;
# - the working grid (short side 256): marks at 0.45x to 2.2x the working grid (crops,
#   rotations, stretches, bars), lags up to WORK_MAX_LAG_SHARE of each side, zero-padded;
# - panels and outlined boxes (regions.py: a collage tile, the picture under a bar or in
#   a screenshot, a window over other footage), each resampled to its own scale;
# - for a photo, half the working grid: 1x to 4.4x (a pinch-zoomed screenshot);
# - 512: 0.22x to 0.9x (a 9:16 letterbox, a padded square, a large screenshot);
# - 1024 (capped at the picture's own): 0.11x to 0.3x (a picture at a third of a phone
#   screenshot's width), short lags only;
# - last, for a photo, the working grid through a perspective (perspective.py: a phone
#   photo of a screen, whose period changes across the picture).
# Finer planes look at short lags only, averaged over windows (cheap on a large plane).
# Each plane folds `lattices` ranked lattices and `squares` square lattices on single
# peaks (sync.find_lattices); folds cost more on larger planes, so they get fewer.
@dataclass(frozen=True)
class SyncPlane:
    short: int  # the plane's short side
    max_lag: int | None  # plane pixels; None: the working grid's WORK_MAX_LAG_SHARE of each side
    window: int | None  # pieces the autocorrelation is averaged over (None: the whole plane)
    lattices: int
    squares: int
    roi: int | None = None  # window side for the busiest-window search (None: none on this plane)
    # Whether a photo's search looks at this plane always, as a clip's does ("all"), or
    # only when flat surroundings frame the picture ("framed", regions.textured_box: a
    # screenshot's app chrome, a padded square), and then at the whole plane and the
    # framed box, not at busiest windows. A photo's small pictures (collage tiles, a
    # picture in a screenshot, under a bar) are found as panels and outlined boxes from
    # its edges, which a clip's moving footage does not offer as reliably. In 669 reads
    # (bench.robustness's photo cases, bench.watermark's screenshots) the finer planes
    # decoded 3 that the rest missed (a padded square, a screenshot, a dark picture in a
    # dark-mode screenshot), all framed; searching them on every photo cost half of an
    # unmarked photo's reading time.
    photo: str = "all"
    clip: bool = True  # whether a clip's frames are summed on this plane too


SYNC_PLANES = (
    SyncPlane(WORK_SHORT_SIDE, None, None, lattices=3, squares=2),
    # A zoomed-in crop (a screenshot of a pinch-zoomed face) enlarges the mark past what
    # the working grid's whitening sees (chips of 2.2 plane pixels and more): on 11 bench
    # photos a fifth of the picture enlarged to fill the frame (2.2x) read 6, a quarter
    # (2x) 10. Half the working grid's size sees 1-4.4x; it costs an unmarked 1080p
    # photo about 8 ms (43 -> 51 ms median, Intel Xeon).
    SyncPlane(WORK_SHORT_SIDE // 2, None, None, lattices=1, squares=1, clip=False),
    SyncPlane(512, 160, None, lattices=2, squares=2, roi=192, photo="framed"),
    SyncPlane(1024, 100, 512, lattices=1, squares=1, roi=320, photo="framed"),
)
# A framed picture's own size gives its mark's scale: its short side is 256 cells. The
# box found around it can take in part of its surroundings (a blurred fill), so each
# side of the box is tried as the short side and as the long side of the usual shapes
# (1:1, 4:5, 3:4, 9:16): 256, 320, 341 or 455 cells.
FRAMED_CELLS = (256, 320, 341, 455)
FRAMED_ERRORS = (0.0, 0.015, -0.015, 0.03)  # the box is more often a little small than large
# A panel (regions.panels: a collage tile, the picture under a bar; or an outlined box) is
# usually the signed picture cropped to fill it, so its short side is the picture's: 256
# cells, to the pixel or two its edges are found to. Panels are found on a grey plane of
# PANEL_FINDING_SHORT; a photo's is then resampled from the full picture to PANEL_CELL
# plane pixels per cell (a clip's is taken from the nearest of PANEL_PLANES).
PANEL_CELLS = 256
PANEL_CELL = 1.25
PANEL_ERRORS = (0.0, 0.01, -0.01)
PANEL_FINDING_SHORT = 512
PANEL_PLANES = (512, 1024)
# A photo's outlined boxes are searched only when flat surroundings frame its picture
# (a screenshot's app chrome: regions.textured_box): all OUTLINE_BOXES, the largest
# first, and the textured box, each snapped to the full picture's edges
# (regions.snapped_box). A picture pasted in a post screenshot is outlined as found and
# grown along its sides, and with the post's avatar or button row: the box holding the
# picture alone was often the third largest, and the fourth when a rounded card's
# corners outline more. An unframed photo's boxes are edges in its own content: in 440
# reads of bench.robustness's photo placements (22 photos, 20 families) and 396 more
# screenshots and collages (3 draws each), no unframed box decoded, and outlining and searching
# them was half of an unmarked photo's reading time (panels, which find collage tiles and
# a meme's picture, are still searched). A clip's first frame can hold its window among
# other footage's edges: all OUTLINE_BOXES are searched there, unsnapped.
# A snapped box is resampled to BOX_CELL plane pixels a cell: a picture a third of a
# phone screen wide (360 px) is then reduced, not enlarged, and its snapped edges leave no
# error for PANEL_CELL's slack. Measured on 176 post screenshots (4 draws of each bench
# photo, plain and mirrored), read at 0.8, 0.9, 1.0, 1.1 and 1.25: 97, 110, 134, 123, 124
# (a whole pixel a cell folds without smearing the chips across two).
BOX_CELL = 1.0
# A snapped box or panel holds the signed picture's short side edge to edge (a picture
# pasted whole, a collage tile cropped to fill), so before any lattice is measured it is
# resampled to the signed working grid itself: short side WORK_SHORT_SIDE cells, a plane
# pixel a cell. On a picture a third of a screen wide, a lattice measured from the
# autocorrelation and tuned is still off by a cell across it (a 0.2 % error in the long
# side's length halves the pilot), and a one-cell error in the grid's long side kept 4
# of 10 bench collage tiles unread whose exact grid reads. A pasted picture's long side
# is its signed one to the rounding of its shown size, so SIGNED_GRIDS long sides are
# tried, nearest first; a tile is cropped along its long side, so only the nearest.
SIGNED_GRIDS = 3
ROIS_PER_PLANE = 2  # busiest windows searched alone per plane
ROI_LATTICES, ROI_SQUARES = 2, 1  # lattices folded per window
WORK_MAX_LAG_SHARE = 0.55  # a copy cropped to half its short side still shows two periods
DECODES_PER_LATTICE = 2  # (sub-cell phase, orientation) pairs decoded per lattice, best pilot first
# The long side, in cells, of the shapes pictures are usually signed in (1:1, 4:5, 3:4,
# 2:3, 16:9), whose short side is PANEL_CELLS.
SIGNED_LONG_SIDES = (256, 320, 341, 384, 455)
# A whole picture stretched unevenly (fitted to a frame of another shape, 0.85-1.18 on
# each axis) keeps its short side on the working grid's 256 pixels, so its lattice
# follows from its signed shape (SIGNED_LONG_SIDES). The autocorrelation does not name
# such a lattice on a weak mark: its sides lie along the axes, whose frequencies the
# flattening zeroes (on two bench photos stretched, the true sides' z-scores were
# 0.3-2.2, while their folds' pilots were 9 and 12 and decoded). Shapes whose aspect
# is more than STRETCHED_AT_MOST from the plane's are not tried; within STRETCH_UNMOVED
# of the plane's own size the fold as it is covers it.
STRETCHED_AT_MOST = 1.4
STRETCH_UNMOVED = 0.004
# A fold is decoded only if its pilot stands out. On the working grid as it is, the
# pilot of a decoding orientation was 14.6 or more in 370 reads of bench.robustness's
# photo attacks, and unmarked photos' orientations reached 4.75 at most (176); a
# lattice fold's best of 32 (phase, orientation) pilot scores is 3.5-5.9 on unmarked
# pictures, 9-25 on marked copies. (Error correction is most of a decode's cost.)
MIN_PILOT = 5.5
# Such a fold is first adjusted (scale, angle) for the best pilot, in these steps
# (relative scale, degrees), coarse to fine: about 40 ms. Tuning from a lower pilot (5.0)
# tuned 63 of 72 unmarked screenshots and collages for nothing, and no marked copy in
# 132 that started below 5.5 decoded from it.
TUNE_FROM_PILOT = MIN_PILOT
TUNE_STEPS = ((0.01, 0.6), (0.004, 0.3), (0.002, 0.15), (0.001, 0.08))
# Decoding attempts the lattice search may spend on one picture, whatever it finds:
# the cap is what the false-positive bound counts (it stops at the cap).
SYNC_ATTEMPTS = 90
MAX_ATTEMPTS = len(ORIENTATIONS) + SYNC_ATTEMPTS  # what the false-positive bound counts


class Reader:
    """Accumulates evidence from one or many pictures of the same mark, then decodes.

    Each added picture (on the working grid) is whitened and folded into one tile, in
    each of the 8 orientations (mirror x quarter turns); tiles add up across video
    frames, so noise averages out while the mark, identical in every frame, adds up.
    The whitened planes add up too: the lattice search (a picture that moved) and the
    region where the mark is present are measured on their sum."""

    def __init__(self) -> None:
        self._folded = {o: np.zeros((TILE, TILE), np.float64) for o in ORIENTATIONS}
        self._white: np.ndarray | None = None
        self._textured: tuple[float, float, float, float] | None = None
        self.pictures = 0

    def add(self, work_luma: np.ndarray) -> Folds:
        """Add one picture; returns its own evidence (video verification keeps it)."""
        white = _whiten(work_luma)
        if self._white is None:
            self._white = white.copy()
            # Where the picture has texture is judged on one picture: in a sum over a
            # clip's frames, moving content averages out and still borders do not.
            self._textured = regions.textured_box(self._white)
        elif self._white.shape == white.shape:
            self._white += white
        evidence = folds(white)
        self.add_folds(evidence)
        return evidence

    def add_folds(self, evidence: Folds) -> None:
        """Add one picture's evidence as returned by add() (to another Reader: video
        verification also keeps a Reader of key frames only). Such pictures take part
        in decoding, not in the lattice search."""
        for o, tile in evidence.items():
            self._folded[o] += tile
        self.pictures += 1

    def read(
        self, *, search: bool = False, planes: Planes | None = None, size: tuple[int, int] | None = None
    ) -> Reading:
        """Decode the evidence so far. With search, a picture whose mark is not on the
        working grid as it is (cropped, rotated, stretched, set inside a larger one) is
        looked for along the tile lattice, on the working plane and on the finer planes
        that `planes` supplies. `size` is the pictures' own (width, height), for the
        geometry in pixels (default: working-grid cells)."""
        white = self._white
        shape = white.shape if white is not None else None
        px = _pixels_per_plane_pixel(size, shape)
        best = Reading(None, 0.0, None)
        for attempts, (mirrored, turns) in enumerate(ORIENTATIONS, start=1):
            wm_id, score, errors, raw, offset = _decode_folded(self._folded[(mirrored, turns)], MIN_PILOT)
            if wm_id is not None:
                reading = Reading(
                    wm_id, score, errors, mirrored=mirrored, turns=turns, attempts=attempts, offset=offset, raw_bits=raw
                )
                if white is None:
                    return reading
                return _located(reading, _plane_geometry((mirrored, turns), offset, white.shape, px), white, px)
            if best.raw_bits is None or score > best.pilot_score:
                best = Reading(None, score, None, mirrored=mirrored, turns=turns, raw_bits=raw)
        failed = Reading(None, best.pilot_score, None, attempts=len(ORIENTATIONS), raw_bits=best.raw_bits)
        if search and white is not None:
            return _Search(white, px, planes, failed, self._textured).run()
        return failed


def _pixels_per_plane_pixel(size: tuple[int, int] | None, shape: tuple[int, int] | None) -> tuple[float, float]:
    if size is None or shape is None:
        return (1.0, 1.0)
    return (size[0] / shape[1], size[1] / shape[0])


def _fold_and_score(plane: np.ndarray, lattice: sync.Lattice):
    """Fold along a lattice; (phases, [(pilot, phase, orientation)] best first)."""
    phases = sync.fold_along(plane, lattice)
    pilots = pilot_scores(phases.reshape(-1, TILE, TILE)).ravel().tolist()
    options = [((dy, dx), o) for dy in range(sync.SUBSAMPLE) for dx in range(sync.SUBSAMPLE) for o in ORIENTATIONS]
    scored = [(pilot, phase, o) for pilot, (phase, o) in zip(pilots, options, strict=True)]
    return phases, sorted(scored, key=lambda c: -c[0])


def _tune(plane: np.ndarray, lattice: sync.Lattice, phases, scored):
    """Adjust a promising lattice's scale and angle for the strongest pilot.

    A weak mark's autocorrelation peaks stand out by a pixel or so; on a wide picture
    an error of 0.2 % in period or 0.3 degrees in angle smears the fold over cells.
    The pilot, once the fold is near, climbs steeply toward the right geometry."""
    best = (scored[0][0], lattice, phases, scored)
    square = lattice.squared()
    if square is not None:  # most copies are scaled evenly: a near-square lattice is a square one
        square_phases, square_scored = _fold_and_score(plane, square)
        if square_scored[0][0] > best[0]:
            best = (square_scored[0][0], square, square_phases, square_scored)
    for scale_step, angle_step in TUNE_STEPS:
        for _ in range(3):
            improved = False
            for ds, da in ((scale_step, 0.0), (-scale_step, 0.0), (0.0, angle_step), (0.0, -angle_step)):
                candidate = best[1].turned(np.radians(da), 1.0 + ds)
                trial_phases, trial_scored = _fold_and_score(plane, candidate)
                if trial_scored[0][0] > best[0]:
                    best = (trial_scored[0][0], candidate, trial_phases, trial_scored)
                    improved = True
            if not improved:
                break
    return best[1], best[2], best[3]


def _corner_pilot(plane: np.ndarray, lattice: sync.Lattice) -> float:
    """The best pilot of a fold whose cells start at the plane's corner, as a whole
    picture's do (one sub-cell phase: a quarter of a fold's scoring)."""
    return float(pilot_scores(sync.fold_along(plane, lattice)[:1, 0]).max())


def _stretched_lattices(shape: tuple[int, int]) -> list[sync.Lattice]:
    """Lattices for the whole signed picture stretched unevenly to fill the plane (fitted
    to another frame's shape): its sides are PANEL_CELLS and one of SIGNED_LONG_SIDES
    cells, either way round, within STRETCHED_AT_MOST of the plane's shape."""
    h, w = shape
    out = []
    for long in SIGNED_LONG_SIDES:
        for cells_w, cells_h in {(PANEL_CELLS, long), (long, PANEL_CELLS)}:
            change = (w / h) / (cells_w / cells_h)
            unmoved = abs(w / cells_w - 1) < STRETCH_UNMOVED and abs(h / cells_h - 1) < STRETCH_UNMOVED
            if 1 / STRETCHED_AT_MOST <= change <= STRETCHED_AT_MOST and not unmoved:
                out.append(sync.Lattice((TILE * w / cells_w, 0.0), (0.0, TILE * h / cells_h), 0.0))
    return out


def _framed_lattices(
    shape: tuple[int, int], max_lag: int, cells_per_side=FRAMED_CELLS, errors=FRAMED_ERRORS
) -> list[sync.Lattice]:
    """Square, unrotated lattices for a framed picture filling `shape`, from its size:
    either side `cells_per_side` cells long, give or take `errors`."""
    out, seen = [], set()
    for side in shape:
        for cells in cells_per_side:
            for error in errors:  # the box's edges are found to a few pixels
                period = side * TILE / cells * (1 + error)
                if sync.MIN_PERIOD <= period <= max_lag and round(period, 1) not in seen:
                    seen.add(round(period, 1))
                    out.append(sync.Lattice((period, 0.0), (0.0, period), 0.0))
    return out


def _quad_shapes(corners: np.ndarray, size: tuple[int, int]) -> list[tuple[int, int]]:
    """The signed grids (cells wide, high) a picture inside these corners may have, the
    nearest its outline's own shape first: the frame's own shape (a warp that kept the
    frame's size) and the usual shapes either way round (short side PANEL_CELLS)."""
    sides = np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)  # top, right, bottom, left
    outline = (sides[0] + sides[2]) / (sides[1] + sides[3])
    frame = working_size(*size)
    shapes = {frame}
    for long in SIGNED_LONG_SIDES:
        shapes |= {(long, PANEL_CELLS), (PANEL_CELLS, long)}
    return sorted(shapes, key=lambda s: abs(np.log(s[0] / s[1] / outline)))


class _Beside:
    """A computation run in a thread of its own while the caller goes on; its result (or
    its error) when asked for. numpy, SciPy's FFTs and PIL leave Python's lock for most
    of their work, so on two cores the two run at once. Nothing waits for it if nobody
    asks: a daemon thread that ends with its computation."""

    def __init__(self, work: Callable, *args):
        self._work, self._args = work, args
        self._result, self._error = None, None
        self._thread: threading.Thread | None = threading.Thread(target=self._run, name="realmark-beside", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:  # no thread to be had (the interpreter shutting down): done when asked
            self._thread = None

    def _run(self) -> None:
        try:
            self._result = self._work(*self._args)
        except BaseException as error:  # raised where the result is asked for
            self._error = error

    def result(self):
        if self._thread is None:
            self._run()
        else:
            self._thread.join()
        # handed over once: the error's traceback holds this object, which would hold it back
        error, self._error = self._error, None
        if error is not None:
            raise error
        return self._result


class _Search:
    """One picture's lattice search: the planes it looks at, the decoding attempts spent
    (each counts in the false-positive bound), the best failed pilot."""

    def __init__(self, white, px: tuple[float, float], planes: Planes | SummedPlanes | None, failed: Reading, textured):
        self.white, self.px, self.planes = white, px, planes
        self.attempts = failed.attempts
        self.cap = failed.attempts + SYNC_ATTEMPTS
        self.best = failed
        self.textured = textured  # (left, top, right, bottom) fractions: a framed picture (regions.textured_box)
        self._sweep: _Beside | None = None  # the perspective sweep, once started (_start_sweep)

    def run(self) -> Reading:
        if isinstance(self.planes, Planes):  # a clip's frames are not warped one by one
            found = self._quadrilateral()
            if found is not None:
                return found
        for sync_plane in SYNC_PLANES:
            found = self._plane(sync_plane)
            if found is not None:
                return found
            if sync_plane.short == WORK_SHORT_SIDE:
                self._start_sweep()
                found = self._panels()
                if found is not None:
                    return found
        if isinstance(self.planes, Planes):  # a photo (a clip's frames are not shot off a screen one by one)
            found = self._perspective()
            if found is not None:
                return found
        return Reading(None, self.best.pilot_score, None, attempts=self.attempts, raw_bits=self.best.raw_bits)

    def _start_sweep(self) -> None:
        """A photo's perspective sweep (the last step, paid by every photo that gets there,
        unmarked ones included) needs nothing the steps before it find, so once the
        working grid has found nothing (where most moved copies are read), it runs beside
        the panels and finer planes. What it finds is still decoded last, in its turn: the
        attempts are counted as before. bench.watermark, before and after in one sitting (AMD
        EPYC, 2 cores, two runs each): an unmarked 1080p photo 43.5-45.0 -> 39.3-39.8 ms
        median, a copy rotated by 4 degrees as before (44-48 ms); started with the search
        instead, the rotated copy paid 4-6 ms for it."""
        if isinstance(self.planes, Planes) and perspective.searchable(self.white):
            self._sweep = _Beside(perspective.sweep, self.white)

    def _plane(self, sync_plane: SyncPlane) -> Reading | None:
        short = sync_plane.short
        scope = "all" if isinstance(self.planes, SummedPlanes) else sync_plane.photo
        if scope == "framed" and self.textured is None:
            return None
        if short == WORK_SHORT_SIDE:
            plane, plane_px = self.white, self.px
        else:
            plane = self.planes.white(short) if self.planes is not None else None
            if plane is None:
                return None
            plane_px = self.planes.pixels_per_plane_pixel(plane.shape)
        h, w = plane.shape
        max_lag = (round(h * WORK_MAX_LAG_SHARE), round(w * WORK_MAX_LAG_SHARE))
        if sync_plane.max_lag is not None:
            window = min(sync_plane.window or max(h, w), h, w)
            max_lag = (min(sync_plane.max_lag, round(window * WORK_MAX_LAG_SHARE)),) * 2
        lattices = sync.find_lattices(plane, max_lag, sync_plane.lattices, sync_plane.squares, sync_plane.window)
        if short == WORK_SHORT_SIDE:
            lattices += [
                lattice
                for lattice in _stretched_lattices(plane.shape)
                if _corner_pilot(plane, lattice) >= TUNE_FROM_PILOT
            ]
        found = self._decode(plane, (0, 0), lattices, plane_px)
        if found is not None or not sync_plane.roi:
            return found
        # A picture framed by flat surroundings (app chrome, a plain background) is
        # searched alone first.
        if self.textured is not None:
            left, top, right, bottom = self.textured
            t0, l0 = int(top * h), int(left * w)
            sub = np.ascontiguousarray(plane[t0 : int(np.ceil(bottom * h)), l0 : int(np.ceil(right * w))])
            if min(sub.shape) >= 2 * sync.MIN_PERIOD:
                lag = sync_plane.max_lag or min(h, w) // 3
                sub_lag = tuple(min(lag, round(n * WORK_MAX_LAG_SHARE)) for n in sub.shape)
                lattices = sync.find_lattices(sub, sub_lag, ROI_LATTICES, ROI_SQUARES)
                lattices += _framed_lattices(sub.shape, lag)
                found = self._decode(sub, (l0, t0), lattices, plane_px, plane)
                if found is not None:
                    return found
        if scope == "framed":
            return None
        # A small marked picture (a collage tile, a picture in a screenshot, a window in
        # a reaction video) is searched and folded alone: the rest of the plane only
        # adds noise to its fold.
        lag = sync_plane.max_lag or min(h, w) // 3
        for top, left, wh, ww in sync.busiest_windows(plane, sync_plane.roi, lag, ROIS_PER_PLANE):
            t0, l0 = max(0, top - wh // 4), max(0, left - ww // 4)
            sub = np.ascontiguousarray(plane[t0 : top + wh + wh // 4, l0 : left + ww + ww // 4])
            sub_lag = tuple(min(lag, round(n * WORK_MAX_LAG_SHARE)) for n in sub.shape)
            lattices = sync.find_lattices(sub, sub_lag, ROI_LATTICES, ROI_SQUARES)
            found = self._decode(sub, (l0, t0), lattices, plane_px, plane)
            if found is not None:
                return found
        return None

    def _panels(self) -> Reading | None:
        """Each panel of a picture cut by straight edges (a collage's tiles, the picture
        under a meme's bar, a letterboxed clip's picture between its fills) and each
        outlined box searched alone, with its own short side tried as PANEL_CELLS cells.

        A photo's panel is cut from the full picture and resampled so that, if it holds
        the signed picture's short side, a cell is PANEL_CELL plane pixels (the whitening
        sees chips of one to two pixels best), and its outlined boxes, snapped to the
        picture's edges, BOX_CELL; a clip's comes from the summed plane whose cells are
        nearest that size."""
        gray = self.planes.gray(PANEL_FINDING_SHORT) if self.planes is not None else None
        if gray is None:
            return None
        panels = regions.panels(gray)
        # (box, plane pixels a cell or None: no lattice search, signed grids to try)
        searched = [(box, PANEL_CELL, 0) for box in panels]
        framed = self.textured is not None  # an app's chrome: its cards and boxes are what to search
        if isinstance(self.planes, Planes):
            for box in self.planes.snapped(panels, min(gray.shape)):
                found = self._signed_grids(box, 1)  # cropped to fill: one grid
                if found is not None:
                    return found
            if framed:
                boxes = regions.outlined_boxes(gray, cards=True)[: regions.OUTLINE_BOXES] + [self.textured]
                snapped = self.planes.snapped(boxes, min(gray.shape))
                searched += [(box, BOX_CELL, SIGNED_GRIDS) for box in snapped]
                # Boxes placed exactly by other means are folded on their signed grids
                # alone, without a lattice search: the picture told from the chrome by its
                # levels, and the bottoms that signed shapes give (one grid: the shape gives
                # the long side).
                filled = [box for box in [self.planes.filled(self.textured)] if box is not None]
                placed = [(box, SIGNED_GRIDS) for box in filled]
                placed += [(box, 1) for box in self._bottoms_from_shapes(snapped[:-1] + filled)]
                seen = list(snapped)
                for box, count in placed:
                    box = self.planes.snapped([box], min(gray.shape))[0]
                    if not any(_same_box(box, other) for other in seen):
                        seen.append(box)
                        searched.append((box, None, count))
        else:
            # A window over other footage is outlined on the frames' mean, where its sides
            # stay and what moves averages away (in a cartoon's first frame a quarter-wide
            # window had no sides to see), and on the first frame, where footage inside and
            # around it that is alike on average still differs (a camera clip over itself).
            boxes = regions.outlined_boxes(gray, cards=framed)
            for box in regions.outlined_boxes(self.planes.first(PANEL_FINDING_SHORT), cards=framed):
                if not any(_same_box(box, other) for other in boxes):
                    boxes.append(box)
            searched += [(box, PANEL_CELL, 0) for box in boxes]
        for box, cell, grids in searched:
            found = self._signed_grids(box, grids) if grids else None
            if found is None and cell is not None:
                found = self._panel(box, cell)
            if found is not None:
                return found
        return None

    def _bottoms_from_shapes(self, boxes):
        """The boxes again, their bottom edge placed where a picture of their width and a
        signed shape (SIGNED_LONG_SIDES) ends, inside the textured box. A card's rounded
        corners leave its bottom edge short, and the app's buttons a few pixels below
        draw the edge that is outlined instead; its top and sides are found exactly (in
        the 7 post cards of fresh draws that were first read this way, the bottom alone
        was wrong)."""
        width, height = self.planes.size
        textured_bottom = self.textured[3]
        out = []
        for left, top, right, bottom in boxes:
            for long in SIGNED_LONG_SIDES:
                for aspect in {long / PANEL_CELLS, PANEL_CELLS / long}:  # height / width
                    shaped = top + (right - left) * width * aspect / height
                    if shaped <= textured_bottom + SAME_BOX and abs(shaped - bottom) > SAME_BOX:
                        out.append((left, top, right, shaped))
        return out

    def _panel(self, box: tuple[float, float, float, float], cell: float) -> Reading | None:
        resampled = self.planes.white_box(box, PANEL_CELLS * cell) if isinstance(self.planes, Planes) else None
        if resampled is not None:
            sub, plane_px, corner = resampled

            def whole():  # the whole picture at the panel's scale, for the region (once found)
                return self.planes.white_scaled(plane_px)

        else:
            left, top, right, bottom = box
            chosen = None
            for short in PANEL_PLANES:
                plane = self.planes.white(short)
                if plane is None:
                    continue
                h, w = plane.shape
                t0, l0 = int(top * h), int(left * w)
                sub = np.ascontiguousarray(plane[t0 : int(np.ceil(bottom * h)), l0 : int(np.ceil(right * w))])
                misfit = abs(np.log(min(sub.shape) / (PANEL_CELLS * cell)))
                if chosen is None or misfit < chosen[0]:
                    chosen = (misfit, sub, self.planes.pixels_per_plane_pixel(plane.shape), (l0, t0), plane)
            if chosen is None:
                return None
            _, sub, plane_px, corner, whole = chosen
        if min(sub.shape) < 2 * sync.MIN_PERIOD:
            return None
        lag = tuple(round(n * WORK_MAX_LAG_SHARE) for n in sub.shape)
        lattices = sync.find_lattices(sub, lag, ROI_LATTICES, ROI_SQUARES)
        lattices += _framed_lattices(sub.shape, max(lag), (PANEL_CELLS,), PANEL_ERRORS)
        return self._decode(sub, corner, lattices, plane_px, whole)

    def _signed_grids(self, box: tuple[float, float, float, float], count: int) -> Reading | None:
        """A snapped box that holds the signed picture's short side edge to edge, resampled
        to `count` working grids its shape allows (short side PANEL_CELLS, the long
        side's nearest lengths) and folded on the grid's own lattice: on the right one a
        cell is a plane pixel exactly (see SIGNED_GRIDS)."""
        width, height = self.planes.size
        w, h = (box[2] - box[0]) * width, (box[3] - box[1]) * height
        if min(w, h) < PANEL_CELLS / 2:
            return None
        long = max(w, h) / min(w, h) * PANEL_CELLS
        for cells in sorted(range(int(long) - 1, int(long) + 3), key=lambda c: abs(c - long))[:count]:
            size = (cells, PANEL_CELLS) if w >= h else (PANEL_CELLS, cells)
            sub, plane_px, corner = self.planes.white_resampled(box, size)

            def whole(plane_px=plane_px):
                return self.planes.white_scaled(plane_px)

            found = self._decode(sub, corner, [sync.Lattice((TILE, 0.0), (0.0, TILE), 0.0)], plane_px, whole)
            if found is not None:
                return found
        return None

    def _quadrilateral(self) -> Reading | None:
        """A picture in perspective or turned on a flat fill, its outline a
        quadrilateral (regions.quadrilateral): the picture inside its corners resampled
        onto each signed grid it may have (_quad_shapes), and read there as it is. Its
        geometry is the affine map that holds at the picture's middle (all of it, when
        the outline is a parallelogram)."""
        gray = self.planes.gray(regions.QUAD_FINDING_SHORT)
        quad = regions.quadrilateral(gray) if gray is not None else None
        if quad is None:
            return None
        corners = self.planes.snapped_quadrilateral(quad, min(gray.shape))
        for shape in _quad_shapes(corners, self.planes.size):
            white, to_picture = self.planes.white_rectified(corners, shape)
            evidence = folds(white)
            # a fold's orientations differ by a roll, which leaves the pilot's peak as it is
            pilots = pilot_scores(evidence[ORIENTATIONS[0]][None])[0]
            for k in np.argsort(-pilots)[:DECODES_PER_LATTICE]:
                o = ORIENTATIONS[int(k)]
                if pilots[k] < MIN_PILOT or self.attempts >= self.cap:
                    break
                decoded = self._attempt(evidence[o])
                if decoded is None:
                    continue
                # the grid on the resampled plane (a cell a pixel), then through the
                # perspective as it holds at the middle
                on_plane = _plane_geometry(o, decoded[4], white.shape, (1.0, 1.0))
                middle = (shape[0] / 2, shape[1] / 2)
                local = perspective.local_affine(to_picture, middle)
                origin = perspective.mapped(to_picture, middle) + local @ (np.array(on_plane.origin) - middle)
                matrix = tuple(map(tuple, (local @ on_plane.m).tolist()))
                geometry = Geometry(matrix, (float(origin[0]), float(origin[1])))
                v1, v2 = local @ np.array([TILE, 0.0]), local @ np.array([0.0, TILE])
                lattice = sync.Lattice((float(v1[0]), float(v1[1])), (float(v2[0]), float(v2[1])), decoded[1])
                fold_origin = tuple(float(c) for c in perspective.mapped(to_picture, (0.0, 0.0)))
                reading = self._found(
                    decoded, o, geometry, lattice, fold_origin, (0, 0), regions.in_perspective(corners)
                )
                return _located(reading, geometry, self.white, self.px)
        return None

    def _perspective(self) -> Reading | None:
        """A phone photo of a screen: the working grid folded through a perspective
        (perspective.py). Its geometry is the affine map that holds at the middle."""
        if self._sweep is None:
            return None
        for fit in perspective.search(self.white, self._sweep.result()):
            if fit.pilot < MIN_PILOT or self.attempts >= self.cap:
                continue
            decoded = self._attempt(orient(fit.tile, *fit.orientation))
            if decoded is None:
                continue
            geometry = _geometry(
                fit.matrix, fit.orientation, decoded[4], fit.phase, self.px, sync.SUBSAMPLE, fit.centre
            )
            v1, v2 = fit.matrix[:, 0] * TILE, fit.matrix[:, 1] * TILE
            lattice = sync.Lattice((float(v1[0]), float(v1[1])), (float(v2[0]), float(v2[1])), fit.pilot)
            fold_origin = (fit.centre[0] * self.px[0], fit.centre[1] * self.px[1])
            reading = self._found(
                decoded, fit.orientation, geometry, lattice.in_pixels(self.px), fold_origin, fit.phase, True
            )
            return _located(reading, geometry, self.white, self.px)
        return None

    def _decode(self, plane, corner, lattices, plane_px, whole=None) -> Reading | None:
        """Fold along each lattice, tune the promising ones, decode the best pilots. `plane`
        may be part of a whole one (`whole`, or a function that makes it), from `corner`."""
        for lattice in lattices:
            phases, scored = _fold_and_score(plane, lattice)
            if TUNE_FROM_PILOT <= scored[0][0]:
                lattice, phases, scored = _tune(plane, lattice, phases, scored)
            for pilot_first, phase, o in scored[:DECODES_PER_LATTICE]:
                if pilot_first < MIN_PILOT or self.attempts >= self.cap:
                    break
                decoded = self._attempt(orient(phases[phase], *o))
                if decoded is None:
                    continue
                geometry = _geometry(lattice.matrix, o, decoded[4], phase, plane_px, sync.SUBSAMPLE, corner)
                fold_origin = (corner[0] * plane_px[0], corner[1] * plane_px[1])
                reading = self._found(decoded, o, geometry, lattice.in_pixels(plane_px), fold_origin, phase)
                whole = whole() if callable(whole) else whole
                return _located(reading, geometry, plane if whole is None else whole, plane_px)
        return None

    def _attempt(self, tile: np.ndarray):
        """One decoding attempt, counted in the false-positive bound: (id, pilot, bit
        errors, raw bits, tile offset) when it decodes, else None (the best failed pilot
        kept for the answer)."""
        self.attempts += 1
        wm_id, pilot, errors, raw, offset = _decode_folded(tile)
        if wm_id is None:
            if pilot > self.best.pilot_score:
                self.best = Reading(None, pilot, None, raw_bits=raw)
            return None
        return wm_id, pilot, errors, raw, offset

    def _found(self, decoded, o, geometry: Geometry, lattice, fold_origin, phase, perspective: bool = False) -> Reading:
        """The reading of a decoded attempt: where the mark sits (geometry, the lattice in
        submitted pixels, the fold's origin and sub-cell phase) and in which orientation."""
        wm_id, pilot, errors, raw, offset = decoded
        working_cell = min(self.px)  # the submitted picture's working-grid cell, px
        return Reading(
            wm_id,
            pilot,
            errors,
            mirrored=o[0],
            turns=o[1],
            attempts=self.attempts,
            offset=offset,
            scale=float(np.sqrt(np.prod(geometry.cell))) / working_cell,
            raw_bits=raw,
            lattice=lattice,
            fold_origin=fold_origin,
            phase=phase,
            perspective=perspective,
        )


def _plane_geometry(o: tuple[bool, int], offset: tuple[int, int], shape: tuple[int, int], px) -> Geometry:
    """The signed grid in submitted pixels for a reading on the working grid as it is:
    the plane was oriented by `o` and then folded, and the pilot put the tile's first
    cell at `offset` of the oriented plane."""
    h, w = shape
    index = orient(np.arange(h * w).reshape(h, w), *o)
    r0, c0 = offset

    def cell(r, c):
        return np.array(divmod(int(index[r, c]), w)[::-1], float)  # (x, y) in the plane

    first = cell(r0, c0)
    steps = np.column_stack([cell(r0, c0 + 1) - first, cell(r0 + 1, c0) - first])
    corner = first + 0.5 - steps @ np.array([0.5, 0.5])
    to_px = np.diag(px)
    origin = to_px @ corner
    matrix = to_px @ steps
    return Geometry(tuple(map(tuple, matrix.tolist())), (float(origin[0]), float(origin[1])))


@cache
def _orientation_steps(o: tuple[bool, int]) -> tuple[np.ndarray, np.ndarray]:
    """For a tile oriented by `o`: where its cells came from in the unoriented fold. Returns
    (source, steps): source[r, c] = (v, u) in the fold, and the 2x2 integer matrix whose
    columns are the fold's (u, v) steps for one step along the tile's x and y."""
    index = orient(np.arange(TILE * TILE).reshape(TILE, TILE), *o)
    source = np.stack(np.divmod(index, TILE), axis=-1)  # (v, u)

    def step(a, b):
        d = (source[b] - source[a] + TILE // 2) % TILE - TILE // 2
        return np.array([d[1], d[0]], float)  # (du, dv)

    steps = np.column_stack([step((10, 10), (10, 11)), step((10, 10), (11, 10))])
    return source, steps


def _geometry(
    lattice: np.ndarray,
    o: tuple[bool, int],
    offset: tuple[int, int],
    phase: tuple[int, int],
    px,
    subsample: int,
    corner: tuple[int, int] = (0, 0),
) -> Geometry:
    """The signed grid in submitted pixels, from a fold's lattice (plane pixels per fold
    cell along u and v), the orientation and pilot offset that decoded, and the sub-cell
    phase of the fold."""
    source, steps = _orientation_steps(o)
    v0, u0 = source[offset[0] % TILE, offset[1] % TILE]
    # The signed tile's top-left corner in fold cells (plane coordinates: pixel i spans
    # [i, i + 1)): half a cell back along the signed axes from the centre of the fold cell
    # that holds the tile's first cell (a mirrored axis runs the other way).
    centre = np.array([u0 + 0.5 + phase[1] / subsample, v0 + 0.5 + phase[0] / subsample])
    fold_corner = centre - steps @ np.array([0.5, 0.5])
    to_px = np.diag(px)
    origin = to_px @ (lattice @ fold_corner + np.array(corner, float))
    matrix = to_px @ lattice @ steps
    return Geometry(tuple(map(tuple, matrix.tolist())), (float(origin[0]), float(origin[1])))


# Region: the mark's presence is measured in blocks of REGION_BLOCK x REGION_BLOCK signed
# cells (a quarter tile: on a 1080p photo about 35 px, enough chips for a z-score of
# 4-10 on a marked block); blocks above REGION_Z belong to the region.
REGION_BLOCK = 24
REGION_Z = 2.5


def _located(reading: Reading, geometry: Geometry, white: np.ndarray, px: tuple[float, float]) -> Reading:
    """The reading with its geometry (measured where it can be: measure.fitted) and the box
    where the mark is present (submitted px)."""
    h, w = white.shape
    m_plane = np.diag(1 / np.array(px)) @ geometry.m  # plane pixels per signed cell
    origin_plane = np.array(geometry.origin) / np.array(px)
    u, v = sync.cells_of_pixels((h, w), m_plane, origin_plane)
    tile = _tile(reading.wm_id)
    # Through a perspective the geometry holds at the middle only: nothing to fit it to.
    measured = None if reading.perspective else measure.fitted(m_plane, origin_plane, white, u, v, tile)
    if measured is not None:
        m_plane, origin_plane, size_error = measured
        # The reading's lattice and scale stay as read: a clip re-folds its other frames
        # along the lattice, which a fold's sub-cell phases absorb; the geometry places.
        geometry = Geometry(tuple(map(tuple, (np.diag(px) @ m_plane).tolist())), tuple((origin_plane * px).tolist()))
        u, v = sync.cells_of_pixels((h, w), m_plane, origin_plane)
        reading = replace(reading, size_error=size_error)
    cx = np.floor(u).astype(np.intp) % TILE
    cy = np.floor(v).astype(np.intp) % TILE
    chips = tile[cy, cx].reshape(h, w)
    block = max(4, round(REGION_BLOCK * float(np.sqrt(abs(np.linalg.det(m_plane))))))
    bh, bw = -(-h // block), -(-w // block)
    pad = ((0, bh * block - h), (0, bw * block - w))
    agree = np.pad(white * chips, pad).reshape(bh, block, bw, block).sum(axis=(1, 3))
    energy = np.pad(white * white, pad).reshape(bh, block, bw, block).sum(axis=(1, 3))
    cell_area = max(1.0, abs(float(np.linalg.det(m_plane))))
    z = agree / np.sqrt(energy * cell_area + 1e-9)
    present = z > REGION_Z
    region = None
    if present.any():
        labels, n = ndimage.label(ndimage.binary_closing(present, np.ones((3, 3)), border_value=0) | present)
        sizes = ndimage.sum(present, labels, range(1, n + 1))
        biggest = labels == (int(np.argmax(sizes)) + 1)
        rows, cols = np.nonzero(biggest)
        left, right = cols.min() * block * px[0], min(w, (cols.max() + 1) * block) * px[0]
        top, bottom = rows.min() * block * px[1], min(h, (rows.max() + 1) * block) * px[1]
        region = (round(left), round(top), round(right), round(bottom))
    presence = PresenceMap(z.astype(np.float32), (block * px[0], block * px[1]))
    return replace(reading, geometry=geometry, region=region, presence=presence)


def extract(picture: np.ndarray, work: np.ndarray | None = None) -> Reading:
    """Read the watermark id from an RGB uint8 image, or from its 8-bit luma
    (media.image.luma8: the same reading, for a caller that needs the luma anyway), or
    report that none is there. `work`: the picture on the working grid
    (presence.working()), when the caller has made it already."""
    height, width = picture.shape[:2]
    check_readable_size(width, height)
    luma = picture if picture.ndim == 2 else np.asarray(_gray(picture))  # converted once, read twice
    if work is None:
        work = _work_luma(luma, working_size(width, height))
    reader = Reader()
    reader.add(work)
    return reader.read(search=True, planes=Planes(luma, work), size=(width, height))


SAME_BOX = 0.003  # boxes whose sides are this near (fractions of the picture) are one


def _same_box(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= SAME_BOX


class Planes:
    """The picture's luma at the lattice search's finer plane sizes, grey and whitened,
    made on demand (once each) from one grey conversion of the full picture (RGB, or its
    8-bit luma)."""

    def __init__(self, picture: np.ndarray, work: np.ndarray | None = None):
        self._picture = picture
        self._work = work  # the picture on the working grid (float luma), if made already
        self._full: Image.Image | None = None
        self._float: Image.Image | None = None
        self._edges: np.ndarray | None = None  # the full grey picture as int16, for snapping
        self._gray: dict[int, np.ndarray] = {}
        self._white: dict[int, np.ndarray] = {}
        self._reduced: dict[tuple[int, int], np.ndarray] = {}  # float luma reduced for rectifying

    @property
    def size(self) -> tuple[int, int]:
        return self._picture.shape[1], self._picture.shape[0]

    def gray(self, short: int) -> np.ndarray | None:
        """Grey levels (float32 of 8-bit levels) with this short side (area-averaged), or
        the full picture's when it is smaller; None when the picture has too few pixels to
        add detail. What panels and boxes are found on (edges, flat surroundings)."""
        size = self._size(short)
        if size is None:
            return None
        if short not in self._gray:
            if self._work is not None and size == self._work.shape[::-1]:
                self._gray[short] = self._work  # the working grid: made already
            else:
                picture = self._full_gray()
                if size != self.size:
                    picture = picture.resize(size, Image.BOX)
                self._gray[short] = np.asarray(picture, dtype=np.float32)
        return self._gray[short]

    def white(self, short: int) -> np.ndarray | None:
        """Whitened luma with this short side (as gray(), from the float luma:
        _float_resized)."""
        size = self._size(short)
        if size is None:
            return None
        if short not in self._white:
            if size == self.size:
                picture = np.asarray(self._full_float())
            elif self._work is not None and short * 2 == min(self._work.shape):
                # half the working grid: its 2x2 means, as an area resize from the full picture gives
                h, w = (n // 2 * 2 for n in self._work.shape)
                picture = self._work[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3), dtype=np.float32)
            else:
                picture = self._float_resized(size)
            self._white[short] = _whiten(picture).copy()
        return self._white[short]

    def _size(self, short: int) -> tuple[int, int] | None:
        width, height = self.size
        if min(width, height) < 0.75 * short:
            return None
        scale = min(1.0, short / min(width, height))
        return (max(1, round(width * scale)), max(1, round(height * scale))) if scale < 1.0 else (width, height)

    def white_box(self, box: tuple[float, float, float, float], short: float):
        """A box of the picture (fractions) resampled so that its short side is `short`
        pixels, whitened: (plane, submitted pixels per plane pixel (x, y), the box's corner
        in plane pixels). None when the box is too small to resample up to that size
        (more than 2x: the chips would be interpolated, not seen)."""
        width, height = self.size
        w, h = round(box[2] * width) - round(box[0] * width), round(box[3] * height) - round(box[1] * height)
        if min(w, h) < short / 2:
            return None
        factor = short / min(w, h)
        return self.white_resampled(box, (max(1, round(w * factor)), max(1, round(h * factor))))

    def white_resampled(self, box: tuple[float, float, float, float], size: tuple[int, int]):
        """A box of the picture (fractions) resampled to `size` (w, h) and whitened, as
        white_box() returns it."""
        width, height = self.size
        left, top = round(box[0] * width), round(box[1] * height)
        right, bottom = round(box[2] * width), round(box[3] * height)
        picture = self._float_resized(size, (left, top, right, bottom))
        px = ((right - left) / size[0], (bottom - top) / size[1])
        return _whiten(picture).copy(), px, (left / px[0], top / px[1])

    def snapped_quadrilateral(self, quad: np.ndarray, plane_short: int) -> np.ndarray:
        """A quadrilateral found on a plane of `plane_short` (fractions), in full-picture
        pixels, its sides fitted to the picture's edges (regions.snapped_quadrilateral)."""
        return regions.snapped_quadrilateral(self._grey16(), quad, plane_short)

    def white_rectified(self, corners: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The picture inside `corners` (full-picture pixels: top-left, top-right,
        bottom-right, bottom-left) resampled onto a plane of `size` (w, h) and whitened;
        with the homography from that plane to the full picture's pixels. The picture is
        first reduced (area-averaged) to about a plane pixel a cell, so that resampling
        through the perspective does not skip pixels."""
        width, height = self.size
        (ax, ay), (bx, by) = corners[2] - corners[0], corners[3] - corners[1]
        area = 0.5 * abs(float(ax * by - ay * bx))  # half the diagonals' cross product
        reduce = max(1.0, float(np.sqrt(area / (size[0] * size[1]))))
        reduced = (max(1, round(width / reduce)), max(1, round(height / reduce)))
        if reduced not in self._reduced:
            full = reduced == self.size
            self._reduced[reduced] = np.asarray(self._full_float()) if full else self._float_resized(reduced)
        scale = np.array([reduced[0] / width, reduced[1] / height])
        plane = np.array([(0, 0), (size[0], 0), size, (0, size[1])], float)
        to_reduced = perspective.homography(plane, corners * scale)
        picture = Image.fromarray(self._reduced[reduced]).transform(
            size, Image.PERSPECTIVE, tuple((to_reduced / to_reduced[2, 2]).ravel()[:8]), Image.BICUBIC
        )
        to_picture = np.diag([1 / scale[0], 1 / scale[1], 1.0]) @ to_reduced
        return _whiten(np.asarray(picture)).copy(), to_picture

    def snapped(self, boxes, plane_short: int) -> list[tuple[float, float, float, float]]:
        """Boxes found on a plane of `plane_short` (fractions), snapped to the full
        picture's edges (regions.snapped_box); one of those that land on the same box."""
        gray = self._grey16()
        out: list[tuple[float, float, float, float]] = []
        for box in boxes:
            box = regions.snapped_box(gray, box, plane_short)
            if not any(_same_box(box, kept) for kept in out):
                out.append(box)
        return out

    def filled(self, textured: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
        """The picture inside a textured box told from flat chrome by its levels
        (regions.filled_box), on the full grey picture."""
        return regions.filled_box(self._grey16(), textured)

    def _grey16(self) -> np.ndarray:
        if self._edges is None:  # panels and boxes are both snapped on a framed photo
            self._edges = np.asarray(self._full_gray(), dtype=np.int16)
        return self._edges

    def white_scaled(self, px: tuple[float, float]) -> np.ndarray:
        """The whole picture whitened at `px` submitted pixels per plane pixel (x, y)."""
        width, height = self.size
        size = (max(1, round(width / px[0])), max(1, round(height / px[1])))
        return _whiten(self._float_resized(size)).copy()

    def _float_resized(self, size: tuple[int, int], box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The picture's luma as floats (not rounded to 8-bit levels: the mark is a level
        or two), or its `box` (full-picture pixels), resampled to `size`: area-averaged
        when shrinking, bicubic when growing (a picture shown smaller than the signed
        grid; repeating its pixels, as BOX does, loses the mark)."""
        left, top, right, bottom = box if box is not None else (0, 0, *self.size)
        growing = size[0] > right - left or size[1] > bottom - top
        return np.asarray(self._full_float().resize(size, Image.BICUBIC if growing else Image.BOX, box=box))

    def _full_float(self) -> Image.Image:
        if self._float is None:
            self._float = self._full_gray().convert("F")
        return self._float

    def _full_gray(self) -> Image.Image:
        if self._full is None:
            self._full = _gray(self._picture)
        return self._full

    def pixels_per_plane_pixel(self, shape: tuple[int, int]) -> tuple[float, float]:
        return _pixels_per_plane_pixel(self.size, shape)


class SummedPlanes:
    """A clip's finer planes for the lattice search: its frames' luma added up, whitened
    once when searched (the mark, the same in every frame, adds up; the pictures average
    out).

    Summed before whitening, not whitened frame by frame: a frame costs an addition, not
    a whitening (13 ms on the 1024 plane of a 1080p frame, 2 cores), so every frame of a
    clip whose mark is still unread can take part, and moving pictures, averaged first,
    leave less of themselves for the whitening to pass. On a camera clip letterboxed to
    9:16 at 720 px (3 draws) or shown picture-in-picture at a quarter to two fifths of
    the width (4), the first 32 frames whitened one by one (every other one, every fourth
    on 1024) gave pilots of 4-9 and two ids; all 159 frames whitened one by one 7.4-13.9
    and six ids, summed first 7.5-14.4 and all seven."""

    def __init__(self, size: tuple[int, int]):
        self.size = size
        self._sums: dict[int, np.ndarray] = {}
        self._first: dict[int, np.ndarray] = {}
        self._counts: dict[int, int] = {}
        self._white: dict[int, np.ndarray] = {}  # whitened means, until the next frame is added

    @staticmethod
    def shape(size: tuple[int, int], short: int) -> tuple[int, int] | None:
        """(width, height) of the plane with this short side for frames of `size`, or
        None when the frames are too small for it (as Planes.white)."""
        width, height = size
        if min(width, height) < 0.75 * short:
            return None
        scale = min(1.0, short / min(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))

    def add(self, short: int, luma: np.ndarray) -> None:
        self._white.pop(short, None)
        if short in self._sums:
            self._sums[short] += luma
            self._counts[short] += 1
        else:
            self._sums[short] = np.asarray(luma, dtype=np.float32).copy()
            self._first[short] = self._sums[short].copy()
            self._counts[short] = 1

    def white(self, short: int) -> np.ndarray | None:
        if short not in self._sums:
            return None
        if short not in self._white:
            # the mean, not the sum: the whitening's floor is in grey levels
            self._white[short] = _whiten(self._sums[short] / self._counts[short]).copy()
        return self._white[short]

    def gray(self, short: int) -> np.ndarray | None:
        """The frames' mean grey levels on this plane: where the picture's panels are (a
        letterbox's bars and a window's sides stay where they are, while the edges of
        what moves average away)."""
        if short not in self._sums:
            return None
        return self._sums[short] / self._counts[short]

    def first(self, short: int) -> np.ndarray | None:
        """The first frame's grey levels on this plane: where a window's sides show when
        the footage inside and around it looks alike on average."""
        return self._first.get(short)

    def pixels_per_plane_pixel(self, shape: tuple[int, int]) -> tuple[float, float]:
        return _pixels_per_plane_pixel(self.size, shape)
