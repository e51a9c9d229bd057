"""Where the signed picture sits in a submitted one, from the mark's geometry.

The mark tells how the signed picture's working grid was mapped into the submitted
picture (codec.Geometry: scale, rotation, stretch, mirror, quarter turns) and where the
mark is present (the region). With the signed picture's size from the manifest this
says whether all of it is there (or it was cropped) and whether it fills the frame (or
it sits inside a larger picture: a screenshot, a collage, a letterbox, a window).

Sizes decide, not the region: the region is measured in blocks whose mark can be weak
(sky, skin), so it only places the picture; whether the picture was cropped or embedded
follows from its mapped size against the frame, which the lattice measures to a few
tenths of a percent."""

from __future__ import annotations

import numpy as np

from realmark.watermark.codec import TILE, Geometry, PresenceMap, Reading, working_size

from .evidence import Placement

# A photo's mapped picture must differ from the frame by more than a share of a side and
# TRIM_PIXELS to be cropped (larger) or embedded (smaller); a photo trimmed by more but
# called whole is compared with the signed picture misaligned, and had invented changed
# regions (README "Trimmed copies"). The share is what the geometry's sizes are good to:
# - measured on a working-grid reading (measure.fitted): within 0.1 % of the truth on
#   the bench's photos (trims of 0.5-2 %, mirrored, resizes to 480-2880 px);
SIZE_TOLERANCE = 0.003
# - measured on a lattice's reading, on its resampled plane: within 0.25 %;
LATTICE_SIZE_TOLERANCE = 0.005
# - and in any case this many standard errors of the measurement (Reading.size_error);
SIZE_SIGMAS = 4.0
# - as read: to a cell of the working grid (0.45 %), or a lattice search's step (0.4 % seen).
UNMEASURED_SIZE_TOLERANCE = 0.008
# Platforms trim a pixel or two when they round sizes to even numbers.
TRIM_PIXELS = 1.5
# A clip's: its timeline fingerprints are coarse enough not to mind a trim of a few
# percent, and encoders round frame sizes to multiples of 8 or 16 (1080 to 1072 or 1088).
CLIP_SIZE_TOLERANCE = 0.03
# Where the whole picture may lie in the frame along an axis it fits in (share of the side).
PLACE_SLACK = 0.03
# A block counts toward a placement when its presence z-score is above this: unmarked
# blocks score about N(0, 1), so each one inside a box costs it about PLACE_Z.
PLACE_Z = 1.0


def _corners(geometry: Geometry, size_cells: tuple[int, int], shifts: np.ndarray) -> np.ndarray:
    """The signed picture's four corners in submitted pixels [n, 4, (x, y)], with its
    top-left corner shifts[k] whole tiles from the geometry's origin tile ([n, 2]): every
    placement at once (one small product each cost more than the rest of the verdict on
    a photo's fast path)."""
    w, h = size_cells
    cells = np.array([[0, 0], [w, 0], [0, h], [w, h]], float)[None] - TILE * np.asarray(shifts, float)[:, None, :]
    return np.array(geometry.origin) + cells @ geometry.m.T


