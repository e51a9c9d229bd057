"""Where a copy's content was pushed aside: a local warp, against the published file itself.

An expression changed by a face-reenactment model or a liquify tool pushes an eye- or
mouth-sized region a few pixels. The manifest's compact maps do not see it: the grid's
cell means stay, the mark only moves by a cell or two over too small an area, and detail
is moved, neither lost nor added (README, issue 14). The published file, kept in the
store, does see it: there, blocks of the copy match the signed picture best a few pixels
away from where they belong, and neighbouring blocks agree on how far.

Both pictures are brought to ANALYSIS_SHORT_SIDE and registered first: a copy that
placement calls whole may be trimmed by a few pixels, or up to 3 % of a side, which
offsets everything, by more at one edge than the other. Then they are compared in blocks
of BLOCK pixels (every BLOCK / 2) by normalised cross-correlation at every shift up to
REACH pixels. NCC ignores a block's brightness and contrast, so a filter (contrast, a
tone curve, sepia, a vignette) moves nothing; a shift along an edge matches as well as
none, so it gains nothing and counts for nothing.

Measured on the 22 bench photos (1920x1080 and 1080x1350), signed: of 374 genuine copies
(JPEG q30-85, WebP q60, 480-2880 px, contrast, grain, sharpening, six filters) none has
two touching moved blocks that agree; 264 copies trimmed by 2-55 px and resized
(0.6-1x) none; 76 of 88 warps of 4-8 px, as saved (q90) and as re-posted (halved, q75),
have a group of MIN_BLOCKS or more, each on the warp (72 with 4, 65 with 6). The warps
missed are on areas too smooth to match (no block with MIN_TEXTURE on both sides).
About 130 ms at 1080p: only copies about to be called authentic pay it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .grid import Box

# Warps of 4-8 px on a 1080 px short side are 2-4 px here, within REACH; the picture's
# noise and JPEG blocks are averaged over BLOCK x BLOCK pixels.
ANALYSIS_SHORT_SIDE = 512
BLOCK = 16
REACH = 3
# A block is judged only where both pictures have texture to match (luma levels of
# standard deviation: under 5, grain and JPEG noise choose the best shift), where the copy
# kept at least half of the signed block's (a sepia that clips highlights leaves another
# pattern there, which matches best elsewhere), and where some shift matches it well: a
# moved block still matches its source.
MIN_TEXTURE = 5.0
KEPT_TEXTURE = 0.5
MIN_MATCH = 0.75
# A block moved when its misfit (1 - NCC) is at least MISFIT_RATIO times larger where it
# belongs than at its best shift (+0.02: JPEG noise bounds how well any block matches),
# and its NCC gains MIN_GAIN there.
MISFIT_RATIO = 2.0
MIN_GAIN = 0.05
# A region moved when at least MIN_BLOCKS moved blocks touch and agree on the shift within
# a pixel. No genuine copy measured had a group of 2 (at a MIN_TEXTURE of 3, grain and
# sharpening made groups of 2 on the flat highlights of one photo: hence 5).
MIN_BLOCKS = 3
# A local edit moves a small part of the picture: where more than this share of the
# judged blocks moved, the two are not registered, and nothing is judged.
MOVED_AT_MOST = 0.25
# Registration: an affine map fitted to block matches coarse to fine, (times smaller, reach
# there): 16 px first (a trim of 3 % of 512), then 4, then 1, to about 0.15 px (two
# levels left a pixel at the corners: a 4 px trim was "moved" there). Each level needs
# REGISTER_MIN_BLOCKS matched blocks (else nothing is judged: a picture too smooth to
# register has too little to warp); a map that scales by more than REGISTER_MAX_SCALE or
# moves by more than REGISTER_MAX_OFFSET pixels is not a trimmed, resized copy's.
REGISTER_LEVELS = ((4, 4), (2, 2), (1, 1))
REGISTER_MIN_BLOCKS = 12
REGISTER_MAX_SCALE = 0.05
REGISTER_MAX_OFFSET = 24.0


def _luma(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    im = Image.fromarray(rgb).convert("L")
    if im.size != size:
        im = im.resize(size, Image.LANCZOS)
    return np.asarray(im, np.float32)


def _block_sums(x: np.ndarray) -> np.ndarray:
    """Sums over BLOCK x BLOCK windows every BLOCK / 2 pixels."""
    c = BLOCK // 2
    h, w = x.shape[0] // c * c, x.shape[1] // c * c
    columns = x[:h, 0:w:c].copy()
    for i in range(1, c):  # strided adds: numpy reduces over a short axis slowly
        columns += x[:h, i:w:c]
    s = columns[0:h:c].copy()
    for i in range(1, c):
        s += columns[i:h:c]
    return s[:-1, :-1] + s[1:, :-1] + s[:-1, 1:] + s[1:, 1:]


def _shifted_block_sums(integral: np.ndarray, shape: tuple[int, int], reach: int, dy: int, dx: int) -> np.ndarray:
    """_block_sums of a copy padded by `reach` and moved by (dy, dx), from its integral image."""
    c = BLOCK // 2
    rows = np.arange(shape[0] - 1) * c + reach + dy
    cols = np.arange(shape[1] - 1) * c + reach + dx
    y0, x0 = rows[:, None], cols[None, :]
    return integral[y0 + BLOCK, x0 + BLOCK] - integral[y0, x0 + BLOCK] - integral[y0 + BLOCK, x0] + integral[y0, x0]


def _integral(x: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
    out[1:, 1:] = x.cumsum(0).cumsum(1)
    return out


@dataclass(frozen=True)
class _Matches:
    """Each block of a signed plane against a copy of it at every shift up to `reach`."""

    ncc: np.ndarray  # [(2 reach + 1)^2, rows, cols]: shift k is (k // side - reach, k % side - reach)
    judged: np.ndarray  # [rows, cols]: texture on both sides, kept in the copy, matched somewhere
    reach: int

    @property
    def still(self) -> np.ndarray:
        return self.ncc[len(self.ncc) // 2]

    @property
    def best(self) -> np.ndarray:
        """[rows, cols, 2] the best whole-pixel shift (dy, dx)."""
        side = 2 * self.reach + 1
        k = self.ncc.argmax(axis=0)
        return np.stack([k // side - self.reach, k % side - self.reach], axis=-1)


def _match(signed: np.ndarray, copy: np.ndarray, reach: int) -> _Matches:
    # Centred on one level, float32 sums keep the covariances to a few parts in 10^5.
    level = float(signed.mean())
    signed, copy = signed - level, copy - level
    h, w = signed.shape
    c = BLOCK // 2
    n = float(BLOCK * BLOCK)
    grid = (h // c, w // c)
    padded = np.pad(copy, reach, mode="edge").astype(np.float64)
    integral, integral_sq = _integral(padded), _integral(padded * padded)
    s_r = _block_sums(signed)
    v_r = np.maximum(_block_sums(signed * signed) - s_r * s_r / n, 0.0)
    side = 2 * reach + 1
    ncc = np.empty((side * side, *s_r.shape))
    copy32 = padded.astype(np.float32)
    for k in range(side * side):
        dy, dx = k // side - reach, k % side - reach
        shifted = copy32[reach + dy : reach + dy + h, reach + dx : reach + dx + w]
        s_c = _shifted_block_sums(integral, grid, reach, dy, dx)
        v_c = np.maximum(_shifted_block_sums(integral_sq, grid, reach, dy, dx) - s_c * s_c / n, 0.0)
        ncc[k] = (_block_sums(signed * shifted) - s_r * s_c / n) / np.sqrt(np.maximum(v_r * v_c, 1e-6))
    s_c = _shifted_block_sums(integral, grid, reach, 0, 0)
    v_copy = np.maximum(_shifted_block_sums(integral_sq, grid, reach, 0, 0) - s_c * s_c / n, 0.0)
    texture, kept = np.sqrt(v_r / n), np.sqrt(v_copy / n)
    top = ncc.max(axis=0)
    judged = (texture >= MIN_TEXTURE) & (kept >= MIN_TEXTURE) & (kept >= KEPT_TEXTURE * texture) & (top >= MIN_MATCH)
    return _Matches(ncc, judged, reach)


def _subpixel(m: _Matches) -> np.ndarray:
    """[rows, cols, 2] the best shift to a fraction of a pixel (a parabola through the NCC
    either side of the best whole shift, on each axis)."""
    side = 2 * m.reach + 1
    cube = m.ncc.reshape(side, side, *m.ncc.shape[1:])
    best = m.best
    iy, ix = best[..., 0] + m.reach, best[..., 1] + m.reach
    rows, cols = np.indices(iy.shape)
    out = best.astype(np.float64)
    for axis, i in ((0, iy), (1, ix)):
        lo, hi = np.maximum(i - 1, 0), np.minimum(i + 1, side - 1)
        at = (lambda j: cube[j, ix, rows, cols]) if axis == 0 else (lambda j: cube[iy, j, rows, cols])
        a, b, c = at(lo), at(i), at(hi)
        curve = a - 2 * b + c
        step = np.where((curve < -1e-9) & (lo < i) & (i < hi), 0.5 * (a - c) / np.where(curve < -1e-9, curve, -1), 0)
        out[..., axis] += np.clip(step, -0.5, 0.5)
    return out


def _fit(signed: np.ndarray, copy: np.ndarray, factor: int, reach: int) -> np.ndarray | None:
    """The affine map (3x3, (y, x, 1)) from the signed plane to the copy fitted to block
    matches on planes `factor` times smaller, up to `reach` pixels there; None when too
    few blocks match."""
    h, w = signed.shape[0] // factor * factor, signed.shape[1] // factor * factor

    def small(x: np.ndarray) -> np.ndarray:
        return x[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))

    m = _match(small(signed), small(copy), reach)
    rows, cols = np.nonzero(m.judged)
    if len(rows) < REGISTER_MIN_BLOCKS:
        return None
    shift = _subpixel(m)[rows, cols] * factor
    # block centres, in full pixels (small pixel i spans `factor` centred at factor i + (factor - 1) / 2)
    at = (np.stack([rows, cols], axis=-1) * (BLOCK // 2) + (BLOCK - 1) / 2) * factor + (factor - 1) / 2
    design = np.column_stack([at, np.ones(len(at))])
    keep = np.ones(len(at), bool)
    for _ in range(3):  # least squares, then without the blocks it fits worst (a warp, a repeat)
        fit, *_ = np.linalg.lstsq(design[keep], shift[keep], rcond=None)
        misfit = np.abs(design @ fit - shift).max(axis=1)
        keep = misfit <= max(0.5 * factor, 2.5 * float(np.median(misfit)))
        if keep.sum() < REGISTER_MIN_BLOCKS:
            return None
    # shift(p) = fit.T @ (p, 1): the copy shows signed(p) at p + shift(p)
    return np.vstack([np.hstack([np.eye(2), np.zeros((2, 1))]) + fit.T, [0.0, 0.0, 1.0]])


def _register(signed: np.ndarray, copy: np.ndarray) -> np.ndarray | None:
    """The signed plane resampled onto the copy, when the copy is the whole picture up to a
    trim and a resize (placement calls a copy whole within 3 % of a side, so the two can
    be offset by up to 15 px here, and more at one edge than the other): an affine map
    fitted coarse to fine (REGISTER_LEVELS). None when too few blocks match or the map is
    not such a copy's."""
    from scipy import ndimage

    total = np.eye(3)
    registered = signed
    for factor, reach in REGISTER_LEVELS:
        step = _fit(registered, copy, factor, reach)
        if step is None:
            return None
        total = step @ total  # resampled once, from the signed plane, by the maps so far
        inverse = np.linalg.inv(total)
        registered = ndimage.affine_transform(signed, inverse[:2, :2], offset=inverse[:2, 2], order=1, mode="nearest")
    linear, offset = total[:2, :2] - np.eye(2), total[:2, 2]
    if np.abs(linear).max() > REGISTER_MAX_SCALE or np.abs(offset).max() > REGISTER_MAX_OFFSET:
        return None
    return registered


