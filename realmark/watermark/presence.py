"""Where a photo still carries its mark and its fine detail, block by block.

An edit that re-synthesises pixels (a blur fill or inpainting over a removed object, a
pasted face, a repainted sign) leaves no mark where it painted, while re-encoding,
resizing and colour changes weaken the mark evenly. At signing the published picture's
presence map is stored (watermark.presence in the manifest); a copy's map is measured the
same way, and blocks where the signed picture carried a strong mark and the copy carries
none are where it was edited. This finds edits the luma grid misses: a blur fill keeps a
region's mean brightness, so its grid cells barely move.

The map is the mark's correlation z-score in blocks of BLOCK x BLOCK working-grid cells
(a 1080p photo: 34 px blocks, 56 x 32 of them, 1.8 kB), kept to a sixteenth.

The detail map (fingerprint.detail) is the picture's own fine detail in the same blocks:
the RMS of the working grid's luma less its 3x3 mean. A blur fill smooths what it
covers, however faint the mark was there (dark or flat-ish areas carry little of it),
while re-encoding, resizing and filters lower detail roughly evenly, or where the grid's
fitted tone curve says they flattened it."""

from __future__ import annotations

import base64

import numpy as np
from scipy import ndimage

from realmark.fingerprint.grid import Box

from .codec import TILE, _tile, _whiten, _work_luma, working_size

BLOCK = 8  # working cells a side
Z_STEP = 16  # stored as round(z * Z_STEP) in an int8: z from -8 to 7.9

# Judged in windows of WINDOW x WINDOW blocks (a 1080p photo: 68 px, an eighth of its
# short side, the size of the smallest edit looked for). Measured on 22 photos, 19
# genuine copies each (JPEG q30-90, WebP, resized to 480-2880 px, brightness, contrast,
# saturation, sepia, vignette, grey, tone curves; 418 copies), against four local edits
# made twice on each (issue 14's bench):
# - a window is judged only where the copy's mark should still show clearly: the signed
#   picture's z times the copy's overall attenuation is at least JUDGED_Z (a fainter
#   window can lose its mark to noise alone);
# - it lost its mark when what is left is under LOST_SHARE of that;
# - and the loss is beyond LOST_SIGMAS of what this copy's attenuation varies by from
#   window to window: heavy JPEG on a busy texture weakens the mark unevenly;
# - an edit is at least LOST_WINDOWS such windows touching: one or two alone are left
#   by JPEG q30 on busy textures (unless one is DEEP_SIGMAS short, below).
# At these values none of the 418 copies lost a region (28 did with single windows, a
# JUDGED_Z of 4 and no spread). Of the edits, the mark alone finds about half of the blur
# fills and a third of pasted faces and text (README "Local edits in photos").
WINDOW = 2
JUDGED_Z = 5.0
LOST_SHARE = 0.2
LOST_SIGMAS = 3.0
LOST_WINDOWS = 3
# One such window alone counts when it lost its mark by DEEP_SIGMAS: a warp of a few
# pixels moves the mark of an eye-sized region out of register, often in a single
# window. Measured (2026-12-07) on the 22 bench photos, four watermark ids each, 2,693
# genuine copies (JPEG q30-90, WebP, 480-2880 px, halved and re-posted, brightness,
# contrast, grain, sharpening, trims, nine filters): one window of one copy met the
# rules above, 3.15 sigmas short; of 49 warps passed as `authentic`, 4 had a window
# 5.9-11.3 sigmas short (each alone).
DEEP_SIGMAS = 5.0
# A warp pushes the mark aside with the picture, and what a copy keeps of it there is
# fainter than elsewhere, but over an eye- or mouth-sized region of faint texture by too
# little to call lost: 1.5-4 sigmas where a lost region needs LOST_SIGMAS and a fifth
# left. The published file's comparison sees such a warp as scattered blocks pushed a
# pixel or two (realmark.fingerprint.published: "stirred"), too few for a group of its
# own. Neither is evidence alone; together, in one window, they are: a window where the
# mark kept at most FADED_SHARE of what the copy keeps elsewhere, FADED_SIGMAS short of
# it, and that holds CORROBORATING_POINTS stirred blocks (a window the signed picture
# marked by at least FADED_SIGMAS). Measured (2026-12-07) on the 22 bench photos, two
# watermark ids each: 1,298 genuine copies that reach that comparison (JPEG q30-90, WebP,
# 480-2880 px, halved and re-posted, brightness, contrast, grain, sharpening, trims,
# nine filters) and 528 warps (4.5-8.9 px, saved at q90 and re-posted halved at q75,
# half in any direction): no genuine copy had such a window at these values, nor at 1
# sigma and a share of 1; 3 stirred blocks alone made 28 false regions, 2 with the mark
# made 49. Of the 30 warps the verifier passed as authentic, 10 have such a window on
# the warp. On two more ids each (held out), no genuine copy had one either (at 0.5
# sigmas and a share of 1, two vignettes would have).
FADED_SIGMAS = 1.5
FADED_SHARE = 0.85
CORROBORATING_POINTS = 3
# Pixels the copy clipped to black or white cannot carry the mark (a brightened copy's
# sky): windows with more than this share of them are not judged.
MAX_CLIPPED = 0.2
CLIPPED_LOW, CLIPPED_HIGH = 5, 250
# Where a filter flattened the copy more than elsewhere (a vignette's corners; bright
# areas under a sepia matrix, whose red and green clip before the vignette darkens them:
# realmark.fingerprint.grid.contrast), the mark went down with the detail and 8-bit
# rounding takes what is left: windows under this share of the copy's median contrast
# are not judged.
MIN_CONTRAST = 0.75
ATTENUATION_FROM_Z = 4.0  # the copy's overall attenuation is measured on windows this strong at signing

