"""Where in a frame a picture may sit, from the frame's own look (not the mark): the
lattice search then looks at each place alone, where the rest of the frame only adds
noise to the fold.

- textured_box: a picture framed by flat surroundings (app chrome, plain bars);
- panels: what straight edges across the frame cut it into (a collage's tiles, a picture
  between text bars, a letterbox's picture between its fills);
- outlined_boxes: boxes whose sides are straight edge segments meeting at a corner (a
  window over other footage, a picture pasted on a busy background);
- snapped_box: a box found on a reduced plane, its sides moved onto the full picture's
  edges;
- filled_box: a picture told from an app's flat chrome by its levels, where it shows no
  edge (a dark picture in dark mode);
- quadrilateral: a picture in perspective or turned on a flat fill, its four corners;
  snapped_quadrilateral: those corners fitted to the full picture's edges.

All take a plane (whitened for textured_box, grey levels for the others; the full
picture's for snapped_box, filled_box and snapped_quadrilateral) and return boxes (left,
top, right, bottom) or corners (x, y) as fractions of it (the snapped quadrilateral: in
its pixels).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

TEXTURE_LEVEL = 0.35  # mean |whitened| above which an area counts as textured (flat UI: < 0.1)


def textured_box(white: np.ndarray) -> tuple[float, float, float, float] | None:
    """The bounding box (left, top, right, bottom, as fractions of the plane) of the
    largest textured area when flat surroundings frame it: a photo in a screenshot's app
    chrome, a picture on a plain background or between bars. None when texture is
    everywhere (or nowhere)."""
    energy = ndimage.uniform_filter(np.abs(white), 9)
    textured = energy > TEXTURE_LEVEL
    share = float(textured.mean())
    if not 0.02 < share < 0.8:
        return None
    labels, n = ndimage.label(ndimage.binary_closing(textured, np.ones((5, 5))))
    if n == 0:
        return None
    sizes = ndimage.sum(textured, labels, range(1, n + 1))
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)) + 1)
    h, w = white.shape
    box = (cols.min() / w, rows.min() / h, (cols.max() + 1) / w, (rows.max() + 1) / h)
    if (box[2] - box[0]) * (box[3] - box[1]) > 0.8:
        return None
    return box


# Panels: a collage's tiles, a meme's picture under its text bar. Their edges are straight
# lines across the whole span of what holds them, where the picture jumps from one
# content to another at most places along the line; inside a photo a line like that is
# rare, and where the texture jumps everywhere the rows beside it jump as well.
PANEL_EDGE = 14.0  # grey levels across the edge (2 pixels apart) that count as a jump
PANEL_LINE = 0.6  # share of the span that must jump
PANEL_MIN_SHARE = 0.12  # a panel's sides: at least this share of the picture's short side
PANEL_DEPTH = 3  # nested splits (a collage's rows, then each row's tiles, then one more)
PANEL_SIZE_SLACK = 0.03  # panels of a collage are one size to this share (gutters, rounding)
PANEL_GAP_AT_MOST = 2  # plane pixels between two parts of one tile (the edge's own width)


def _edge_lines(gray: np.ndarray, axis: int) -> list[int]:
    """Positions of straight edges across the whole of a grey picture: rows (axis 0) or
    columns (axis 1) where the picture jumps at PANEL_LINE of the span, more than twice as
    often as a few pixels either side."""
    if axis == 0:
        share = (np.abs(gray[2:, :] - gray[:-2, :]) > PANEL_EDGE).mean(axis=1)
    else:
        share = (np.abs(gray[:, 2:] - gray[:, :-2]) > PANEL_EDGE).mean(axis=0)
    lines = []
    for i in np.flatnonzero(share >= PANEL_LINE).tolist():
        if share[i] < share[max(0, i - 2) : i + 3].max():
            continue  # the edge's strongest row: a soft edge spans two or three
        beside = np.concatenate([share[max(0, i - 10) : max(0, i - 3)], share[i + 4 : i + 11]])
        if beside.size and float(np.median(beside)) > 0.5 * share[i]:
            continue  # texture, not an edge
        lines.append(i + 1)  # the difference at i spans rows i .. i + 2
    return lines


def panels(gray: np.ndarray) -> list[tuple[float, float, float, float]]:
    """The panels a picture is cut into by straight edges across it (a collage's tiles,
    a picture between text bars), as boxes (left, top, right, bottom) in fractions of the
    picture; none when nothing cuts it. Cut recursively (guillotine, as collages are
    laid out): edges across the whole picture, then across each part."""
    h, w = gray.shape
    leaves: list[tuple[int, int, int, int]] = []
    smallest = PANEL_MIN_SHARE * min(h, w)
    _split(gray, (0, 0, h, w), PANEL_DEPTH, smallest, leaves)
    leaves += _rejoined(leaves, smallest)
    whole = h * w
    return [
        (left / w, top / h, right / w, bottom / h)
        for top, left, bottom, right in leaves
        if (bottom - top) * (right - left) < 0.9 * whole
    ]


def _rejoined(leaves: list[tuple[int, int, int, int]], smallest: float) -> list[tuple[int, int, int, int]]:
    """Pairs of panels side by side (sharing a whole side) that together have the size
    most panels have: a collage tile cut in two along a straight edge in its own picture
    (a tower, a horizon), where its neighbours were not; or along two edges, the sliver
    between them (narrower than `smallest`) dropped by the cut (a rocket's body)."""
    if len(leaves) < 3:
        return []
    sizes = [(bottom - top, right - left) for top, left, bottom, right in leaves]

    def near(a, b):
        return abs(a[0] - b[0]) <= PANEL_SIZE_SLACK * b[0] and abs(a[1] - b[1]) <= PANEL_SIZE_SLACK * b[1]

    usual = max(sizes, key=lambda size: sum(near(other, size) for other in sizes))
    if sum(near(other, usual) for other in sizes) < 2:
        return []
    joined = []
    for i, (t1, l1, b1, r1) in enumerate(leaves):
        for t2, l2, b2, r2 in leaves[i + 1 :]:
            side_by_side = (t1, b1) == (t2, b2) and _touching(r1, l2, smallest)
            stacked = (l1, r1) == (l2, r2) and _touching(b1, t2, smallest)
            union = (min(t1, t2), min(l1, l2), max(b1, b2), max(r1, r2))
            if (side_by_side or stacked) and near((union[2] - union[0], union[3] - union[1]), usual):
                joined.append(union)
    return joined


def _touching(end: int, start: int, smallest: float) -> bool:
    """Whether a panel ending at `end` and the next starting at `start` were one: apart by
    no more than the edge's own width, or by a sliver the cut dropped."""
    return abs(start - end) <= PANEL_GAP_AT_MOST or 0 < start - end < smallest


def _split(
    gray: np.ndarray,
    box: tuple[int, int, int, int],
    depth: int,
    smallest: float,
    leaves: list[tuple[int, int, int, int]],
) -> None:
    """Cut box (top, left, bottom, right) along the edges across it, then each part, to
    `depth` levels; the parts at least `smallest` pixels each way go to leaves, in order.
    (A function of its own, not a closure: a recursive closure is a reference cycle, and
    each would keep its picture until the interpreter's rare full collection.)"""
    top, left, bottom, right = box
    for axis in (0, 1):
        lines = _edge_lines(gray[top:bottom, left:right], axis)
        if not lines:
            continue
        end = bottom - top if axis == 0 else right - left
        edges = [0, *lines, end]
        parts = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a >= smallest]
        boxes = [(top + a, left, top + b, right) if axis == 0 else (top, left + a, bottom, left + b) for a, b in parts]
        if len(boxes) == 1:
            # Lines that only cut slivers off (a gutter's edge left at the box's border)
            # trim the box and spend no depth: counted as a cut, they stopped a 3x3
            # collage's middle row from being cut into its tiles.
            _split(gray, boxes[0], depth, smallest, leaves)
            return
        for part in boxes:  # gutters and slivers fall away
            if depth > 1:
                _split(gray, part, depth - 1, smallest, leaves)
            else:
                leaves.append(part)
        return
    leaves.append(box)