def moved_blocks(signed: np.ndarray, copy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(moved [rows, cols] bool, shift [rows, cols, 2] pixels, judged [rows, cols]) of two
    registered luma planes of one size, per block of BLOCK every BLOCK / 2."""
    m = _match(signed, copy, REACH)
    still, top = m.still, m.ncc.max(axis=0)
    moved = m.judged & ((1 - still) >= MISFIT_RATIO * (1 - top + 0.02)) & (top - still >= MIN_GAIN)
    return moved, m.best, m.judged


def _agreeing(moved: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The moved blocks with a moved neighbour (of 8) whose shift is within a pixel."""
    h, w = moved.shape
    out = np.zeros_like(moved)
    for oy, ox in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = (slice(0, h - oy), slice(max(0, -ox), w - max(0, ox)))
        b = (slice(oy, h), slice(max(0, ox), w + min(0, ox)))
        near = np.abs(shift[a] - shift[b]).max(axis=-1) <= 1
        pair = moved[a] & moved[b] & near
        out[a] |= pair
        out[b] |= pair
    return out


def moved_regions(signed_rgb: np.ndarray, copy_rgb: np.ndarray) -> list[Box]:
    """Boxes (signed picture's pixels) where the copy, oriented and sized as signed up to a
    uniform resize, shows content pushed aside; [] when none."""
    from scipy import ndimage

    height, width = signed_rgb.shape[:2]
    ch, cw = copy_rgb.shape[:2]
    f = min(1.0, ANALYSIS_SHORT_SIDE / min(ch, cw))
    size = (max(BLOCK * 2, round(cw * f)), max(BLOCK * 2, round(ch * f)))
    copy = _luma(copy_rgb, size)
    signed = _register(_luma(signed_rgb, size), copy)
    if signed is None:
        return []
    moved, shift, judged = moved_blocks(signed, copy)
    if moved.sum() > MOVED_AT_MOST * judged.sum():
        return []  # the whole picture moves: misregistered, not a local edit
    agreeing = _agreeing(moved, shift)
    labels, count = ndimage.label(agreeing, structure=np.ones((3, 3)))
    boxes = []
    step = BLOCK // 2
    sx, sy = width / size[0], height / size[1]
    for k, found in enumerate(ndimage.find_objects(labels), start=1):
        if np.count_nonzero(labels[found] == k) < MIN_BLOCKS:
            continue
        rows, cols = found
        left, top = cols.start * step * sx, rows.start * step * sy
        right, bottom = (cols.stop * step + step) * sx, (rows.stop * step + step) * sy
        boxes.append(Box(int(left), int(top), int(round(right - left)), int(round(bottom - top))))
    return boxes