def place(reading: Reading, frame: tuple[int, int], signed: tuple[int, int], clip: bool = False) -> Placement | None:
    """The signed picture (width, height) in a submitted frame (width, height) of a photo,
    or of a `clip`; None when the reading carries no geometry."""
    geometry = reading.geometry
    if geometry is None:
        return None
    size_cells = working_size(*signed)
    fw, fh = frame
    # How large the whole signed picture is in the frame, along the frame's axes.
    corners = _corners(geometry, size_cells, np.zeros((1, 2)))[0]
    extent = corners.max(axis=0) - corners.min(axis=0)
    if clip:
        tolerance = CLIP_SIZE_TOLERANCE
    elif reading.size_error is None:
        tolerance = UNMEASURED_SIZE_TOLERANCE
    else:
        floor = LATTICE_SIZE_TOLERANCE if reading.synchronised else SIZE_TOLERANCE
        tolerance = max(floor, SIZE_SIGMAS * reading.size_error)
    larger = extent - np.array([fw, fh]) * (1 + tolerance) - TRIM_PIXELS
    smaller = np.array([fw, fh]) * (1 - tolerance) - TRIM_PIXELS - extent
    cropped, embedded = bool(np.any(larger > 0)), bool(np.any(smaller > 0))
    # Where: the mark repeats every tile, so the picture's top-left corner is the origin
    # plus some whole number of tiles. The placement whose box best matches where the mark
    # is present wins: each block inside it adds its presence z-score less PLACE_Z (so a
    # box takes in marked blocks and leaves out unmarked ones); ties go to the box nearest
    # the frame's centre (a crop: every placement covers the whole frame).
    span = [int(np.ceil(n / TILE)) + 1 for n in size_cells]
    shifts = [(i, j) for i in range(-span[0], span[0] + 1) for j in range(-span[1], span[1] + 1)]
    every = _corners(geometry, size_cells, np.array(shifts))
    boxes = np.concatenate([every.min(axis=1), every.max(axis=1)], axis=1)  # [n, (left, top, right, bottom)]
    cropped_x, cropped_y = larger > 0
    slack_x, slack_y = fw * PLACE_SLACK, fh * PLACE_SLACK
    left, top, right, bottom = boxes.T
    in_frame = (right > 0) & (bottom > 0) & (left < fw) & (top < fh)
    # Along an axis where the whole picture fits in the frame, it lies inside it: a
    # picture hanging over an edge there would have been cropped smaller.
    fits_x = cropped_x | ((-slack_x <= left) & (right <= fw + slack_x))
    fits_y = cropped_y | ((-slack_y <= top) & (bottom <= fh + slack_y))
    score_box = _box_scorer(reading.presence, frame)
    best, best_score, best_corner = None, -np.inf, None
    for k in np.nonzero(in_frame & fits_x & fits_y)[0]:
        box = tuple(boxes[k])
        score = score_box(box) - 1e-6 * _centre_distance(box, (0, 0, fw, fh))
        if score > best_score:
            best, best_score, best_corner = box, score, every[k, 0]
    if best is None:  # no placement fits (a picture larger than the frame and shifted): the frame
        best, best_corner = (0.0, 0.0, float(fw), float(fh)), np.array(geometry.origin)
    left, top, right, bottom = best
    clipped = (max(0.0, left), max(0.0, top), min(float(fw), right), min(float(fh), bottom))
    visible_area = max(0.0, clipped[2] - clipped[0]) * max(0.0, clipped[3] - clipped[1])
    return Placement(
        box=tuple(round(v) for v in clipped),
        extent=(round(float(extent[0])), round(float(extent[1]))),
        frame=frame,
        cropped=cropped,
        embedded=embedded,
        spans_width=bool(extent[0] >= fw * (1 - PLACE_SLACK)),
        spans_height=bool(extent[1] >= fh * (1 - PLACE_SLACK)),
        fills=round(visible_area / float(fw * fh), 3),
        rotation=round(geometry.rotation, 2),
        stretch=round(geometry.stretch, 4),
        shear=round(geometry.shear, 2),
        uniform=geometry.uniform and not reading.perspective,
        region=reading.region,
        corner=(float(best_corner[0]), float(best_corner[1])),
        matrix=tuple(map(tuple, geometry.m.tolist())),
        perspective=reading.perspective,
    )


def _box_scorer(presence: PresenceMap | None, frame: tuple[int, int]):
    """score(box): the summed (z - PLACE_Z) of the presence blocks whose centres lie in the
    box (0 for every box without a presence map)."""
    if presence is None:
        return lambda box: 0.0
    z = presence.z.astype(np.float64) - PLACE_Z
    table = np.zeros((z.shape[0] + 1, z.shape[1] + 1))
    table[1:, 1:] = z.cumsum(axis=0).cumsum(axis=1)
    bw, bh = presence.block

    def score(box) -> float:
        # blocks whose centre (k + 0.5) * size lies in [low, high)
        c0 = int(np.clip(np.ceil(box[0] / bw - 0.5), 0, z.shape[1]))
        c1 = int(np.clip(np.ceil(box[2] / bw - 0.5), 0, z.shape[1]))
        r0 = int(np.clip(np.ceil(box[1] / bh - 0.5), 0, z.shape[0]))
        r1 = int(np.clip(np.ceil(box[3] / bh - 0.5), 0, z.shape[0]))
        return float(table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0])

    return score


def _centre_distance(a, b) -> float:
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))
