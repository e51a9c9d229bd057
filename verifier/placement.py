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

from realmark.watermark.codec import TILE, Geometry, Reading, working_size

from .evidence import Placement

# The mapped picture must differ from the frame by more than this share of a side to be
# cropped (larger) or embedded (smaller): the lattice measures sizes to about 0.3 %, and
# platforms trim a pixel or two when they round sizes to even numbers.
SIZE_TOLERANCE = 0.03


def _corners(geometry: Geometry, size_cells: tuple[int, int], shift: tuple[int, int]) -> np.ndarray:
    """The signed picture's four corners in submitted pixels, with its top-left corner
    `shift` whole tiles from the geometry's origin tile."""
    w, h = size_cells
    cells = np.array([[0, 0], [w, 0], [0, h], [w, h]], float) - TILE * np.array(shift, float)
    return np.array(geometry.origin) + cells @ geometry.m.T


def place(reading: Reading, frame: tuple[int, int], signed: tuple[int, int]) -> Placement | None:
    """The signed picture (width, height) in a submitted frame (width, height); None when
    the reading carries no geometry."""
    geometry = reading.geometry
    if geometry is None:
        return None
    size_cells = working_size(*signed)
    fw, fh = frame
    # How large the whole signed picture is in the frame, along the frame's axes.
    corners = _corners(geometry, size_cells, (0, 0))
    extent = corners.max(axis=0) - corners.min(axis=0)
    cropped = bool(extent[0] > fw * (1 + SIZE_TOLERANCE) or extent[1] > fh * (1 + SIZE_TOLERANCE))
    embedded = bool(extent[0] < fw * (1 - SIZE_TOLERANCE) or extent[1] < fh * (1 - SIZE_TOLERANCE))
    # Where: the mark repeats every tile, so the picture's top-left corner is the origin
    # plus some whole number of tiles; the placement that best covers the region wins
    # (without a region, the one nearest the frame's centre).
    target = reading.region or (0, 0, fw, fh)
    best, best_score = None, -np.inf
    span = [int(np.ceil(n / TILE)) + 1 for n in size_cells]
    for i in range(-span[0], span[0] + 1):
        for j in range(-span[1], span[1] + 1):
            c = _corners(geometry, size_cells, (i, j))
            box = (*c.min(axis=0), *c.max(axis=0))
            score = _overlap(box, target) - 1e-3 * _centre_distance(box, target)
            if score > best_score:
                best, best_score = box, score
    left, top, right, bottom = best
    clipped = (max(0.0, left), max(0.0, top), min(float(fw), right), min(float(fh), bottom))
    visible_area = max(0.0, clipped[2] - clipped[0]) * max(0.0, clipped[3] - clipped[1])
    return Placement(
        box=tuple(round(v) for v in clipped),
        extent=(round(float(extent[0])), round(float(extent[1]))),
        frame=frame,
        cropped=cropped,
        embedded=embedded,
        spans_width=bool(extent[0] >= fw * (1 - SIZE_TOLERANCE)),
        spans_height=bool(extent[1] >= fh * (1 - SIZE_TOLERANCE)),
        fills=round(visible_area / float(fw * fh), 3),
        rotation=round(geometry.rotation, 2),
        stretch=round(geometry.stretch, 4),
        shear=round(geometry.shear, 2),
        uniform=geometry.uniform,
        region=reading.region,
    )


def _overlap(a, b) -> float:
    """Intersection over union of two boxes (left, top, right, bottom)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _centre_distance(a, b) -> float:
    return float(np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2))