# Detail, judged in the same windows. Measured on the same 22 photos and 418 copies (plus
# the four local edits twice each): what a window keeps of its detail, over what the copy
# keeps everywhere (a median) and what the filter's slope takes there, was never under
# 0.42 in two touching windows of a genuine copy (the lowest: 480 px JPEGs, WebP q60, a
# tone curve), and 0.01-0.14 in 43 of 44 blur fills. Windows with under DETAIL_JUDGED
# levels of detail at signing (a clear sky, a wall) have nothing to lose.
# Gained detail, in the same windows: over its expected detail by GAINED_LEVELS levels and
# GAINED_SIGMAS times the spread of what the copy added window to window (beyond the
# median it added everywhere), and GAINED_TIMES its expected detail (at least GAINED_FROM
# levels). Genuine copies stayed 2.1 levels short of this at best; 37 of 44 changed texts
# pass it, and grain of 3 levels RMS added to every genuine copy stays 1 level short.
DETAIL_STEP = 16  # stored as round(log2(rms) * DETAIL_STEP) in an int8: rms 1/128 to 240 levels
DETAIL_JUDGED = 1.0
DETAIL_LOST = 0.25
DETAIL_WINDOWS = 2
GAINED_LEVELS = 4.0
GAINED_SIGMAS = 4.0
GAINED_TIMES = 3.0
GAINED_FROM = 0.5


class Presence:
    """A picture's mark presence map: z per block, and the share of clipped pixels."""

    def __init__(self, z: np.ndarray, clipped: np.ndarray | None = None):
        self.z = np.asarray(z, np.float32)
        self.clipped = np.zeros_like(self.z) if clipped is None else np.asarray(clipped, np.float32)

    @classmethod
    def of(cls, work: np.ndarray, wm_id: int, offset: tuple[int, int] = (0, 0)) -> Presence:
        """The map of a picture as signed (mirrored or turned copies are turned back
        first), from its working plane (working()), its mark's tile at `offset` (a
        Reading's)."""
        white = _whiten(work)
        rows, cols = work.shape
        chips = _tile(wm_id)[
            ((np.arange(rows) - offset[0]) % TILE)[:, None], ((np.arange(cols) - offset[1]) % TILE)[None, :]
        ]
        z = _blocks(white * chips) / np.sqrt(_blocks(white * white) + 1e-9)
        return cls(z, _clipped(work))

    def encode(self) -> str:
        """base64url (unpadded) of the int8 map, row by row."""
        return _to_text(self.z * Z_STEP)

    @classmethod
    def decode(cls, value: str, width: int, height: int) -> Presence:
        """The map stored for a width x height picture (ValueError when it does not fit)."""
        return cls(_from_text(value, width, height, "presence") / Z_STEP)


class Detail:
    """A picture's detail map: the RMS of fine detail (levels) per block."""

    def __init__(self, rms: np.ndarray, clipped: np.ndarray | None = None):
        self.rms = np.asarray(rms, np.float32)
        self.clipped = np.zeros_like(self.rms) if clipped is None else np.asarray(clipped, np.float32)

    @classmethod
    def of(cls, work: np.ndarray) -> Detail:
        """The map of a picture as signed (mirrored or turned copies turned back), from its
        working plane (working())."""
        fine = work - ndimage.uniform_filter(work, 3, mode="nearest")
        return cls(np.sqrt(_blocks(fine * fine) / (BLOCK * BLOCK)), _clipped(work))

    def encode(self) -> str:
        """base64url (unpadded) of the int8 map of log2(rms) * DETAIL_STEP, row by row."""
        return _to_text(np.log2(np.maximum(self.rms, 2.0**-7)) * DETAIL_STEP)

    @classmethod
    def decode(cls, value: str, width: int, height: int) -> Detail:
        """The map stored for a width x height picture (ValueError when it does not fit)."""
        return cls(np.exp2(_from_text(value, width, height, "detail") / DETAIL_STEP))


