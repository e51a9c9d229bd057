"""Measuring a read mark's geometry against its known tile, window by window.

A mark's geometry comes as read: a mark read on the working grid as it is, to a cell (the
grid is resampled from the copy whatever its size, so a copy trimmed by 0.5 % on one
side, or by 1 % all round, still decodes there and measures as the whole picture, to
0.45 %); one found along a lattice, to the step of the sizes tried. Compared with the
signed picture as if it were all of it, such a copy was misaligned by up to 20 px: 17 of
22 genuine copies trimmed by 1 % on one side had invented changed regions. Once the id
is known, its tile is found again in windows of MEASURE_WINDOW plane pixels, near where
the geometry puts it (MEASURE_REACH cells), to a tenth of a cell, and an affine
correction of the geometry is fitted to where it sits: sizes then come within 0.1 % of
the truth (the bench's photos, JPEG q75, trims of 0.5-2 %, resizes to 480-2880 px; 0.25 %
for a mark found along a lattice, on a resampled plane)."""

from __future__ import annotations

import numpy as np

from .codec import TILE
from .sync import parabola_top

MEASURE_WINDOW = 128
MEASURE_ACROSS = 5  # windows along an axis at most (a large plane's: 25 in all)
MEASURE_REACH = 4  # cells: the mark's tile is looked for this near where the geometry puts it
# A window's peak, in standard deviations of its correlation over all 4096 offsets: noise
# tops it within the reach's 81 offsets about once in 400 windows.
MEASURE_Z = 4.5
MEASURE_WINDOWS = 4  # windows that found it, two at each end of each axis; with fewer the geometry stays as read
MEASURE_SPAN = TILE  # cells between the outer windows along an axis, to fit a size along it
MEASURE_MAX_GAIN = 0.03  # a larger size change than this is not a read geometry's error
MEASURE_MISFIT = 0.1  # cells: a window further than this (and 3x the median) off the fit is left out


def fitted(
    matrix: np.ndarray, origin: np.ndarray, white: np.ndarray, u: np.ndarray, v: np.ndarray, tile: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A geometry in plane pixels (`matrix`, `origin`: signed cell -> plane, under which
    plane pixel (y, x) is signed cell (u, v)) fitted to where the known `tile` sits,
    window by window (MEASURE_WINDOW), with the standard error of its cell sizes
    (relative); None when too few windows show the tile clearly, or they do not span both
    axes."""
    h, w = white.shape
    size = min(MEASURE_WINDOW, h, w)
    cells = (np.floor(v).astype(np.int32) & (TILE - 1)) * TILE + (np.floor(u).astype(np.int32) & (TILE - 1))
    corners = [
        (top, left)
        for top in np.linspace(0, h - size, min(MEASURE_ACROSS, max(2, round(h / size) + 1))).astype(int)
        for left in np.linspace(0, w - size, min(MEASURE_ACROSS, max(2, round(w / size) + 1))).astype(int)
    ]
    folds = np.stack(
        [
            np.bincount(
                cells[top : top + size, left : left + size].ravel(),
                weights=white[top : top + size, left : left + size].ravel().astype(np.float64),
                minlength=TILE * TILE,
            )
            for top, left in corners
        ]
    ).reshape(-1, TILE, TILE)
    corr = np.fft.irfft2(np.fft.rfft2(folds) * np.conj(np.fft.rfft2(tile)), s=(TILE, TILE))
    z = (corr - corr.mean(axis=(1, 2), keepdims=True)) / (corr.std(axis=(1, 2), keepdims=True) + 1e-9)
    reach = np.r_[0 : MEASURE_REACH + 1, -MEASURE_REACH:0]
    near = z[:, reach][:, :, reach].reshape(len(corners), -1)
    found = []
    for k in np.flatnonzero(near.max(axis=1) >= MEASURE_Z):
        dv, du = divmod(int(np.argmax(near[k])), len(reach))
        peak, c = (int(reach[dv]), int(reach[du])), corr[k]
        sub_v = float(parabola_top(c[peak[0] - 1, peak[1]], c[peak], c[(peak[0] + 1) % TILE, peak[1]]))
        sub_u = float(parabola_top(c[peak[0], peak[1] - 1], c[peak], c[peak[0], (peak[1] + 1) % TILE]))
        centre = np.array([corners[k][1], corners[k][0]]) + size / 2  # plane (x, y)
        cell = np.linalg.solve(matrix, centre - origin)  # the window's middle, in signed cells
        found.append((cell[0], cell[1], peak[1] + sub_u, peak[0] + sub_v))
    if len(found) < MEASURE_WINDOWS:
        return None
    at = np.array(found)
    # The chips of cell q sit where the geometry puts cell q + shift(q), shift affine in q
    # (a lattice's reading can also be turned or sheared a little); a window off the line
    # (an edge's) is left out, and the fit made again on the others.
    design = np.column_stack([at[:, :2], np.ones(len(at))])
    keep = np.ones(len(at), bool)
    for _ in range(3):
        if not _spread(at[keep, :2]):
            return None
        fit, *_ = np.linalg.lstsq(design[keep], at[keep, 2:], rcond=None)
        misfit = np.abs(design @ fit - at[:, 2:]).max(axis=1)
        kept = misfit <= max(MEASURE_MISFIT, 3 * float(np.median(misfit[keep])))
        if np.array_equal(kept, keep):
            break
        keep = kept
    else:
        return None
    change = fit[:2].T  # d shift / d cell: first order in the geometry's cells, which MEASURE_MAX_GAIN bounds
    if np.abs(change).max() > MEASURE_MAX_GAIN:
        return None
    # How well the sizes are known: the spread of the kept windows about the fit, with
    # two degrees of freedom at least (_spread: four windows or more).
    residual = (design[keep] @ fit - at[keep, 2:]).ravel()
    variance = residual @ residual / (residual.size - 2 * design.shape[1])
    size_error = float(np.sqrt(variance * np.diag(np.linalg.inv(design[keep].T @ design[keep]))[:-1].max()))
    return matrix @ (np.eye(2) + change), origin + matrix @ fit[-1], size_error


def _spread(cells: np.ndarray) -> bool:
    """Whether windows (their middles, in cells) pin an affine fit down: along each axis
    they span MEASURE_SPAN, with MEASURE_WINDOWS // 2 of them in each half of it (one
    window alone at an end would decide that axis unchecked)."""
    if len(cells) < MEASURE_WINDOWS:
        return False
    for along in cells.T:
        low, high = along.min(), along.max()
        middle = (low + high) / 2
        if high - low < MEASURE_SPAN or min((along < middle).sum(), (along > middle).sum()) < MEASURE_WINDOWS // 2:
            return False
    return True
