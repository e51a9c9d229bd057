"""A 32x32 luma grid of the signed picture, to find *where* a copy differs.

A global perceptual hash barely moves when a headline is pasted on or a face replaced
(a few bits of 256). The grid catches local changes: the copy's grid is mapped onto the
signed one by the best monotone (isotonic) curve, which absorbs re-encoding, resizing,
brightness, contrast and gamma, and any cell that stays far from the curve is a change.
Measured on 1080p photos: re-encodes and resizes stay within 9 levels (of 255), colour
adjustments mostly within 20 (clipped highlights can reach ~30); pasted text reaches
35-95, a covered region 50-215."""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image
from scipy.optimize import isotonic_regression

SIZE = 32
MAX_CELL_DIFFERENCE = 24  # levels of 255


def grid(luma: np.ndarray) -> np.ndarray:
    """The SIZE x SIZE cell means of an 8-bit luma plane, as uint8."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(luma)).resize((SIZE, SIZE), Image.BOX), dtype=np.uint8)


def _isotonic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit of y on x (pool adjacent violators, in x's order;
    ties kept in their order). scipy's: the same fit to 1e-13 as a loop in Python, at a
    fortieth of its cost (it runs five times in every comparison)."""
    order = np.argsort(x, kind="stable")
    out = np.empty(len(y))
    out[order] = isotonic_regression(y[order].astype(np.float64)).x
    return out