def _to_text(scaled: np.ndarray) -> str:
    """base64url (unpadded) of a map rounded to int8, row by row."""
    stored = np.clip(np.rint(scaled), -128, 127).astype(np.int8)
    return base64.urlsafe_b64encode(stored.tobytes()).rstrip(b"=").decode()


def _from_text(value: str, width: int, height: int, what: str) -> np.ndarray:
    """The float32 map _to_text stored for a width x height picture (ValueError when it
    does not fit)."""
    shape = blocks_of(width, height)
    raw = np.frombuffer(base64.urlsafe_b64decode(value + "=="), np.int8)
    if raw.size != shape[0] * shape[1]:
        raise ValueError(f"a {what} map of {raw.size} blocks, not {shape[0]}x{shape[1]}")
    return raw.reshape(shape).astype(np.float32)


def working(picture: np.ndarray, signed: tuple[int, int] | None = None) -> np.ndarray:
    """A picture's luma on the mark's working grid, from RGB or its 8-bit luma: the plane
    both maps are measured on; with `signed` (width, height), on that picture's grid (a
    copy of all of it compared with its maps, whatever its own shape)."""
    height, width = picture.shape[:2]
    return _work_luma(picture, working_size(*(signed or (width, height))))


def _blocks(plane: np.ndarray) -> np.ndarray:
    """Sums over BLOCK x BLOCK cells (a ragged edge left out)."""
    bh, bw = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    return plane[: bh * BLOCK, : bw * BLOCK].reshape(bh, BLOCK, bw, BLOCK).sum(axis=(1, 3))


def _clipped(work: np.ndarray) -> np.ndarray:
    """Per block, the share of cells clipped to black or white."""
    return _blocks(((work <= CLIPPED_LOW) | (work >= CLIPPED_HIGH)).astype(np.float32)) / (BLOCK * BLOCK)


def block_pixels(width: int, height: int) -> tuple[float, float]:
    """(x, y) pixels of a width x height picture a map's block spans: BLOCK working cells,
    whatever the ragged edge the map leaves out."""
    cols, rows = working_size(width, height)
    return BLOCK * width / cols, BLOCK * height / rows


def blocks_of(width: int, height: int) -> tuple[int, int]:
    """(rows, columns) of a width x height picture's presence map."""
    cols, rows = working_size(width, height)
    return rows // BLOCK, cols // BLOCK


def _windows(plane: np.ndarray) -> np.ndarray:
    """Per window of WINDOW x WINDOW blocks: z of the window (sum over its blocks / WINDOW)."""
    return ndimage.uniform_filter(plane, WINDOW, mode="constant") * WINDOW