# Outlined boxes: a window over other footage (a reaction video's picture-in-picture), a
# picture pasted on a busy background. Their sides are straight edge segments that need
# not cross the whole picture; two that meet at a corner outline the box.
OUTLINE_RUN = 0.55  # share of pixels that jump, over OUTLINE_SPAN pixels along a segment
OUTLINE_SPAN = 25
OUTLINE_GAP = 24  # pixels: a segment goes on across a gap this long (where both sides look alike)
OUTLINE_MIN_SHARE = 0.15  # a segment's and a box side's length: share of the picture's short side
OUTLINE_CORNER = 6  # pixels: how near two segments' ends must be to meet
# A rounded corner (apps draw pictures as cards: X, Threads and Bluesky round them by 12-16
# points, 36-48 px on a 1080 px screenshot) stops both segments short of it by about its
# radius: they meet there when both fall short by the same, up to this many plane pixels,
# and the box is grown by it on every side (a card rounds all four corners alike). Looked
# for only where flat chrome frames the picture (textured_box): in plain photos such
# near-corners outlined 22 boxes of 18 photos instead of 14, each a search.
OUTLINE_ROUND = 24
OUTLINE_BOXES = 4  # the largest boxes kept
# A box longer than this for its width is not a window holding a signed picture:
# pictures are published at 1:1 to 9:16 (21:9 at the widest). Plain photos outline such
# strips (a rocket's side, a door frame), and each box found is searched at 10-30 ms.
# (Panels are not held to it: a collage's row that was not cut into its tiles is a
# strip with the picture inside.)
OUTLINE_MAX_ASPECT = 2.4