def _smooth_gain(ratio: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A smooth multiplicative field over the grid fitted to per-cell ratios: a quadratic
    surface in log gain (a vignette, a light leak, a gradient filter), fitted by weighted
    least squares; cells far off it get no weight in the next round (a local edit must not
    bend the field towards itself)."""
    y, x = (np.mgrid[0:SIZE, 0:SIZE] + 0.5) / SIZE - 0.5
    terms = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=-1).reshape(-1, 6)
    target = np.log(np.clip(ratio, 0.05, 20.0)).ravel()
    w = weight.ravel().astype(np.float64)
    for _ in range(3):
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(terms * sw[:, None], target * sw, rcond=None)
        fitted = terms @ coef
        w = w * (np.abs(target - fitted) < FIELD_OUTLIER_LOG)
    return np.exp(fitted).reshape(SIZE, SIZE)


FIELD_OUTLIER_LOG = 0.25  # cells whose gain is off the fitted field by more than 28 % are edits, not the filter
FIELD_ROUNDS = 3  # tone curve and gain field are refitted in turn this many times


def fitted(signed: np.ndarray, copy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The copy's grid as a filter would make it from the signed grid: a monotone tone
    curve times a smooth gain field. Returns (the prediction, the gain field)."""
    a = signed.astype(np.float64).ravel()
    b = copy.astype(np.float64).ravel()
    gain = np.ones(SIZE * SIZE)
    for _ in range(FIELD_ROUNDS):
        curve = _isotonic(a, b / gain)
        weight = curve > 8  # the ratio of dark cells is noise
        if weight.sum() < SIZE * SIZE // 4:
            break
        gain = _smooth_gain((b / np.maximum(curve, 1.0)).reshape(SIZE, SIZE), weight.reshape(SIZE, SIZE)).ravel()
    curve = _isotonic(a, b / gain)
    return (curve * gain).reshape(SIZE, SIZE), gain.reshape(SIZE, SIZE)


SLOPE_SPAN = 20.0  # levels either side over which the tone curve's slope is measured

# A tone curve that clips (a copy brightened by 40-60 %, a strong contrast or gamma) moves
# a cell's mean by less than the curve through the cells' means says, when part of the
# cell clips: its clipped pixels stop at 0 or 255 while its others go on. So a cell where
# the copy clips is darker than predicted at the top, brighter at the bottom, by more the
# more its pixels spread. Where CLIPPED_SHARE of a cell's pixels have a channel at 250 or
# more (5 or less) and the copy is darker (brighter) than predicted, CLIP_ALLOWANCE of
# the difference is taken as the clipping's, when the filter clips at that end at all
# (Fit.clips). The grid alone, on the 22 bench photos brightened by 25, 40 and 60 %,
# contrast 1.3 and 1.5, gamma 0.5 and 1.6 and six filters (JPEG q85): 19 of 286 genuine
# copies had a cell past MAX_CELL_DIFFERENCE (24-43 levels, all where the copy clipped),
# 1 with the allowance; of 264 local edits (blur fills, faces, changed text, white
# caption bars), it found the same 240. With the comparison's rule (published.py), see
# README "Brightened copies".
CLIPPED_SHARE = 0.15
CLIP_ALLOWANCE = 24
CLIP_HIGH, CLIP_LOW = 250, 5
CLIPS_FROM = (25, 230)  # a filter clips when it takes a cell from 25 or more to black, or 230 or less to white
# A filter that makes the picture more colourful clips saturated channels at both ends
# while the luma stays inside the range (a red boosted: its red channel stops at 255, its
# blue at 0, and its luma moves less than the luma curve says). Colourfulness (Hasler and
# Suesstrunk) rose by 21-49 on the 22 bench photos' colour boosts (contrast 1.2, colour
# 1.35; the nearly grey Hubble field 5), and re-encoding moved it by 2 at most.
COLOUR_BOOST = 8


@dataclass(frozen=True)
class Clipping:
    """Per cell of the grid, the share of a picture's pixels with a channel clipped."""

    high: np.ndarray  # [SIZE, SIZE] at CLIP_HIGH or above
    low: np.ndarray  # [SIZE, SIZE] at CLIP_LOW or below


def clipped_pixels(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(high, low): the pixels of a picture (RGB, or its 8-bit luma) with a channel at
    CLIP_HIGH or above, at CLIP_LOW or below (a channel can clip while the luma does not:
    a saturated red brightened)."""
    if picture.ndim == 2:
        return picture >= CLIP_HIGH, picture <= CLIP_LOW
    red, green, blue = picture[..., 0], picture[..., 1], picture[..., 2]  # numpy reduces over a short axis slowly
    return np.maximum(np.maximum(red, green), blue) >= CLIP_HIGH, np.minimum(np.minimum(red, green), blue) <= CLIP_LOW


def clipping(rgb: np.ndarray) -> Clipping:
    """Where a picture clips, cell by cell of its grid."""

    def share(mask: np.ndarray) -> np.ndarray:
        return grid(mask.astype(np.uint8) * 255).astype(np.float64) / 255.0

    high, low = clipped_pixels(rgb)
    return Clipping(share(high), share(low))


@dataclass(frozen=True)
class Fit:
    """The filter between a signed grid and a copy's, fitted once (fit()): a monotone tone
    curve times a smooth gain field. Flat arrays, one value per cell."""

    levels: np.ndarray  # the signed cells' levels
    curve: np.ndarray  # the tone curve at each
    gain: np.ndarray  # the gain field at each
    prediction: np.ndarray  # the copy's grid as the filter would make it from the signed grid
    copy: np.ndarray  # the copy's grid

    def differences(self, clipping: Clipping | None = None, colour: tuple[int, int] | None = None) -> np.ndarray:
        """Per-cell distance (levels) of the copy's grid from the filtered signed grid, less
        what the copy's clipping explains (when its `clipping` is known; `colour`: see
        clips())."""
        signed_difference = (self.copy - self.prediction).reshape(SIZE, SIZE)
        distance = np.abs(signed_difference)
        if clipping is not None:
            high, low = self.clips(colour)
            explained = (high & (clipping.high >= CLIPPED_SHARE) & (signed_difference < 0)) | (
                low & (clipping.low >= CLIPPED_SHARE) & (signed_difference > 0)
            )
            distance = np.where(explained, np.maximum(distance - CLIP_ALLOWANCE, 0.0), distance)
        return distance

    def clips(self, colour: tuple[int, int] | None = None) -> tuple[bool, bool]:
        """Whether the filter itself clips the highlights (cells well below white came out
        white) and the shadows: only then can clipping explain what a cell lost. A copy
        that was not brightened clips only where the signed picture did, and a flat panel
        painted over black space, clipped as the space was, is still a change. A filter
        that made the picture more colourful (`colour`: the signed and the copy's
        colourfulness, when the manifest has the first) clips at both ends (COLOUR_BOOST)."""
        if colour is not None and colour[1] - colour[0] >= COLOUR_BOOST:
            return True, True
        prediction = self.prediction
        high = bool(np.any((self.levels <= CLIPS_FROM[1]) & (prediction >= CLIP_HIGH)))
        low = bool(np.any((self.levels >= CLIPS_FROM[0]) & (prediction <= CLIP_LOW)))
        return high, low

    def contrast(self) -> np.ndarray:
        """Per cell, how much the filter scaled small changes of brightness there (1: kept):
        the tone curve's slope at the cell's level times the gain field. A sepia matrix
        that clips bright areas, or a vignette, takes fine detail (and a watermark) down
        with it."""
        order = np.argsort(self.levels, kind="stable")
        levels, curve = self.levels[order], self.curve[order]
        up = np.interp(self.levels + SLOPE_SPAN, levels, curve)
        down = np.interp(self.levels - SLOPE_SPAN, levels, curve)
        return ((up - down) / (2 * SLOPE_SPAN) * self.gain).reshape(SIZE, SIZE)

    def look(self, colour: tuple[int, int] | None) -> Filter:
        """The filter as a whole (colour: the signed and the copy's colourfulness, when the
        manifest has the first)."""
        change = colour[1] - colour[0] if colour is not None else None
        spread = float(self.gain.max() / max(self.gain.min(), 1e-6))
        # `clipped` is the luma curve's own clipping, not a colour boost's (clips(colour)):
        # compared with the published file, a copy made more colourful is judged by its
        # newly clipped channels (published.NEWLY_CLIPPED); taken as clipping its luma
        # too, it hid 6 of 88 warps under a colour boost.
        return Filter(float(np.abs(self.curve - self.levels).mean()), spread, change, any(self.clips()))


def fit(signed: np.ndarray, copy: np.ndarray) -> Fit:
    """The filter that takes the signed grid to the copy's (fitted())."""
    prediction, gain = fitted(signed, copy)
    a, b = signed.astype(np.float64).ravel(), copy.astype(np.float64).ravel()
    return Fit(a, _isotonic(a, b / gain.ravel()), gain.ravel(), prediction.ravel(), b)


def colourfulness(rgb: np.ndarray) -> int:
    """How colourful a picture is (Hasler and Suesstrunk, 2003): 0 for grey, about 15 for
    muted, 60-110 for vivid pictures. Kept at signing, so that a copy made grey or sepia is
    known to be filtered even though its luma is unchanged."""
    small = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize((128, 128), Image.BOX), np.float64)
    rg = small[..., 0] - small[..., 1]
    yb = (small[..., 0] + small[..., 1]) / 2 - small[..., 2]
    return round(float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())))


