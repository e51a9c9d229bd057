"""A copy against the published file itself: where its content was pushed aside or replaced.

An expression changed by a face-reenactment model or a liquify tool pushes an eye- or
mouth-sized region a few pixels. The manifest's compact maps do not see it: the grid's
cell means stay, the mark only moves by a cell or two over too small an area, and detail
is moved, neither lost nor added (README, issue 14). The published file, kept in the
store, does see it: there, blocks of the copy match the signed picture best a few pixels
away from where they belong, and neighbouring blocks agree on how far. A small face
pasted over the picture can also slip past the maps (its cells close to the old ones,
the mark faint there); compared with the published file, its blocks match nothing. An
object blurred away keeps its surroundings' colour; here, its detail is gone.

Both pictures are brought to ANALYSIS_SHORT_SIDE (twice that for a 4K copy of a 4K
photo, ANALYSIS_PER) and, unless their blocks already match
in place, registered first: a copy that placement calls whole may be trimmed by a few
pixels, or up to 3 % of a side, which offsets everything, by more at one edge than the
other. They are compared in blocks of BLOCK pixels (every BLOCK / 2) by normalised
cross-correlation at every shift up to REACH pixels. NCC ignores a block's brightness
and contrast, so a filter (contrast, a tone curve, sepia, a vignette) moves nothing; a
shift along an edge matches as well as none, so it gains nothing and counts for nothing.

Measured on the 22 bench photos (1920x1080 and 1080x1350), with the constants below: of
1,628 genuine copies (two watermark ids each; JPEG q30-85, WebP q60, 480-2880 px,
contrast, grain, sharpening, six filters, 18 trims of 1-40 px and resizes of 0.6-1x),
none had a moved group (42 had two agreeing blocks), and of 594 of them (one id, 10
trims) none had a replaced block. Of 88 warps of 4-8 px, as saved (q90) and as
re-posted (halved, q75), 85 had a moved box on the warp (79 with the first rule, which
judged only blocks of MIN_TEXTURE); of 88 pasted faces (1/10-1/5 of the short side), 80
a replaced box. The warps still missed push flat or dark ground, or an edge by under a
pixel here. Only copies about to be called
authentic pay for this (README: the cost).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy.optimize import isotonic_regression

from .grid import CLIP_HIGH, CLIP_LOW, Box, clipped_pixels

# Warps of 4-8 px on a 1080 px short side are 2-4 px here; the picture's noise and JPEG
# blocks are averaged over BLOCK x BLOCK pixels. A REACH of 2 found 79 of the 88 bench
# warps, 3 found 80 at twice the shifts (49 against 25: most of the cost).
ANALYSIS_SHORT_SIDE = 512
# A copy with twice a 1080 px photo's pixels a side or more, of a photo as large (a 4K
# original as saved), is compared at twice ANALYSIS_SHORT_SIDE (_analysis_size; larger
# sizes were not measured): reduced about 2x, as a 1080 px copy is at 512, so its noise is
# averaged alike, and a warp of a few pixels is not shrunk to under one. At 512, a 4K
# copy's warps of 4-8 px were 1-2 px here.
ANALYSIS_PER = 1080
# There, a block almost all highlights or clipped ends (_tonal) is not judged moved: a
# sepia's toning moved the edge of a cup's highlight by a pixel or two at 1024 (coffee at
# 4K: a moved group on 3 signings of 3 under sepia with a vignette), where 512 saw none.
LARGE_MOVED_TONAL = 0.9
BLOCK = 16
REACH = 2
# A block is judged only where both pictures have texture to match (luma levels of
# standard deviation: under 5, grain and JPEG noise choose the best shift), where the copy
# kept at least half of the signed block's (a sepia that clips highlights leaves another
# pattern there, which matches best elsewhere), and where some shift matches it well.
# These judge registration and replaced blocks.
MIN_TEXTURE = 5.0
KEPT_TEXTURE = 0.5
MIN_MATCH = 0.75
# A textured block replaced: no shift matches it at this (genuine copies: never under 0.6).
REPLACED_MATCH = 0.5
# A textured block the copy kept as textured but that no longer matches itself in place
# at this, and did not pass the moved test: something else is there, or it was pushed
# further than REACH (a warp of 8 px or more at 1080 px: its best shift within reach
# matches at 0.6-0.8, neither replaced nor moved). Counted as replaced. Measured on the
# 22 bench photos' 866 genuine copies that clip nothing (the 1,122 below less strong
# brightening, contrast and colour): no copy had two such blocks under 0.6 (the lowest
# second-lowest block: 0.61, a halved q75 copy); the verifier's tone curves take the
# copies that clip (README "Brightened copies").
LOST_MATCH = 0.5
# A block moved when its misfit (1 - NCC) is at least MISFIT_RATIO times larger where it
# belongs than at its best shift, plus a floor for what noise alone leaves, and its NCC
# gains MIN_GAIN there. The moved test looks further than MIN_TEXTURE: a warp beside an
# eye or on a cheek pushes faint texture (MOVED_TEXTURE), which must be there at the best
# shift too (a warp carries texture out of some blocks and into others), and a stretched
# block matches no whole shift perfectly (MOVED_MATCH). The floor is MISFIT_FLOOR, or
# (NOISE_LEVELS / texture)^2 where that is smaller: noise of a few levels costs a busy
# block almost nothing, so an edge pushed by a pixel (NCC 0.95 against 1.0) counts there.
# Measured on 88 warps (two on each bench photo, saved and re-posted), against 1,628
# genuine copies (22 photos, 2 ids; JPEG q30-85, WebP, 480-2880 px, contrast, grain,
# sharpening, six filters, 18 trims and resizes):
# - before (MIN_TEXTURE, MIN_MATCH, a floor of 0.02, a gain of 0.05 for moved): 79 of 88;
# - these values: 85 of 88, and no genuine copy with a moved group (42 with two blocks);
#   the bench's own rows went from 84 % and 84 % to 98 % and 95 %;
# - a NOISE_LEVELS of 2 made sepia copies' bright edges "moved" (clipped highlights move
#   an edge's profile: groups of 3-9 blocks); 3 was clean, 4 is kept for margin.
MOVED_TEXTURE = 2.0
MOVED_MATCH = 0.6
MISFIT_RATIO = 2.0
MISFIT_FLOOR = 0.02
NOISE_LEVELS = 4.0
MIN_GAIN = 0.02
# A textured block flattened: the copy kept under FLATTENED_KEPT of the signed block's
# texture, which had FLATTENED_TEXTURE levels. A blur or inpainting fill removes an
# object's detail and keeps its surroundings' colour, so the maps can miss it, and the
# blocks it smoothed are too faint to be matched (KEPT_TEXTURE). A tone change shrinks
# texture only by its curve's slope, except where it clips: sepia pushes the signed
# picture's highlights to white, which a vignette then darkens into a flat grey. Blocks
# with more than TONAL_AT_MOST of their pixels among the signed picture's highlights
# (HIGHLIGHT) or the copy's clipped ends (CLIPPED) are not judged so. Measured on the 22
# bench photos: of the 1,628 genuine copies above, none had a single flattened block
# (without the highlight rule, sepia with a vignette flattened groups of 2-56 on 11 of the
# 44); of 264 blur fills drawn afresh (1/6 to 1/4 of the short side, saved and re-posted),
# 252 had a group of two on the fill.
FLATTENED_TEXTURE = 8.0
FLATTENED_KEPT = 0.3
HIGHLIGHT = 180.0
CLIPPED = (float(CLIP_LOW), float(CLIP_HIGH))  # grid's: one notion of a clipped end
TONAL_AT_MOST = 0.05
# A filter that clips a channel where the luma does not (a saturated red made more
# colourful) flattens the luma's texture there too: a block where NEWLY_CLIPPED of the
# pixels gained a clipped channel is tonal whole. A colour boost (contrast 1.2, colour
# 1.35) clipped 0.62-0.92 of the motorcycles' blocks it flattened (`replaced` until then);
# re-encoding's ringing clips up to 0.15 of a block beside highlights (a warp on the
# astronaut, halved and saved at q75, whose weakly moved blocks must still count).
NEWLY_CLIPPED = 0.4
# A tone change that clips (brightening by 40-60 %, a strong contrast) also changes what
# texture a block keeps: a clipped plateau widens, and its edge, all the texture such a
# block keeps, moves as a warp would push it; a channel that clips (a red brightened)
# takes its share of the luma's texture with it, and what is left matches its signed
# self poorly. So where a filter clipped the copy (grid.Fit.clips: it took cells well
# inside the range to white or black; a copy that was not brightened clips only where
# the signed picture did, and a panel painted over black space is judged as ever), a
# block is not judged moved where MOVED_CLIPPED_AT_MOST of the copy's pixels have a
# channel at a clipped end, nor as matching nothing where REPLACED_CLIPPED_AT_MOST do.
# The comparison alone, on the 22 bench photos brightened by 25, 45 and 60 %, contrast
# 1.3 and 1.5, gamma 0.5 and 1.6 (154 copies, q85): 10 had a moved or replaced box, 2
# with these limits, whether a filter clipped or not; 0.3 for moved blocks too cost 2 of
# 88 warps. Verdicts: README "Brightened copies".
MOVED_CLIPPED_AT_MOST = 0.5
REPLACED_CLIPPED_AT_MOST = 0.3
# A block clipped almost whole keeps texture only where something was drawn on it after
# (a bright flat panel with words, clipped by the brightening a forger added to hide it):
# there the rule does not hold. (On 22 copies brightened by 45 % after a sign's text was
# changed, without this limit one passed as `authentic`: its panel's blocks were 84-99 %
# clipped.)
CLIPPED_WHOLE = 0.8
# A region moved when at least MIN_BLOCKS moved blocks touch and agree on the shift within
# a pixel, replaced when MIN_REPLACED replaced blocks touch. No genuine copy measured had
# a group of three (at a MIN_TEXTURE of 3 and groups of 2, grain and sharpening made
# groups on the flat highlights of one photo), nor a single replaced or flattened block; a
# 50 px patch on an 800 px photo can leave only two.
MIN_BLOCKS = 3
MIN_REPLACED = 2
# A warp over faint or JPEG-worn texture (a copy re-posted halved at q75) moves each
# block too little to pass the test above on its own (NCC 0.88-0.93 at the best shift,
# 0.78-0.89 in place), but many neighbouring blocks agree on one shift. So a group of
# at least WEAK_BLOCKS touching blocks that agree within a pixel moved too, each with its
# best shift off its place, NCC at least WEAK_MATCH there, WEAK_GAIN over its NCC in
# place and a misfit WEAK_RATIO times larger in place, and at most TONAL_AT_MOST of its
# pixels among highlights or clipped ends (a clipped edge moves as a warp pushes it).
# Measured on the 22 bench photos, three draws (1,914 genuine copies: JPEG q30-85, WebP,
# 480-2880 px, contrast, brightness, grain, sharpening, six filters, 24 trims of up to
# 40 px resized 0.6-1x; and 528 warps, saved and re-posted): no genuine copy had such a
# group of more than 3 blocks, and 7 of the 41 warps the test above missed had one of
# 8-24 (the other 34 none over 4).
WEAK_BLOCKS = 6
WEAK_MATCH = 0.8
WEAK_GAIN = 0.03
WEAK_RATIO = 1.2
# A local edit changes a small part of the picture: where more than this share of the
# judged blocks (textured, or flattened) moved, match nothing or were flattened, the two
# are not registered, and nothing is judged (the maps' answer stands).
CHANGED_AT_MOST = 0.25
# A warp over smooth shading or a soft edge moves one or two blocks here past the moved
# test, too few for a group (at 512 px its 4.5-8.9 px are 2-4 px at the centre, and less
# a block away). At the copy's full size the same warp moves twice the blocks by twice
# the pixels. So where a copy has the signed picture's pixels (the same size, not trimmed,
# and no filter that clips: then the curves above would be needed there too), a window
# of FINE_MARGIN blocks around each block that moved alone is compared again at full
# size, shifts up to FINE_REACH pixels, with the rules above; a moved group there counts
# when its blocks agree with the lone block's shift (brought to full size) within
# FINE_AGREE pixels: the two sizes see one displacement. Measured on the comparison
# alone (2026-12-07; 22 photos, 264 warps saved at q90, two thirds in the bench's
# direction, a third in any; 836 genuine copies: JPEG q30-85, WebP, resizes, grain,
# sharpening, nine filters, 17 other looks; a prototype without the tone curves): warps
# found 245 -> 254; genuine copies with a box 3 -> 8, the 5 new ones all under filters
# that clip, which do not take this path (without the agreement: 14, grain and levels
# among them). With the verifier: 22 looks and re-encodes on the 22 bench photos, all
# `authentic`; the bench's saved warps 98 -> 100 % (draw 0), 91 -> 95 % in any direction
# (draw 1). It ran on 19 of 132 genuine same-size copies, 6 ms (median; 21 at most).
FINE_REACH = 4
FINE_MARGIN = 3
FINE_AGREE = 1.5
FINE_FROM = 1.7  # times the analysis size's short side: a copy's, for a second look to see more
# A copy analysed at twice ANALYSIS_SHORT_SIDE (a 4K copy, ANALYSIS_PER) is not looked at
# again at full size: at 2160 px, grain and a sepia's toning made moved groups of 2x2
# blocks there on 4 of 22 genuine copies (bench photos at 4K), and the analysis size
# already sees what the closer look was for.

# Registration: an affine map fitted to block matches coarse to fine, (times smaller, reach
# there): 16 px first (a trim of 3 % of 512), then 4, then 1 twice, to about 0.15 px (two
# levels left a pixel at the corners: a 4 px trim was "moved" there; one level at 1 px
# left a copy trimmed by 55 x 42 px and resized 0.988x half a pixel off at its bottom,
# "moved" there, 1 of 638 genuine copies; an eighth-size first level costs a sixth of
# a quarter-size one with the same reach). Each level needs
# REGISTER_MIN_BLOCKS matched blocks (else nothing is judged: a picture too smooth to
# register has too little to warp); a map that scales by more than REGISTER_MAX_SCALE or
# moves by more than REGISTER_MAX_OFFSET pixels is not a trimmed, resized copy's.
REGISTER_LEVELS = ((8, 2), (2, 2), (1, 1), (1, 1))
REGISTER_MIN_BLOCKS = 12
# A map within this of the identity (pixels, anywhere on the plane) leaves the copy as it
# is: most copies are not trimmed, and a whole-pixel search cannot tell half a pixel
# either way (an untrimmed resize measured 0.4 after the second level).
REGISTER_SETTLED = 0.5
REGISTER_MAX_SCALE = 0.05
REGISTER_MAX_OFFSET = 24.0


def _luma(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    im = Image.fromarray(picture).convert("L")
    if im.size != size:
        im = im.resize(size, Image.BOX)  # area means: both pictures alike, a fifth of LANCZOS's cost
    return np.asarray(im, np.float32)


def _row_cells(x: np.ndarray) -> np.ndarray:
    """Sums over BLOCK / 2 pixels along each row (a ragged edge left out): [h, w // (BLOCK
    / 2)]. A matrix product with ones: numpy reduces over a short axis slowly."""
    c = BLOCK // 2
    w = x.shape[1] // c * c
    return np.ascontiguousarray(x[:, :w]).reshape(x.shape[0], w // c, c) @ np.ones(c, x.dtype)


def _column_cells(x: np.ndarray) -> np.ndarray:
    """Sums over BLOCK / 2 rows of _row_cells: the cells' sums."""
    c = BLOCK // 2
    h = x.shape[0] // c * c
    return x[:h].reshape(h // c, c, x.shape[1]).transpose(0, 2, 1) @ np.ones(c, x.dtype)


def _block_sums(x: np.ndarray) -> np.ndarray:
    """Sums over BLOCK x BLOCK windows every BLOCK / 2 pixels."""
    return _from_cells(_column_cells(_row_cells(x)))


def _from_cells(s: np.ndarray) -> np.ndarray:
    """Block sums from their four cells' sums."""
    return s[:-1, :-1] + s[1:, :-1] + s[:-1, 1:] + s[1:, 1:]


@dataclass(frozen=True)
class _Matches:
    """Each block of a signed plane against a copy of it at every shift up to `reach`."""

    ncc: np.ndarray  # [(2 reach + 1)^2, rows, cols]: shift k is (k // side - reach, k % side - reach)
    texture: np.ndarray  # [rows, cols]: the signed blocks' standard deviation (levels)
    kept: np.ndarray  # [shifts, rows, cols]: the copy's, at each shift
    reach: int

    @property
    def kept_still(self) -> np.ndarray:
        """[rows, cols] the copy's texture in place."""
        return self.kept[len(self.kept) // 2]

    @property
    def textured(self) -> np.ndarray:
        """Texture on both sides, and kept in the copy."""
        return _textured(self.texture, self.kept_still, MIN_TEXTURE)

    @property
    def still(self) -> np.ndarray:
        return self.ncc[len(self.ncc) // 2]

    @property
    def top(self) -> np.ndarray:
        return self.ncc.max(axis=0)

    @property
    def judged(self) -> np.ndarray:
        """Textured blocks that some shift matches well: a moved block still matches its source."""
        return self.textured & (self.top >= MIN_MATCH)

    @property
    def best_index(self) -> np.ndarray:
        """[rows, cols] the best shift's index k."""
        return self.ncc.argmax(axis=0)

    @property
    def best(self) -> np.ndarray:
        """[rows, cols, 2] the best whole-pixel shift (dy, dx)."""
        side = 2 * self.reach + 1
        k = self.best_index
        return np.stack([k // side - self.reach, k % side - self.reach], axis=-1)


def _match(signed: np.ndarray, copy: np.ndarray, reach: int) -> _Matches:
    # Centred on one level, float32 sums keep the covariances to a few parts in 10^5.
    level = float(signed.mean())
    signed, copy = signed - level, copy - level
    # Blocks leave the ragged right edge out, so the signed plane is cut to whole cells
    # here: each shift's product is then summed in place (a ragged one was copied first,
    # 25 times a comparison, a third of its cost).
    h, w = signed.shape[0], signed.shape[1] // (BLOCK // 2) * (BLOCK // 2)
    signed = np.ascontiguousarray(signed[:, :w])
    n = float(BLOCK * BLOCK)
    padded = np.pad(copy, reach, mode="edge")
    side = 2 * reach + 1
    # The copy's block sums at every shift: its cells summed along each row for every
    # horizontal shift (float64: a variance is a small difference of large sums), then
    # down each column for every vertical one.
    wide = padded.astype(np.float64)

    def at_every_shift(x: np.ndarray) -> np.ndarray:
        rows = [_row_cells(x[:, dx : dx + w]) for dx in range(side)]
        return np.stack([_from_cells(_column_cells(rows[dx][dy : dy + h])) for dy in range(side) for dx in range(side)])

    s_c, ss_c = at_every_shift(wide), at_every_shift(wide * wide)
    v_c = np.maximum(ss_c - s_c * s_c / n, 0.0)
    own = signed.astype(np.float64)
    s_r = _block_sums(own)
    v_r = np.maximum(_block_sums(own * own) - s_r * s_r / n, 0.0)
    ncc = np.empty((side * side, *s_r.shape))
    product = np.empty_like(signed)
    for k in range(side * side):
        dy, dx = k // side, k % side
        np.multiply(signed, padded[dy : dy + h, dx : dx + w], out=product)
        cross = _block_sums(product)
        ncc[k] = (cross - s_r * s_c[k] / n) / np.sqrt(np.maximum(v_r * v_c[k], 1e-6))
    np.clip(ncc, -1.0, 1.0, out=ncc)  # a flat block: float32 rounding over a vanishing variance
    return _Matches(ncc, np.sqrt(v_r / n), np.sqrt(v_c / n), reach)


def _textured(texture: np.ndarray, kept: np.ndarray, least: float) -> np.ndarray:
    return (texture >= least) & (kept >= least) & (kept >= KEPT_TEXTURE * texture)


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


def _reduced(x: np.ndarray, factor: int) -> np.ndarray:
    """Means over factor x factor pixels (a ragged edge left out)."""
    if factor == 1:
        return x
    h, w = x.shape[0] // factor * factor, x.shape[1] // factor * factor
    return x[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3), dtype=np.float32)


def _resampled(signed: np.ndarray, total: np.ndarray, factor: int) -> np.ndarray:
    """A plane `factor` times smaller than the full one, resampled by the map `total`
    (full pixels, (y, x, 1)) onto the copy."""
    if np.allclose(total, np.eye(3)):
        return signed
    # small pixel i is full pixel factor i + (factor - 1) / 2
    to_full = np.array([[factor, 0, (factor - 1) / 2], [0, factor, (factor - 1) / 2], [0, 0, 1.0]])
    inverse = np.linalg.inv(to_full) @ np.linalg.inv(total) @ to_full  # copy (y, x) -> signed (y, x)
    # PIL maps output (x, y) to input (a x + b y + c, d x + e y + f), bilinear: a tenth of
    # scipy's cost. Its pixel centres differ by half a pixel, an error of (map - 1) / 2:
    # under 0.03 px for the maps allowed here.
    data = (inverse[1, 1], inverse[1, 0], inverse[1, 2], inverse[0, 1], inverse[0, 0], inverse[0, 2])
    plane = Image.fromarray(np.ascontiguousarray(signed, np.float32), mode="F")
    return np.asarray(plane.transform(plane.size, Image.AFFINE, data, Image.BILINEAR), np.float32)


def _fit(signed: np.ndarray, copy: np.ndarray, factor: int, reach: int) -> np.ndarray | None:
    """The affine map (3x3, (y, x, 1), full pixels) from the signed plane to the copy,
    fitted to block matches on these planes (`factor` times smaller than full), up to
    `reach` pixels there; None when too few blocks match."""
    return _fitted(_match(signed, copy, reach), factor)


def _fitted(m: _Matches, factor: int) -> np.ndarray | None:
    """_fit's map from block matches already made."""
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
    """The map (3x3, (y, x, 1), pixels) that takes the signed plane onto the copy, when
    the copy is the whole picture up to a trim and a resize (placement calls a copy whole
    within 3 % of a side, so the two can be offset by up to 15 px here, and more at one
    edge than the other): an affine map fitted coarse to fine (REGISTER_LEVELS), each
    level on its own reduced planes. None when too few blocks match or the map is not
    such a copy's. A plane of twice ANALYSIS_SHORT_SIDE (a 4K copy's) is registered as
    its half-size planes are, whose reach and limits these are, then refined on itself."""
    half = min(signed.shape) // ANALYSIS_SHORT_SIDE >= 2
    if half:
        coarse = _register(_reduced(signed, 2), _reduced(copy, 2))
        if coarse is None:
            return None
        coarse[:2, 2] *= 2  # the same map in the plane's own pixels
        step = _fit(_resampled(signed, coarse, 1), copy, 1, 1)
        return None if step is None else step @ coarse
    total = np.eye(3)
    for factor, reach in REGISTER_LEVELS:
        if factor == 1 and _near(total, np.eye(3), REGISTER_SETTLED):
            break  # an untrimmed copy: the finest level would not move it
        small_copy = _reduced(copy, factor)
        step = _fit(_resampled(_reduced(signed, factor), total, factor), small_copy, factor, reach)
        if step is None:
            return None
        total = step @ total
    if _near(total, np.eye(3), REGISTER_SETTLED):
        return np.eye(3)
    linear, offset = total[:2, :2] - np.eye(2), total[:2, 2]
    if np.abs(linear).max() > REGISTER_MAX_SCALE or np.abs(offset).max() > REGISTER_MAX_OFFSET:
        return None
    return total


def _near(a: np.ndarray, b: np.ndarray, pixels: float) -> bool:
    """Whether two maps place every pixel of a 1024 px plane within `pixels` of each other."""
    d = a - b
    return float(np.abs(d[:2, :2]).max()) * 1024 + float(np.abs(d[:2, 2]).max()) <= pixels


def _tonal(signed: np.ndarray, copy: np.ndarray, newly_clipped: np.ndarray) -> np.ndarray:
    """[rows, cols] each block's share of pixels a tone change may have flattened: the
    signed picture's highlights, the copy's clipped ends; all of a block where the copy
    has a channel clipped that the signed picture had not (`newly_clipped`, a share per
    pixel) in NEWLY_CLIPPED of its pixels."""
    dark, light = CLIPPED
    tonal = ((signed >= HIGHLIGHT) | (copy <= dark) | (copy >= light)).astype(np.float32)
    area = BLOCK * BLOCK
    return np.where(_block_sums(newly_clipped) >= NEWLY_CLIPPED * area, 1.0, _block_sums(tonal) / area)


def _clipped(picture: np.ndarray, size: tuple[int, int], ends: bool = True) -> np.ndarray:
    """[3, h, w] per pixel of a plane of `size`, the share of the picture's pixels (RGB, or
    its 8-bit luma) with a channel at a clipped end, at the high end, at the low end
    (grid.clipped_pixels); [1, h, w], the first alone, unless `ends`."""
    return _shares(*clipped_pixels(picture), size, ends)


def _shares(high: np.ndarray, low: np.ndarray, size: tuple[int, int], ends: bool = True) -> np.ndarray:
    """_clipped's planes from full-size masks of the two ends (one resize: the three as
    colour channels)."""
    masks = np.stack([high | low, high, low], axis=-1) if ends else (high | low)
    plane = Image.fromarray(masks.astype(np.uint8) * 255)
    if plane.size != size:
        plane = plane.resize(size, Image.BOX)
    shares = np.asarray(plane, np.float32) / 255.0
    return np.moveaxis(shares, -1, 0) if ends else shares[None]


def _newly_clipped(signed: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """Per pixel, the share of the copy's pixels that gained a channel at a clipped end
    (_clipped planes of each: the signed picture's three, the copy's first alone or all
    three). With the ends, each end on its own: a colour boost takes a saturated red's
    blue channel to black where its red was white already, which the first plane counts
    as nothing new. Other copies keep to the first plane (a third of the resizing)."""
    gained = copy[0] - signed[0]
    if len(copy) == 3:
        gained = np.maximum(gained, np.maximum(copy[1] - signed[1], copy[2] - signed[2]))
    return gained.clip(0.0, 1.0)


def _block_shares(clipped: np.ndarray | None, m: _Matches) -> np.ndarray:
    """Each block's share of clipped pixels (none where no filter clipped the copy)."""
    if clipped is None:
        return np.zeros_like(m.texture)
    return _block_sums(clipped[0]) / (BLOCK * BLOCK)


def changed_blocks(
    m: _Matches, tonal: np.ndarray, clipped: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(moved, weakly moved, shift [rows, cols, 2] pixels, replaced, judged) of two
    registered luma planes of one size (their matches up to REACH, their _tonal, and each
    block's share of the copy's clipped pixels), per block of BLOCK every BLOCK / 2:
    weakly moved blocks count in larger groups only (WEAK_BLOCKS); replaced blocks match
    nothing near, no longer match in place (LOST_MATCH) or were flattened; judged blocks
    could be any."""
    still, top, kept_still = m.still, m.top, m.kept_still
    kept_moved = np.take_along_axis(m.kept, m.best_index[None], axis=0)[0]
    least = np.maximum(np.minimum(m.texture, kept_moved), 1e-3)
    floor = np.minimum(MISFIT_FLOOR, (NOISE_LEVELS / least) ** 2)
    movable = (
        _textured(m.texture, kept_still, MOVED_TEXTURE)
        & _textured(m.texture, kept_moved, MOVED_TEXTURE)
        & ((clipped < MOVED_CLIPPED_AT_MOST) | (clipped >= CLIPPED_WHOLE))
    )
    moved = (
        movable & (top >= MOVED_MATCH) & ((1 - still) >= MISFIT_RATIO * (1 - top + floor)) & (top - still >= MIN_GAIN)
    )
    off_place = np.abs(m.best).max(axis=-1) > 0
    weakly = (
        movable
        & off_place
        & (tonal <= TONAL_AT_MOST)
        & (top >= WEAK_MATCH)
        & ((1 - still) >= WEAK_RATIO * (1 - top + floor))
        & (top - still >= WEAK_GAIN)
    )
    textured = m.textured
    lost = (m.texture >= FLATTENED_TEXTURE) & (kept_still < FLATTENED_KEPT * m.texture)
    flattened = lost & (tonal <= TONAL_AT_MOST)
    judgeable = textured & ((clipped < REPLACED_CLIPPED_AT_MOST) | (clipped >= CLIPPED_WHOLE))
    unmatched = judgeable & (top < REPLACED_MATCH)
    unplaced = judgeable & (still < LOST_MATCH) & (tonal <= TONAL_AT_MOST) & ~moved
    return moved, weakly, m.best, unmatched | unplaced | flattened, textured | flattened


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


@dataclass(frozen=True)
class Changes:
    """Where a copy differs from its published file, in the signed picture's pixels."""

    moved: tuple[Box, ...] = ()  # content pushed aside by a few pixels (a warp)
    # textured content that matches nothing near or no longer matches in place (a paste, a
    # push past the search's reach), or smoothed away (a fill)
    replaced: tuple[Box, ...] = ()
    # (x, y) centres of blocks that moved or weakly moved in no group: too few to call a
    # region, evidence where the mark corroborates them (realmark.watermark.presence.Fading);
    # not a finding, so two Changes with the same regions are equal
    stirred: tuple[tuple[float, float], ...] = field(default=(), compare=False, repr=False)


def changes_from_file(
    published: bytes,
    sha256: str,
    copy: np.ndarray,
    luma: np.ndarray | None = None,
    filter_clips: bool = False,
    colour_boosted: bool = False,
) -> Changes:
    """changes() against the published file's bytes (whose SHA-256 the caller checked),
    decoded here, and kept a while (below). `luma`: the copy's luma8, when the caller
    has it; `filter_clips`: a tone change over the whole copy clipped it (grid.Fit.clips),
    so blocks it clipped are not judged by their texture (MOVED_CLIPPED_AT_MOST);
    `colour_boosted`: the copy was made more colourful (grid.COLOUR_BOOST; brightening and
    strong contrast raise colourfulness too), so its colours are mixed from the signed
    picture's channels: the signed picture is toned (_toned's `mixed`) even where nothing
    clipped, and the copy's clipped ends are counted apart (_newly_clipped)."""
    size = _analysis_size(copy, _published_full(published, sha256)[0].shape)
    (signed, signed_clipped), shape = _published_plane(published, sha256, size)
    tone = None
    if (filter_clips or colour_boosted) and copy.ndim == 3:

        def tone(total: np.ndarray) -> np.ndarray:
            from realmark.media.image import load_photo

            return _toned(load_photo(published).rgb, copy, size, total, mixed=colour_boosted)

    copy_plane = _luma(copy if luma is None else luma, size)
    copy_clipped = _clipped(copy, size, ends=colour_boosted)
    full = None
    closer = FINE_FROM * min(size) <= min(shape) < 2 * ANALYSIS_PER
    if tone is None and copy.ndim == 3 and copy.shape[:2] == shape and closer:

        def full() -> _FullSize:
            from realmark.media.image import luma8

            signed_luma, packed = _published_full(published, sha256)
            high, low = _ends(packed, shape)
            return _FullSize(signed_luma, high | low, luma8(copy) if luma is None else luma, copy)

    return _compared(signed, signed_clipped, shape, copy_plane, copy_clipped, filter_clips, size, tone, full)


def _toned(
    signed: np.ndarray, copy: np.ndarray, size: tuple[int, int], total: np.ndarray, mixed: bool = False
) -> np.ndarray:
    """The signed picture (RGB) put through the copy's tone curve, channel by channel, at
    its own size, then brought to the analysis size as a luma plane (unregistered: `total`
    is the map onto the copy, _register's, that the curves are fitted through).

    Where a filter clips, the edge of a clipped plateau lies where the signed picture
    crossed the clipping level; brought to the analysis size after clipping, it is not
    where the signed plane's edge is (an average of clipped pixels is not the clipped
    average), and moved blocks read there as a warp would. Each channel's curve (a
    brightening's gain, a contrast's slope, both clipping) is the best monotone fit of the
    copy's levels to the signed picture's at the analysis size, away from the edges a
    registration may have uncovered.

    `mixed`: a colour boost (PIL's Color, a saturation slider) moves each channel away from
    the pixel's grey, so a channel's new level depends on all three and no curve of its
    own fits it; where it clips a channel, the luma's texture there is another pattern
    (a red motorcycle's paint matched its signed self at NCC 0.3-0.5 after colour 1.8).
    The signed picture is first put through the affine colour map (3x3 and an offset)
    that best fits the copy where neither clips, then clipped, then the curves."""
    small_signed = np.asarray(Image.fromarray(signed).resize(size, Image.BOX), np.float32)
    small_copy = copy if copy.shape[1::-1] == size else np.asarray(Image.fromarray(copy).resize(size, Image.BOX))
    inside = (slice(_MARGIN, -_MARGIN), slice(_MARGIN, -_MARGIN))
    if mixed:
        registered = np.stack([_resampled(small_signed[..., c], total, 1) for c in range(3)], axis=-1)[inside]
        target = small_copy[inside].astype(np.float32)
        dark, light = CLIPPED
        unclipped = np.all((target > dark) & (target < light) & (registered > dark) & (registered < light), axis=-1)
        pixels = np.flatnonzero(unclipped)
        if len(pixels) >= 1000:  # else the curves alone
            pixels = pixels[:: max(1, len(pixels) // 50_000)]  # 12 unknowns: 50,000 pixels fit them to 0.1 %
            matrix = colour_map(registered.reshape(-1, 3)[pixels], target.reshape(-1, 3)[pixels])
            # PIL applies it per pixel, rounded and clipped: a tenth of numpy's cost at 1080p.
            signed = np.asarray(Image.fromarray(signed).convert("RGB", tuple(float(v) for v in matrix.ravel())))
            small_signed = np.asarray(Image.fromarray(signed).resize(size, Image.BOX), np.float32)
    toned = np.empty_like(signed)
    for channel in range(3):
        registered = _resampled(small_signed[..., channel], total, 1)
        levels = np.clip(registered[inside].round(), 0, 255).astype(np.uint8)
        curve = _curve(levels, small_copy[..., channel][inside])
        toned[..., channel] = curve[signed[..., channel]]
    return _luma(toned, size)


_MARGIN = int(REGISTER_MAX_OFFSET) + 2  # pixels a registered plane's edge may have left empty

# The colour map is fitted where neither picture clips, and applied everywhere: where
# those pixels hold one hue only (a grey picture, a blue stage), the colours they lack
# leave directions the fit cannot see, and an unregularised fit fills them in at random
# (least squares on grey pixels alone turns a red shirt grey). Each weight is pulled
# towards leaving the channel as it was, as strongly as pixels varying by a level along
# that direction would pull it: directions the pixels span are fitted as before.
COLOUR_MAP_PRIOR = 1.0  # levels² per fitted pixel


def colour_map(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The affine colour map (3x4: each output channel's weights of R, G, B and an
    offset) that takes `source` pixels (n x 3 levels) nearest `target` ones, pulled
    towards the identity along directions the pixels do not span (COLOUR_MAP_PRIOR)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mean_source, mean_target = source.mean(axis=0), target.mean(axis=0)
    centred = source - mean_source
    prior = COLOUR_MAP_PRIOR * len(source)
    # Normal equations of least squares plus prior * |W - I|²: the offset then follows the means.
    weights = np.linalg.solve(
        centred.T @ centred + prior * np.eye(3), centred.T @ (target - mean_target) + prior * np.eye(3)
    )
    offset = mean_target - mean_source @ weights
    return np.column_stack([weights.T, offset])


def _curve(signed: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """The monotone curve (a 256-level lookup table) nearest the copy's mean level at each
    of the signed picture's levels."""
    counts = np.bincount(signed.ravel(), minlength=256)
    sums = np.bincount(signed.ravel(), weights=copy.ravel().astype(np.float64), minlength=256)
    levels = np.flatnonzero(counts)
    fit = isotonic_regression(sums[levels] / counts[levels], weights=counts[levels].astype(np.float64)).x
    return np.clip(np.interp(np.arange(256), levels, fit), 0, 255).round().astype(np.uint8)


# What a process kept of the published pictures it compared last: copies of one official
# photo come again and again when it goes viral. Their luma planes and clipped pixels
# (2.6 MB each at 1080p: decoding is a quarter of the comparison's cost), and each brought
# to the sizes its copies were analysed at (a platform serves a few), a resize each.
PLANES_KEPT = 8
_planes: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
_analysed: OrderedDict[tuple[str, tuple[int, int]], tuple[np.ndarray, np.ndarray]] = OrderedDict()
_planes_lock = threading.Lock()


def _kept(cache: OrderedDict, key, make):
    with _planes_lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
            return value
    value = make()
    with _planes_lock:
        cache[key] = value
        while len(cache) > PLANES_KEPT:
            cache.popitem(last=False)
    return value


def _published_plane(
    published: bytes, sha256: str, size: tuple[int, int]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[int, int]]:
    """The published picture's luma and _clipped planes at an analysis size, and its own
    (height, width)."""
    luma, clipped = _published_full(published, sha256)

    def analysed() -> tuple[np.ndarray, np.ndarray]:
        return _read_only(_luma(luma, size)), _read_only(_shares(*_ends(clipped, luma.shape), size))

    return _kept(_analysed, (sha256, size), analysed), luma.shape[:2]


def _published_full(published: bytes, sha256: str) -> tuple[np.ndarray, np.ndarray]:
    """The published picture's luma8 at full size, and its pixels with a channel at the
    high and at the low clipped end, packed (_ends; kept: _planes)."""
    from realmark.media.image import load_photo, luma8

    def decoded() -> tuple[np.ndarray, np.ndarray]:
        rgb = load_photo(published).rgb
        high, low = clipped_pixels(rgb)
        return luma8(rgb), np.packbits(np.stack([high, low]))  # a bit a pixel an end: a quarter of bool masks

    return _kept(_planes, sha256, decoded)


def _ends(packed: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """[2, h, w] bool: _published_full's packed pixels at the high and the low end."""
    return np.unpackbits(packed, count=2 * shape[0] * shape[1]).reshape(2, *shape).astype(bool)


def _read_only(plane: np.ndarray) -> np.ndarray:
    plane.setflags(write=False)  # shared by every comparison with its picture
    return plane


def _analysis_size(copy: np.ndarray, signed: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) both pictures are compared at: the copy's, its short side at most
    ANALYSIS_SHORT_SIDE for each whole ANALYSIS_PER (up to two) of the smaller of its own
    and the `signed` picture's (height, width): a 1080 px photo's copy enlarged to 4K has
    no more detail to compare than the photo."""
    ch, cw = copy.shape[:2]
    per = min(2, max(1, min(ch, cw, *signed[:2]) // ANALYSIS_PER))  # measured at 512 and 1024 only
    f = min(1.0, ANALYSIS_SHORT_SIDE * per / min(ch, cw))
    return max(BLOCK * 2, round(cw * f)), max(BLOCK * 2, round(ch * f))


def changes(signed: np.ndarray, copy: np.ndarray) -> Changes:
    """A copy, oriented and sized as signed up to a uniform resize and a trim, against the
    published picture (each RGB, or its 8-bit luma); nothing when the two cannot be
    registered."""
    size = _analysis_size(copy, signed.shape)
    signed_planes = _luma(signed, size), _clipped(signed, size)
    return _compared(*signed_planes, signed.shape[:2], _luma(copy, size), _clipped(copy, size, ends=False), False, size)


def _compared(
    signed: np.ndarray,
    signed_clipped: np.ndarray,
    shape: tuple[int, int],
    copy: np.ndarray,
    copy_clipped: np.ndarray,
    filter_clips: bool,
    size: tuple[int, int],
    tone: Callable[[np.ndarray], np.ndarray] | None = None,
    full: Callable[[], _FullSize] | None = None,
) -> Changes:
    """changes() of the two planes at the analysis size, each with its _clipped planes
    (`filter_clips`: a filter clipped the copy, see changes_from_file; `tone`: the signed
    plane through the copy's tone curves given the registration's map, _toned, matched in
    its place; `full`: both pictures at full size, for a closer look around blocks that
    moved alone, FINE_REACH); `shape` is the signed picture's own (height, width), which
    the boxes are given in."""
    height, width = shape
    # Most copies are neither trimmed nor shifted: matched as they are, their blocks fit
    # the identity, and those matches are the ones judged (registering coarse to fine
    # first cost half of the comparison, for the same answer).
    matches = _match(signed, copy, REACH)
    still = _fitted(matches, 1)
    total = np.eye(3)
    if still is None or not _near(still, total, REGISTER_SETTLED):
        total = _register(signed, copy)
        if total is None:
            return Changes()
        signed = _resampled(signed, total, 1)
        signed_clipped = np.stack([_resampled(plane, total, 1) for plane in signed_clipped])
        matches = None
    if tone is not None:
        matches = _match(_resampled(tone(total), total, 1), copy, REACH)
    elif matches is None:
        matches = _match(signed, copy, REACH)
    newly_clipped = _newly_clipped(signed_clipped, copy_clipped)
    tonal = _tonal(signed, copy, newly_clipped)
    moved, weakly, shift, replaced, judged = changed_blocks(
        matches, tonal, _block_shares(copy_clipped if filter_clips else None, matches)
    )
    if min(size) > ANALYSIS_SHORT_SIDE:
        moved &= tonal < LARGE_MOVED_TONAL
    if (moved | weakly | replaced).sum() > CHANGED_AT_MOST * judged.sum():
        return Changes()  # the whole picture differs: misregistered, not a local edit
    scale = (width / size[0], height / size[1])
    pushed = _groups(_agreeing(moved, shift), MIN_BLOCKS) | _groups(_agreeing(weakly, shift), WEAK_BLOCKS)
    found = _boxes(pushed, 1, scale, wide=True)
    lone = moved & ~pushed
    if full is not None and lone.any() and np.array_equal(total, np.eye(3)):
        found += _closer(full(), lone, _subpixel(matches), size)
    stirred: tuple[tuple[float, float], ...] = ()
    # Measured at ANALYSIS_SHORT_SIDE only: a presence window holds four times the blocks
    # at twice it, so a count of them there would ask for less.
    if min(size) <= ANALYSIS_SHORT_SIDE:
        rows, cols = np.nonzero((moved | weakly) & ~pushed)
        step = BLOCK // 2
        xs, ys = ((cols * step + BLOCK / 2) * scale[0]).tolist(), ((rows * step + BLOCK / 2) * scale[1]).tolist()
        stirred = tuple(zip(xs, ys, strict=True))
    return Changes(found, _boxes(replaced, MIN_REPLACED, scale), stirred)


@dataclass(frozen=True)
class _FullSize:
    """A copy with the signed picture's pixels, and the signed picture, at full size."""

    signed: np.ndarray  # luma8
    signed_clipped: np.ndarray  # bool: a channel at a clipped end
    copy: np.ndarray  # luma8
    copy_rgb: np.ndarray


def _closer(full: _FullSize, lone: np.ndarray, subpixel: np.ndarray, size: tuple[int, int]) -> tuple[Box, ...]:
    """Moved boxes (full-size pixels) found at full size around the blocks that moved alone
    at the analysis size (`lone`, their shifts there `subpixel`): FINE_REACH."""
    from scipy import ndimage

    height, width = full.signed.shape
    scale = np.array([height / size[1], width / size[0]])
    step = BLOCK // 2
    labels, _ = ndimage.label(ndimage.binary_dilation(lone, np.ones((3, 3))), structure=np.ones((3, 3)))
    out: list[Box] = []
    for k, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        expected = np.median(subpixel[(labels == k) & lone], axis=0) * scale
        top, left = (
            int(max(0, rows.start - FINE_MARGIN) * step * scale[0]),
            int(max(0, cols.start - FINE_MARGIN) * step * scale[1]),
        )
        bottom = min(height, int(((rows.stop + FINE_MARGIN) * step + step) * scale[0]))
        right = min(width, int(((cols.stop + FINE_MARGIN) * step + step) * scale[1]))
        if min(bottom - top, right - left) < 4 * BLOCK:
            continue
        window = (slice(top, bottom), slice(left, right))
        signed, copy = full.signed[window].astype(np.float32), full.copy[window].astype(np.float32)
        high, low = clipped_pixels(full.copy_rgb[window])
        newly = _newly_clipped(full.signed_clipped[window][None], (high | low)[None].astype(np.float32))
        m = _match(signed, copy, FINE_REACH)
        moved, _, shift, _, _ = changed_blocks(m, _tonal(signed, copy, newly), np.zeros_like(m.texture))
        agreeing = moved & (np.abs(shift - expected).max(axis=-1) <= FINE_AGREE)
        for box in _boxes(_groups(_agreeing(agreeing, shift), MIN_BLOCKS), 1, (1.0, 1.0), wide=True):
            out.append(Box(box.x + left, box.y + top, box.width, box.height))
    return tuple(out)


def _groups(blocks: np.ndarray, least: int) -> np.ndarray:
    """The blocks in groups of `least` or more touching ones."""
    from scipy import ndimage

    labels, _ = ndimage.label(blocks, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return sizes[labels] >= least


def _boxes(blocks: np.ndarray, least: int, scale: tuple[float, float], wide: bool = False) -> tuple[Box, ...]:
    """Boxes around each group of `least` or more touching blocks, scaled to pixels; `wide`:
    only groups two blocks across each way. A warp pushes an area; a line of blocks one
    wide is a sharp straight edge left a fraction of a pixel off (at 448 px, a trimmed
    genuine copy showed four in a column, each moved by 1 px)."""
    from scipy import ndimage

    labels, _ = ndimage.label(blocks, structure=np.ones((3, 3)))
    step = BLOCK // 2
    out = []
    for k, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None or np.count_nonzero(labels[found] == k) < least:
            continue
        rows, cols = found
        if wide and (rows.stop - rows.start < 2 or cols.stop - cols.start < 2):
            continue
        left, top = cols.start * step * scale[0], rows.start * step * scale[1]
        right, bottom = (cols.stop * step + step) * scale[0], (rows.stop * step + step) * scale[1]
        out.append(Box(int(left), int(top), int(round(right - left)), int(round(bottom - top))))
    return tuple(out)