def _segments(gray: np.ndarray) -> list[tuple[int, int, int]]:
    """Horizontal straight edge segments (row, start, end): the longest run along each
    row where the picture jumps (2 pixels apart) at OUTLINE_RUN of the pixels, with quiet
    rows on at least one side (a window's edge; texture jumps on both)."""
    jump = (np.abs(gray[2:, :] - gray[:-2, :]) > PANEL_EDGE).astype(np.float32)  # row i: the edge at i + 1
    dense = ndimage.uniform_filter1d(jump, OUTLINE_SPAN, axis=1) >= OUTLINE_RUN
    rows, width = dense.shape
    shortest = OUTLINE_MIN_SHARE * min(gray.shape)
    found = []
    for i in np.flatnonzero(dense.sum(axis=1) >= shortest).tolist():
        xs = np.flatnonzero(dense[i])
        breaks = np.flatnonzero(np.diff(xs) > OUTLINE_GAP)
        starts = np.concatenate([[xs[0]], xs[breaks + 1]])
        ends = np.concatenate([xs[breaks], [xs[-1]]]) + 1
        k = int(np.argmax(ends - starts))
        a, b = int(starts[k]), int(ends[k])
        if b - a < shortest:
            continue
        own = float(jump[i, a:b].mean())
        above = float(jump[max(0, i - 8) : max(0, i - 3), a:b].mean()) if i >= 4 else 0.0
        below = float(jump[i + 4 : i + 9, a:b].mean()) if i + 4 < rows else 0.0
        if min(above, below) > 0.5 * own:
            continue
        found.append((i + 1, a, b, own * (b - a)))
    kept: list[tuple[int, int, int, float]] = []
    for seg in sorted(found, key=lambda f: -f[3]):  # an edge spans two or three rows: its strongest
        if all(abs(seg[0] - k[0]) > 3 or seg[2] <= k[1] or seg[1] >= k[2] for k in kept):
            kept.append(seg)
    return [(r, a, b) for r, a, b, _ in kept]


def _extended(box: tuple[int, int, int, int], across, down) -> tuple[int, int, int, int]:
    """A box grown along the other segments on its sides: where the window and what is
    around it look alike, one side's segment stops short and another side's goes on.
    (Both the box and the grown one are kept: a segment beside the box, a screenshot's
    caption line, can also grow it too far.)"""
    left, top, right, bottom = box
    near = OUTLINE_CORNER
    for _ in range(2):
        for y, x0, x1 in across:
            if (abs(y - top) <= near or abs(y - bottom) <= near) and x0 < right and x1 > left:
                left, right = min(left, x0), max(right, x1)
        for x, y0, y1 in down:
            if (abs(x - left) <= near or abs(x - right) <= near) and y0 < bottom and y1 > top:
                top, bottom = min(top, y0), max(bottom, y1)
    return left, top, right, bottom