class MarkLoss:
    """What a copy kept of the mark, window by window, against its signed picture's map:
    the z it should keep there (`expected`: the signed z times the copy's attenuation,
    its added noise allowed for), the z it kept, the spread a genuine copy's windows show
    around that (`sigma`), and the windows not judged (`clipped`), for a width x height
    picture. Read as lost regions, or as where the mark faded."""

    def __init__(self, expected, kept, sigma, clipped, width: int, height: int):
        self.expected, self.kept, self.sigma, self.clipped = expected, kept, sigma, clipped
        self.width, self.height = width, height

    @classmethod
    def of(
        cls,
        signed: Presence,
        copy: Presence,
        width: int,
        height: int,
        contrast: np.ndarray | None = None,
        masking: np.ndarray | None = None,
    ) -> MarkLoss | None:
        """`contrast`: how much the copy's filter scaled detail, on any grid over the
        picture (None: evenly). `masking`: per window, how much of the mark's z the copy's
        added noise leaves (masking(); None: all of it). None when there is too little
        mark to compare (a flat or dark picture)."""
        rows = min(signed.z.shape[0], copy.z.shape[0])
        cols = min(signed.z.shape[1], copy.z.shape[1])
        s, c = _windows(signed.z[:rows, :cols]), _windows(copy.z[:rows, :cols])
        if masking is not None:
            s = s * masking[:rows, :cols]  # what the copy could keep there, its noise allowed for
        clipped = _unjudged(copy.clipped[:rows, :cols], contrast)
        strong = (s > ATTENUATION_FROM_Z) & ~clipped
        if strong.sum() < 4 * LOST_WINDOWS:
            return None
        # The copy's attenuation: a median, which the few windows of an edit do not move; and
        # how much it varies from window to window beyond the noise (z has unit variance).
        ratio = c[strong] / s[strong]
        attenuation = min(1.0, float(np.median(ratio)))
        spread = 1.4826 * float(np.median(np.abs(ratio - np.median(ratio))))
        noise = float(np.median(1.0 / s[strong]))
        variation = np.sqrt(max(0.0, spread**2 - noise**2))
        sigma = np.sqrt(1.0 + (variation * s) ** 2)
        return cls(attenuation * s, c, sigma, clipped, width, height)

    def lost_regions(self) -> list[Box]:
        """Boxes, in pixels of the picture, where the signed picture carried its mark
        clearly and the copy carries none of it."""
        short = (self.expected - self.kept) / self.sigma
        lost = (self.expected >= JUDGED_Z) & (self.kept <= LOST_SHARE * self.expected) & (short >= LOST_SIGMAS)
        lost &= ~self.clipped
        deep = lost & (short >= DEEP_SIGMAS)
        return _boxes(lost, LOST_WINDOWS, self.width, self.height, deep=deep)

    def fading(self) -> Fading:
        """Where the copy's mark is fainter than its attenuation says, by less than a lost
        region's (FADED_SIGMAS)."""
        # A window the signed picture barely marked has nothing to fade: noise takes it below
        # its small or negative z as often as above.
        short = self.expected - self.kept
        faded = (
            (self.expected >= FADED_SIGMAS * self.sigma)
            & (short >= FADED_SIGMAS * self.sigma)
            & (self.kept <= FADED_SHARE * self.expected)
            & ~self.clipped
        )
        return Fading(faded, self.width, self.height)