@dataclass(frozen=True)
class Filter:
    """How far a copy's whole-picture look is from the signed picture's."""

    tone_levels: float  # mean distance of the fitted tone curve from no change, levels of 255
    gain_spread: float  # brightest over darkest of the fitted smooth gain field (1: none)
    colourfulness_change: int | None  # copy's minus signed's (None: not in the manifest)
    clipped: bool = False  # it clipped highlights or shadows (Fit.clips)

    def to_dict(self) -> dict:
        return {
            "tone_levels": round(self.tone_levels, 1),
            "gain_spread": round(self.gain_spread, 2),
            "colourfulness_change": self.colourfulness_change,
            "clipped": self.clipped,
        }


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels of the signed picture."""

    x: int
    y: int
    width: int
    height: int

    def overlaps(self, other: Box) -> bool:
        """Whether the two rectangles share any area."""
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )

    def to_dict(self) -> dict:
        return asdict(self)


# A clip's regions: the luma of each timeline position's frame in REGION_COLUMNS x
# REGION_ROWS cells (120 px square at 1080p), 144 bytes, about 2 MB an hour. Coarse, so
# re-encodes and frame-rate conversions move a cell by under 2 levels; a face-sized patch
# of other footage moves the cells it covers by 4-66.
REGION_COLUMNS, REGION_ROWS = 16, 9
REGION_BYTES = REGION_COLUMNS * REGION_ROWS
REGION_INLIER = 4.0  # levels: cells this close to the first tone curve fit the second


def regions(luma: np.ndarray) -> np.ndarray:
    """(REGION_ROWS, REGION_COLUMNS) uint8 cell means of an 8-bit luma plane."""
    image = Image.fromarray(np.ascontiguousarray(luma))
    return np.asarray(image.resize((REGION_COLUMNS, REGION_ROWS), Image.BOX), dtype=np.uint8)


def region_differences(signed: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """Per-cell distance (levels) of a copy frame's regions from the signed frame's, after
    the best monotone tone curve (a clip's colour grading, a platform's levels)."""
    a = signed.astype(np.float64).ravel()
    b = copy.astype(np.float64).ravel()
    fit = _isotonic(a, b)
    inliers = np.abs(b - fit) <= REGION_INLIER
    if inliers.sum() >= a.size // 2 and not inliers.all():
        # Refitted without the cells far off: a replaced region must not bend the curve
        # (least squares would spread its error over cells of the same brightness).
        order = np.argsort(a[inliers], kind="stable")
        xs, ys = a[inliers][order], _isotonic(a[inliers], b[inliers])[order]
        fit = np.interp(a, xs, ys)
    return np.abs(b - fit).reshape(signed.shape)


def decode(value: str) -> np.ndarray:
    """The SIZE x SIZE grid stored in a manifest (base64url, unpadded)."""
    return np.frombuffer(base64.urlsafe_b64decode(value + "=="), np.uint8).reshape(SIZE, SIZE)


def encode(cells: np.ndarray) -> str:
    return base64.urlsafe_b64encode(cells.astype(np.uint8).tobytes()).rstrip(b"=").decode()


MATCH_BLOCK = 4  # cells a side: the grid is judged in 8 x 8 blocks of 4 x 4 cells
TEXTURED_BLOCK_STD = 4.0  # levels: flatter blocks (sky, a wall) match anything and say nothing
MATCH_CORRELATION = 0.7  # a block whose cells follow the signed block's this closely shows the same thing


def matching_share(signed: np.ndarray, copy: np.ndarray) -> float:
    """The share of the signed grid's textured blocks that the copy still shows (their
    cells correlate): 1.0 for a re-encode, about 0.75 with a quarter replaced, 0.5 with
    half, near 0 for an unrelated picture (README "Forged marks")."""
    p, q = _match_blocks(signed), _match_blocks(copy)
    judged = p.std(axis=1) >= TEXTURED_BLOCK_STD
    dp, dq = p - p.mean(axis=1, keepdims=True), q - q.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat copy block: no correlation
        correlation = (dp * dq).sum(axis=1) / np.sqrt((dp * dp).sum(axis=1) * (dq * dq).sum(axis=1))
    shown = judged & (q.std(axis=1) > 0) & (correlation > MATCH_CORRELATION)
    return int(shown.sum()) / int(judged.sum()) if judged.any() else 1.0


def _match_blocks(cells: np.ndarray) -> np.ndarray:
    """A SIZE x SIZE grid as rows of its MATCH_BLOCK x MATCH_BLOCK blocks' cells."""
    n = SIZE // MATCH_BLOCK
    blocks = cells.astype(np.float64).reshape(n, MATCH_BLOCK, n, MATCH_BLOCK).swapaxes(1, 2)
    return blocks.reshape(n * n, MATCH_BLOCK * MATCH_BLOCK)


REGION_GAP = 2  # changed cells this close (in cells) belong to one edit: a headline's letters


def changed_regions(differences: np.ndarray, width: int, height: int) -> list[Box]:
    """Bounding boxes, in pixels of a width x height picture, of groups of changed cells."""
    changed = differences > MAX_CELL_DIFFERENCE
    seen = np.zeros_like(changed)
    boxes = []
    for y0, x0 in zip(*np.nonzero(changed), strict=True):
        if seen[y0, x0]:
            continue
        stack, cells = [(y0, x0)], []
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            cells.append((y, x))
            near = (
                (y + dy, x + dx)
                for dy in range(-REGION_GAP, REGION_GAP + 1)
                for dx in range(-REGION_GAP, REGION_GAP + 1)
            )
            for ny, nx in near:
                if 0 <= ny < SIZE and 0 <= nx < SIZE and changed[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        ys, xs = zip(*cells, strict=True)
        left, top = min(xs) * width // SIZE, min(ys) * height // SIZE
        right, bottom = (max(xs) + 1) * width // SIZE, (max(ys) + 1) * height // SIZE
        boxes.append(Box(int(left), int(top), int(right - left), int(bottom - top)))
    return sorted(boxes, key=lambda b: -b.width * b.height)