def _outside(at: int, start: int, end: int) -> bool:
    """Whether a segment from start to end stops short of `at` (a rounded corner's gap),
    rather than running past it."""
    return at <= start or at >= end


def outlined_boxes(gray: np.ndarray, cards: bool = False) -> list[tuple[float, float, float, float]]:
    """Boxes (left, top, right, bottom, fractions of the picture) outlined by a horizontal
    and a vertical edge segment that meet at a corner (also a rounded one, with `cards`:
    an app's picture on flat chrome), shaped like a picture (up to OUTLINE_MAX_ASPECT),
    the largest first; at most OUTLINE_BOXES."""
    h, w = gray.shape
    across = _segments(gray)  # (y, x0, x1)
    down = _segments(np.ascontiguousarray(gray.T))  # (x, y0, y1)
    smallest, near = OUTLINE_MIN_SHARE * min(h, w), OUTLINE_CORNER
    boxes: list[tuple[int, int, int, int]] = []
    rounded: set[tuple[int, int, int, int]] = set()  # boxes found from a rounded corner
    for y, x0, x1 in across:
        for x, y0, y1 in down:
            short_x, short_y = min(abs(x - x0), abs(x - x1)), min(abs(y - y0), abs(y - y1))
            if max(short_x, short_y) <= near:
                grow = 0
            elif (
                cards
                and max(short_x, short_y) <= OUTLINE_ROUND
                and abs(short_x - short_y) <= near
                and _outside(x, x0, x1)
                and _outside(y, y0, y1)
            ):
                grow = round((short_x + short_y) / 2)  # a rounded corner
            else:
                continue
            if x1 - x0 < smallest or y1 - y0 < smallest or (x1 - x0) * (y1 - y0) > 0.8 * h * w:
                continue
            card = (max(0, x0 - grow), max(0, y0 - grow), min(w, x1 + grow), min(h, y1 + grow))
            for box in (card, _extended(card, across, down)):
                long_side, short_side = max(box[2] - box[0], box[3] - box[1]), min(box[2] - box[0], box[3] - box[1])
                if long_side > OUTLINE_MAX_ASPECT * short_side:
                    continue
                if all(max(abs(a - b) for a, b in zip(box, other, strict=True)) > near for other in boxes):
                    boxes.append(box)
                    if grow:
                        rounded.add(box)
    # Square corners first: a rounded one is weaker evidence (two segments that merely stop
    # near each other), so it only fills the places square ones leave.
    boxes.sort(key=lambda b: (b in rounded, -(b[2] - b[0]) * (b[3] - b[1])))
    return [(x0 / w, y0 / h, x1 / w, y1 / h) for x0, y0, x1, y1 in boxes[:OUTLINE_BOXES]]


# Snapping: a box found on a reduced plane (PANEL_FINDING_SHORT) is a few of the full
# picture's pixels off (a post screenshot's picture on a 1080 px screen: 2 px a plane
# pixel), and for a picture a third of the screen wide that is more than a cell of its
# mark. Each side is moved to the strongest straight edge within reach on the full
# picture, where it jumps along most of the side; a side with no such edge near it stays.
SNAP_REACH = 8  # full-picture pixels, at least; 3 plane pixels on a larger picture
SNAP_SPAN = 0.8  # the middle of each side that must jump (its ends may touch other edges)
SNAP_JUMP = 7.0  # grey levels between neighbouring rows that count as a jump (1 pixel apart)
SNAP_LINE = 0.5  # share of the span that must jump
SNAP_OVER = 2.0  # times the median of the rows within reach: an edge, not texture
SNAP_FLAT = 2.0  # grey levels: a row this close to its median along the side is a gutter's


def snapped_box(
    gray: np.ndarray, box: tuple[float, float, float, float], plane_short: int
) -> tuple[float, float, float, float]:
    """`box` (left, top, right, bottom, fractions) found on a plane of `plane_short`, with
    each side moved to the full grey picture's edge nearest its straight line."""
    h, w = gray.shape
    reach = max(SNAP_REACH, round(3 * min(h, w) / plane_short))
    left, top, right, bottom = round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)
    top, bottom = (_snapped_side(gray, side, left, right, reach, inward) for side, inward in ((top, 1), (bottom, -1)))
    left, right = (_snapped_side(gray.T, side, top, bottom, reach, inward) for side, inward in ((left, 1), (right, -1)))
    if right - left < 2 * reach or bottom - top < 2 * reach:
        return box
    return left / w, top / h, right / w, bottom / h