class Fading:
    """The windows of a width x height picture's presence map where a copy's mark faded
    (MarkLoss.fading): on its own, what re-encoding leaves here and there; beside blocks
    the published file saw pushed aside, a warp's trace."""

    def __init__(self, faded: np.ndarray, width: int, height: int):
        self.faded, self.width, self.height = faded, width, height

    def regions_with(self, points: tuple[tuple[float, float], ...]) -> list[Box]:
        """Boxes around faded windows that hold at least CORROBORATING_POINTS of `points`
        ((x, y) pixels of the picture)."""
        if not points:
            return []
        rows, cols = self.faded.shape
        xy = np.asarray(points, np.float64)
        cell_x, cell_y = block_pixels(self.width, self.height)
        at_x, at_y = (xy[:, 0] // cell_x).astype(np.intp), (xy[:, 1] // cell_y).astype(np.intp)
        inside = (at_x >= 0) & (at_x < cols) & (at_y >= 0) & (at_y < rows)  # not in the ragged edge left out
        per_block = np.zeros((rows, cols), np.float32)
        np.add.at(per_block, (at_y[inside], at_x[inside]), 1.0)
        per_window = _windows(per_block) * WINDOW  # _windows divides a window's sum by WINDOW
        held = self.faded & (per_window >= CORROBORATING_POINTS - 0.5)
        return _boxes(held, 1, self.width, self.height)


def masking(signed: Detail, copy: Detail) -> np.ndarray:
    """Per window (as MarkLoss's), the share of the mark's z that the noise the copy
    added everywhere leaves there. A block's z is its correlation with the mark over its
    whitened energy, so grain or JPEG noise lowers z most where the picture was smooth:
    grain of 6 levels on one photo's smooth background tripled the detail there and took
    z from 10-12 to 1.5-6, while the copy kept 0.79 of it overall, read as a lost mark in
    10 of 60 signings (random ids). The noise is the copy's median of added detail power,
    which the few windows of an edit do not move: a pasted face's own detail is not
    excused (excusing each window's own added detail let one of 44 through)."""
    rows = min(signed.rms.shape[0], copy.rms.shape[0])
    cols = min(signed.rms.shape[1], copy.rms.shape[1])
    before, after = _rms_windows(signed.rms[:rows, :cols]), _rms_windows(copy.rms[:rows, :cols])
    noise = float(np.median(np.maximum(after * after - before * before, 0.0)))
    return before / np.sqrt(before * before + noise + 1e-9)


def detail_regions(
    signed: Detail,
    copy: Detail,
    width: int,
    height: int,
    contrast: np.ndarray | None = None,
    dithered: bool = False,
) -> list[Box]:
    """Boxes, in pixels of the width x height signed picture, where the copy lost the
    signed picture's fine detail (a blur fill, a flat panel), or gained detail where it
    had little (text or drawing on a wall or sky). Judged against what the copy did
    everywhere (a median) and what its filter's slope does there (`contrast`, as for
    MarkLoss). A `dithered` copy (drawn from a palette: a GIF) gains grain in smooth
    areas by itself, so only lost detail counts there; the grid and the mark still see
    what was added."""
    rows = min(signed.rms.shape[0], copy.rms.shape[0])
    cols = min(signed.rms.shape[1], copy.rms.shape[1])
    s, c = _rms_windows(signed.rms[:rows, :cols]), _rms_windows(copy.rms[:rows, :cols])
    scale = np.ones((rows, cols)) if contrast is None else np.maximum(_on_blocks(contrast, rows, cols), 0.05)
    unjudged = _unjudged(copy.clipped[:rows, :cols], contrast)
    judged = (s >= DETAIL_JUDGED) & ~unjudged
    if judged.sum() < 4 * DETAIL_WINDOWS:
        return []  # a flat picture: too little detail to measure the copy by
    kept = c / (s * scale)
    typical = float(np.median(kept[judged]))
    lost = judged & (kept < DETAIL_LOST * typical)
    # Detail a filter cannot add: more than the copy keeps elsewhere (a filter that
    # steepened the tone curve there allowed for, one that flattened it not), beyond
    # what it added everywhere (grain, sharpening, JPEG's blocks in flat areas).
    expected = s * np.maximum(scale, 1.0) * typical
    added = c - expected
    floor = float(np.median(added[~unjudged]))
    spread = 1.4826 * float(np.median(np.abs(added[~unjudged] - floor)))
    gained = (
        ~unjudged
        & (added - floor >= max(GAINED_LEVELS, GAINED_SIGMAS * spread))
        & (c >= GAINED_TIMES * np.maximum(expected, GAINED_FROM))
    )
    return _boxes(lost if dithered else lost | gained, DETAIL_WINDOWS, width, height)


def _rms_windows(plane: np.ndarray) -> np.ndarray:
    """Per window of WINDOW x WINDOW blocks: the RMS over its blocks."""
    # The filter's running sums can leave a window of zeros beside large values a hair
    # under zero; one NaN would make the medians the maps are judged by NaN as well.
    return np.sqrt(np.maximum(ndimage.uniform_filter(plane * plane, WINDOW, mode="constant"), 0.0))


def _on_blocks(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A map on any grid over the picture, sampled at each block's centre."""
    gy = np.minimum((np.arange(rows) + 0.5) * grid.shape[0] / rows, grid.shape[0] - 1).astype(np.intp)
    gx = np.minimum((np.arange(cols) + 0.5) * grid.shape[1] / cols, grid.shape[1] - 1).astype(np.intp)
    return grid[gy][:, gx]


def _unjudged(clipped: np.ndarray, contrast: np.ndarray | None) -> np.ndarray:
    """Windows not judged: the copy clipped them, or its filter flattened detail there."""
    out = ndimage.uniform_filter(clipped, WINDOW, mode="constant") > MAX_CLIPPED
    if contrast is not None:
        flattened = contrast < MIN_CONTRAST * float(np.median(contrast))
        rows, cols = clipped.shape
        out |= _on_blocks(ndimage.maximum_filter(flattened, 3), rows, cols)
    return out


def _boxes(lost: np.ndarray, least: int, width: int, height: int, deep: np.ndarray | None = None) -> list[Box]:
    """Boxes, in pixels of the width x height picture, around groups of at least `least`
    touching windows of its map, or holding a `deep` one, largest first."""
    labels, _ = ndimage.label(lost, np.ones((3, 3)))
    boxes = []
    cell_x, cell_y = block_pixels(width, height)
    for found in ndimage.find_objects(labels):
        if found is None:
            continue
        ys, xs = found
        if np.count_nonzero(lost[found]) < least and (deep is None or not deep[found].any()):
            continue
        # Window (y, x) covers blocks y - WINDOW // 2 .. y - WINDOW // 2 + WINDOW - 1.
        left = max(0, xs.start - WINDOW // 2) * cell_x
        top = max(0, ys.start - WINDOW // 2) * cell_y
        right = min(width, (xs.stop - WINDOW // 2 + WINDOW - 1) * cell_x)
        bottom = min(height, (ys.stop - WINDOW // 2 + WINDOW - 1) * cell_y)
        boxes.append(Box(round(left), round(top), round(right - left), round(bottom - top)))
    return sorted(boxes, key=lambda b: -b.width * b.height)