def _snapped_side(gray: np.ndarray, at: int, start: int, end: int, reach: int, inward: int) -> int:
    """The row boundary (the first row below the edge) nearest `at` where the rows between
    columns start and end jump most, or `at` when none stands out. `inward`: 1 when the
    box lies below the side, -1 above. Of two edges within reach, the one with a flat row
    on the box's side of it is a gutter's far edge (a collage's tiles are cut on a plane
    where the gutter is a pixel or two), not the picture's."""
    margin = round((1 - SNAP_SPAN) / 2 * (end - start))
    a, b = start + margin, end - margin
    lo, hi = max(1, at - reach), min(gray.shape[0] - 1, at + reach)
    if b - a < 8 or hi <= lo:
        return at
    rows = gray[lo - 1 : hi + 1, a:b]
    share = (np.abs(np.diff(rows, axis=0)) > SNAP_JUMP).mean(axis=1)  # share[i]: boundary at lo + i
    edges = (share >= SNAP_LINE) & (share >= SNAP_OVER * float(np.median(share)))
    if not edges.any():
        return at
    # the row on the box's side of boundary lo + i: rows[i + 1] (box below) or rows[i] (above)
    inside = rows[1:] if inward > 0 else rows[:-1]
    flat = np.abs(inside - np.median(inside, axis=1, keepdims=True)).mean(axis=1) < SNAP_FLAT
    if (edges & ~flat).any():
        edges &= ~flat
    return lo + int(np.argmax(np.where(edges, share, -1.0)))


# A dark picture in an app's dark mode (or a light one in its light mode) shows no edge
# where it meets the chrome: its border jumps by a few grey levels, not SNAP_JUMP. It
# still differs from the chrome's one flat colour at most of its pixels, while the
# chrome's text, icons and lines are thin. So the picture is also looked for as the
# largest area whose pixels are not the chrome's colour, once thin marks are opened away.
FILL_LEVEL = 1  # grey levels from the chrome's colour (a re-encode keeps flat chrome exact)
FILL_RING_FLAT = 2.0  # the ring around the textured box: its mean distance from its median
FILL_BLOCK = 4  # full-picture pixels a block of the coarse mask
FILL_OPEN = 5  # blocks: opening away text strokes, icons' outlines and thin rules (20 px)
FILL_SIDE = 0.5  # share of a side's pixels off the chrome's colour that puts it inside
FILL_MIN_SHARE = 0.25  # of the textured box's area: a smaller filled area is not the picture


def filled_box(gray: np.ndarray, around: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """The largest area of the full grey picture within the textured box `around`
    (fractions, slightly widened) whose pixels are not the chrome's flat colour, opened
    of thin marks, with each side placed on the full picture's pixels; None when the
    chrome around it is not flat or nothing large stands out."""
    h, w = gray.shape
    margin = round(0.02 * min(h, w))
    x0, y0 = max(0, round(around[0] * w) - margin), max(0, round(around[1] * h) - margin)
    x1, y1 = min(w, round(around[2] * w) + margin), min(h, round(around[3] * h) + margin)
    if x1 - x0 < 8 * FILL_BLOCK or y1 - y0 < 8 * FILL_BLOCK:
        return None
    region = gray[y0:y1, x0:x1]
    # the ring's sides that lie inside the frame (a picture as wide as the screen has no chrome beside it)
    sides = [(y0 > 0, region[:2]), (y1 < h, region[-2:]), (x0 > 0, region[:, :2]), (x1 < w, region[:, -2:])]
    if not any(inside for inside, _ in sides):
        return None
    ring = np.concatenate([side.ravel() for inside, side in sides if inside])
    chrome = float(np.median(ring))
    if float(np.abs(ring - chrome).mean()) > FILL_RING_FLAT:
        return None  # not an app's flat chrome
    off = np.abs(region - chrome) > FILL_LEVEL
    bh, bw = off.shape[0] // FILL_BLOCK, off.shape[1] // FILL_BLOCK
    blocks = off[: bh * FILL_BLOCK, : bw * FILL_BLOCK].reshape(bh, FILL_BLOCK, bw, FILL_BLOCK).mean(axis=(1, 3)) > 0.5
    opened = ndimage.binary_opening(blocks, np.ones((FILL_OPEN, FILL_OPEN)))
    labels, n = ndimage.label(opened)
    if n == 0:
        return None
    sizes = ndimage.sum(opened, labels, range(1, n + 1))
    biggest = int(np.argmax(sizes))
    if sizes[biggest] * FILL_BLOCK**2 < FILL_MIN_SHARE * (x1 - x0 - 2 * margin) * (y1 - y0 - 2 * margin):
        return None
    rows, cols = np.nonzero(labels == biggest + 1)
    top, bottom = rows.min() * FILL_BLOCK, (rows.max() + 1) * FILL_BLOCK
    left, right = cols.min() * FILL_BLOCK, (cols.max() + 1) * FILL_BLOCK
    reach = 2 * FILL_BLOCK
    top, bottom = (_filled_side(off, side, left, right, reach, inward) for side, inward in ((top, 1), (bottom, -1)))
    left, right = (_filled_side(off.T, side, top, bottom, reach, inward) for side, inward in ((left, 1), (right, -1)))
    return (x0 + left) / w, (y0 + top) / h, (x0 + right) / w, (y0 + bottom) / h


def _filled_side(off: np.ndarray, at: int, start: int, end: int, reach: int, inward: int) -> int:
    """The row boundary nearest `at` (within reach) between rows mostly of the chrome's
    colour and rows mostly off it, over the middle SNAP_SPAN of the side; `inward` as in
    _snapped_side."""
    margin = round((1 - SNAP_SPAN) / 2 * (end - start))
    share = off[:, start + margin : end - margin].mean(axis=1)
    inside = share >= FILL_SIDE
    best = None
    for boundary in range(max(1, at - reach), min(off.shape[0], at + reach + 1)):
        above, below = inside[boundary - 1], inside[boundary] if boundary < off.shape[0] else False
        if (inward > 0 and below and not above) or (inward < 0 and above and not below):
            if best is None or abs(boundary - at) < abs(best - at):
                best = boundary
    return at if best is None else best


# Quadrilaterals: a picture seen in perspective or turned on a flat fill (a perspective
# warp or a rotation that filled the corners it uncovered with one colour, a photo of a
# screen against a plain dark surround). Its outline is no box, but four straight sides:
# the largest area that is not the fill, reached from the frame's edge, outlined by its
# convex hull, whose longest straight runs are the sides. A picture whose corner is as
# dark as the fill still shows most of each side, so the sides are crossed where they
# meet, not taken from the outline's corners (on four warped bench photos with a dark
# corner, the outline's corner was 40-270 px from the true one at 1080p; the sides'
# crossing within 2 px).
QUAD_FILL_LEVEL = 10  # grey levels from the fill's colour (JPEG rings by a few levels beside the picture)
QUAD_FILL_EDGE = 0.3  # share of two opposite edges of the frame that must be fill
QUAD_SHARE = (0.1, 0.97)  # of the frame: the picture's area
QUAD_SIDE_TURN = np.radians(4.0)  # hull edges turning less than this continue one side (pixel steps)
QUAD_SIDES_SHARE = 0.6  # of the outline's perimeter: the four sides' runs together
# A quadrilateral whose corners stray from a parallelogram by more than this share of its
# diagonal is in perspective; a parallelogram is an affine picture (turned, sheared).
QUAD_PERSPECTIVE = 0.005
# A box (a parallelogram whose sides lie along the frame's axes, within this angle) is
# left to the boxes and panels above. A picture turned on its fill (a rotation that kept
# the whole picture) is read inside its outline: the lattice search sees its mark at
# the frame's scale, which at 30-45 degrees is half the picture's (4 of 11 bench photos
# read at 30 and at 45 degrees, 11 of 11 with their outline).
QUAD_AXIS = np.radians(0.5)
# The picture fills at least this share of its quadrilateral (its own dark corner on a
# black fill leaves a few per cent out), and the fill this share of the rest.
QUAD_FILLED = 0.85
# Found on a plane of this short side: the corners are fitted to the full picture after.
QUAD_FINDING_SHORT = 256


def quadrilateral(gray: np.ndarray) -> np.ndarray | None:
    """The corners (x, y fractions of the plane; top-left, top-right, bottom-right,
    bottom-left) of a picture in perspective or turned on a flat fill, or None when the
    frame has no flat fill around a four-sided picture or the picture is a box."""
    levels = gray.astype(np.int16)
    h, w = levels.shape
    if min(h, w) < 32:
        return None
    ring = np.concatenate([levels[:2].ravel(), levels[-2:].ravel(), levels[:, :2].ravel(), levels[:, -2:].ravel()])
    fill = np.abs(levels - int(np.median(ring))) <= QUAD_FILL_LEVEL
    if fill[[0, -1]].mean() < QUAD_FILL_EDGE and fill[:, [0, -1]].mean() < QUAD_FILL_EDGE:
        return None
    labels, _ = ndimage.label(fill)
    outer = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    surround = np.isin(labels, outer[outer > 0])
    if not QUAD_SHARE[0] < 1 - surround.mean() < QUAD_SHARE[1]:
        return None
    picture = ndimage.binary_opening(~surround, np.ones((3, 3)))  # specks of the fill's JPEG noise away
    rows, cols = np.nonzero(picture & ~ndimage.binary_erosion(picture))
    if len(rows) < 16:
        return None
    points = np.column_stack([cols + 0.5, rows + 0.5])
    try:
        hull = points[ConvexHull(points).vertices]  # counter-clockwise in (x, y), clockwise on screen
    except QhullError:  # a line of pixels
        return None
    sides = _hull_sides(hull)
    corners = _crossings(sides) if sides is not None else None
    if corners is None:
        return None
    quad = _clockwise(corners)
    if not (np.all(quad > -0.05 * max(h, w)) and np.all(quad < 1.05 * np.array([w, h]))):
        return None
    if not in_perspective(quad):
        sides = np.roll(quad, -1, axis=0) - quad
        tilt = np.abs(np.arctan2(sides[:, 1], sides[:, 0])) % (np.pi / 2)
        if np.all(np.minimum(tilt, np.pi / 2 - tilt) < QUAD_AXIS):
            return None  # a box
    # The picture fills its quadrilateral and the fill all the rest (a sky or a dark
    # ground reaching the frame's edge outlines no four-sided picture).
    inside = _inside(quad, (h, w))
    if picture[inside].mean() < QUAD_FILLED or surround[~inside].mean() < QUAD_FILLED:
        return None
    return quad / np.array([w, h], float)


def in_perspective(quad: np.ndarray) -> bool:
    """Whether four corners (clockwise) stray from a parallelogram (QUAD_PERSPECTIVE)."""
    return bool(np.hypot(*(quad[0] + quad[2] - quad[1] - quad[3])) >= QUAD_PERSPECTIVE * np.hypot(*(quad[2] - quad[0])))


def _inside(quad: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which pixel centres of a plane lie inside a convex quadrilateral (clockwise on screen)."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w] + 0.5
    inside = np.ones(shape, bool)
    for start, end in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        inside &= (end[0] - start[0]) * (y - start[1]) - (end[1] - start[1]) * (x - start[0]) >= 0
    return inside


def _crossings(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """Where each line (a point on it, its unit normal) crosses the one before it, in
    their order; None when two neighbours are parallel."""
    out = []
    for (p1, n1), (p2, n2) in zip(lines[-1:] + lines[:-1], lines, strict=True):
        normals = np.array([n1, n2])
        if abs(np.linalg.det(normals)) < 1e-6:
            return None
        out.append(np.linalg.solve(normals, [n1 @ p1, n2 @ p2]))
    return np.array(out)


def _hull_sides(hull: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The four longest straight runs of a convex outline (a point on each and its unit
    normal), in their order along it; None when they are not most of it."""
    edges = np.roll(hull, -1, axis=0) - hull
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    turns = np.abs((angles - np.roll(angles, 1) + np.pi) % (2 * np.pi) - np.pi)  # turns[i]: into edge i
    starts = [i for i in range(len(hull)) if turns[i] > QUAD_SIDE_TURN] or [0]
    runs = []
    for a, b in zip(starts, starts[1:] + [starts[0] + len(hull)], strict=True):
        run = np.arange(a, b) % len(hull)
        start, end = hull[run[0]], hull[(run[-1] + 1) % len(hull)]
        runs.append((float(lengths[run].sum()), a, start, end - start))
    if len(runs) < 4:
        return None
    four = sorted(sorted(runs, key=lambda r: -r[0])[:4], key=lambda r: r[1])
    if sum(r[0] for r in four) < QUAD_SIDES_SHARE * lengths.sum():
        return None
    return [(start, np.array([-d[1], d[0]]) / np.hypot(*d)) for _, _, start, d in four]


def _clockwise(quad: np.ndarray) -> np.ndarray:
    """Four corners in order clockwise on screen, from the one nearest the top-left."""
    centre = quad.mean(axis=0)
    quad = quad[np.argsort(np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0]))]
    return np.roll(quad, -int(np.argmin(quad[:, 0] + quad[:, 1])), axis=0)


# Each side of a quadrilateral found on a reduced plane is then fitted to the full
# picture's edge: at QUAD_SAMPLES places along its middle, the strongest step across it
# within reach (to a tenth of a pixel, from the gradient's peak), those that stand out
# fitted by a line, the sides' lines crossed. A corner a pixel off at 1080p moves the mark
# by a quarter of a cell; the picture's own dark stretches of a side have no step and
# are left out.
QUAD_SAMPLES = 80
QUAD_REACH = 4.0  # full-picture pixels either side of the side found on the plane, at least,
QUAD_REACH_PLANE = 2.5  # or this many of the plane's pixels
QUAD_STEP_SHARE = 0.3  # of the median strongest step: weaker steps are not the side
QUAD_FIT_OUTLIER = 0.75  # full-picture pixels from the line: at most this, or 2.5 times the median


def snapped_quadrilateral(gray: np.ndarray, quad: np.ndarray, plane_short: int) -> np.ndarray:
    """`quad` (fractions, found on a plane of `plane_short`) in the full grey picture's
    pixels, each side fitted to the picture's edge."""
    h, w = gray.shape
    corners = quad * np.array([w, h], float)
    reach = max(QUAD_REACH, QUAD_REACH_PLANE * min(h, w) / plane_short)
    levels = gray.astype(np.float32)
    dy, dx = np.gradient(levels)
    lines = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        along = end - start
        normal = np.array([-along[1], along[0]]) / np.hypot(*along)
        base = start + np.linspace(0.1, 0.9, QUAD_SAMPLES)[:, None] * along
        offsets = np.linspace(-reach, reach, int(reach * 4) + 1)
        points = base[:, None, :] + offsets[None, :, None] * normal
        at = [points[..., 1].ravel() - 0.5, points[..., 0].ravel() - 0.5]  # pixel i spans [i, i + 1)
        gradient = (ndimage.map_coordinates(d, at, order=1) for d in (dx, dy))
        step = np.abs(next(gradient) * normal[0] + next(gradient) * normal[1]).reshape(QUAD_SAMPLES, -1)
        peak = np.clip(np.argmax(step, axis=1), 1, len(offsets) - 2)
        rows = np.arange(QUAD_SAMPLES)
        before, top, after = step[rows, peak - 1], step[rows, peak], step[rows, peak + 1]
        curve = before - 2 * top + after
        shift = np.divide(before - after, 2 * curve, out=np.zeros_like(curve), where=np.abs(curve) > 1e-6)
        found = base + (offsets[peak] + np.clip(shift, -1, 1) * (offsets[1] - offsets[0]))[:, None] * normal
        found = found[top > QUAD_STEP_SHARE * np.median(top)]
        if len(found) < QUAD_SAMPLES // 4:
            return corners  # no side to fit: as found
        for _ in range(2):
            centre = found.mean(axis=0)
            across = np.linalg.svd(found - centre)[2][1]
            off = np.abs((found - centre) @ across)
            found = found[off <= max(QUAD_FIT_OUTLIER, 2.5 * float(np.median(off)))]
        centre = found.mean(axis=0)
        lines.append((centre, np.linalg.svd(found - centre)[2][1]))
    crossed = _crossings(lines)
    return corners if crossed is None else crossed
