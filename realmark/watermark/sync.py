"""Geometric synchronisation: where the mark's tile lattice went.

The mark is one 64x64-cell tile repeated over the picture, so the whitened picture's
autocorrelation has a lattice of peaks at the tile period (Kutter, 1998). Whatever
happened to the picture as a whole (resized, rotated, stretched, mirrored, cropped
anywhere, set inside a screenshot or a collage), the lattice moves with it: its two
shortest vectors are the images of the tile's sides. So the decoder measures the lattice
instead of guessing scales and angles, samples the picture along it (an affine warp back
to the tile's cells) and folds and decodes as for an unmoved picture.

Where the marked picture is only part of the frame, it is also looked for alone, in
the windows whose own autocorrelation peaks highest (busiest_windows) and in the places
that regions.py finds from the picture's edges.

Costs: a forward and an inverse real FFT per plane looked at, and a fold (one pass over
the plane, about 0.5 ms on the working grid) per lattice tried, whether or not a mark is
there: about 37-45 ms median for an unmarked 1080p photo on this project's 2-core build
machine (bench.watermark; the reader looks at the finer planes of a photo only when
something frames the picture). Decoding (the only step that spends the false-positive
budget) runs only where a fold's pilot stands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.fft as sfft
from scipy import ndimage

TILE = 64  # cells: the tile's side (codec.TILE; repeated here to keep this module below codec)

# Lattices shorter than this (plane pixels) are left alone: at that period a cell is under
# half a pixel and the chips are gone, while block codecs' 8- and 16-pixel grids and
# their multiples live there.
MIN_PERIOD = 28.0
PEAKS = 24  # strongest autocorrelation peaks the lattice is built from
CANDIDATES = 24  # strongest peak-pair lattices examined further (finer lattices, peaks explained)
EXPLAIN = 12  # strongest peaks a candidate lattice is asked to explain (ranking)
AXIS_BINS = 3  # frequencies on and next to each axis that are zeroed (see _flatten)
FLATTEN_SPAN = 9  # frequencies: the local mean a power spectrum is divided by (see _flatten)
SUBSAMPLE = 2  # samples per cell along each lattice side (the cell phase is unknown)
FOLD_FRACTION_BITS = 12  # fixed-point sub-cell coordinates in a fold (int32 holds planes to 100k px)
WORKERS = 2  # threads for the larger FFTs (the machines this runs on have two cores or more)


@dataclass(frozen=True)
class Lattice:
    """Two lattice vectors (x, y) in plane pixels, each the image of one tile side."""

    v1: tuple[float, float]
    v2: tuple[float, float]
    strength: float
    explained: int = 0  # strongest autocorrelation peaks that lie on this lattice

    @property
    def matrix(self) -> np.ndarray:
        """Cell (u, v) -> plane (x, y): one tile side is TILE cells."""
        return np.column_stack([self.v1, self.v2]) / TILE

    def in_pixels(self, factors: tuple[float, float]) -> Lattice:
        """The same lattice in other pixels, one of this plane's pixels being `factors`
        (x, y) of them."""
        fx, fy = factors
        return Lattice(
            (self.v1[0] * fx, self.v1[1] * fy), (self.v2[0] * fx, self.v2[1] * fy), self.strength, self.explained
        )

    def squared(self) -> Lattice | None:
        """The square lattice nearest this one (v1's direction, the sides' mean length),
        or None when this one is not nearly square (sides within 4 %, 3 degrees)."""
        v1, v2 = np.array(self.v1), np.array(self.v2)
        n1, n2 = float(np.hypot(*v1)), float(np.hypot(*v2))
        cos = abs(float(v1 @ v2)) / (n1 * n2)
        if abs(n1 - n2) > 0.04 * max(n1, n2) or cos > np.sin(np.radians(3)) or (cos == 0 and n1 == n2):
            return None
        u = v1 / n1 * (n1 + n2) / 2
        side = np.array([-u[1], u[0]]) if v1[0] * v2[1] - v1[1] * v2[0] > 0 else np.array([u[1], -u[0]])
        return Lattice((float(u[0]), float(u[1])), (float(side[0]), float(side[1])), self.strength, self.explained)

    def turned(self, radians: float, scale: float) -> Lattice:
        """The same lattice turned and scaled about the origin."""
        c, s = np.cos(radians) * scale, np.sin(radians) * scale
        rot = np.array([[c, -s], [s, c]])
        v1, v2 = rot @ np.array(self.v1), rot @ np.array(self.v2)
        return Lattice((float(v1[0]), float(v1[1])), (float(v2[0]), float(v2[1])), self.strength, self.explained)


def _flatten(power: np.ndarray) -> np.ndarray:
    """Divide a power spectrum (rfft layout) by its local mean, in place.

    The picture's residue is smooth over frequencies, in rings (its 1/f fall-off) and in
    ridges (an edge puts its energy on a line through the origin); the mark's lattice is
    a set of isolated harmonics. Dividing by the mean over the neighbouring FLATTEN_SPAN
    frequencies removes the first and keeps the second, so every harmonic has a say.
    Straight edges along the axes (borders, letterbox bars, app chrome) and block-codec
    grids put their energy on the axes, which are zeroed."""
    # The axes and their next bins: a straight edge that the plane's border cuts short
    # leaks a little beside its axis, and its autocorrelation is then a ridge along it.
    power[:AXIS_BINS, :] = 0.0
    power[-AXIS_BINS + 1 :, :] = 0.0
    power[:, :AXIS_BINS] = 0.0
    local = ndimage.uniform_filter(power, FLATTEN_SPAN, mode="wrap")
    local += float(local.mean()) * 1e-3 + 1e-12
    power /= local
    return power


def _half(acf: np.ndarray, max_lag: tuple[int, int]) -> np.ndarray:
    dy, dx = max_lag
    return np.concatenate([acf[acf.shape[0] - dy :, : dx + 1], acf[: dy + 1, : dx + 1]], axis=0)


def autocorrelation(white: np.ndarray, max_lag: tuple[int, int]) -> np.ndarray:
    """The whitened plane's flattened autocorrelation for lags up to max_lag = (dy, dx):
    an array [2 dy + 1, dx + 1], lag (0, 0) at [dy, 0] (the right half: it is symmetric).

    The plane is zero-padded by max_lag, so the correlation is linear: a long lag compares
    the picture with itself, not with its far side wrapped round."""
    h, w = white.shape
    shape = (sfft.next_fast_len(h + max_lag[0], real=True), sfft.next_fast_len(w + max_lag[1], real=True))
    power = np.abs(sfft.rfft2(white, s=shape, workers=WORKERS))
    power = _flatten(power * power)
    return _half(sfft.irfft2(power, s=shape, workers=WORKERS), max_lag)


def windowed_autocorrelation(
    white: np.ndarray, max_lag: tuple[int, int], window: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """The same for short lags on a large plane, at a fraction of the cost: the power
    spectra of window x window pieces (overlapping so that they cover the plane) are
    averaged (Welch's method) and transformed back once. Returns (autocorrelation, the
    piece's shape), the piece being what a lag's overlap is measured on."""
    h, w = white.shape
    wh, ww = min(window, h), min(window, w)
    tops = np.linspace(0, h - wh, -(-h // wh)).round().astype(int)
    lefts = np.linspace(0, w - ww, -(-w // ww)).round().astype(int)
    pieces = np.stack([white[t : t + wh, left : left + ww] for t in tops for left in lefts])
    spectra = sfft.rfft2(pieces, axes=(1, 2), workers=WORKERS)
    power = np.abs(spectra)
    power *= power
    total = _flatten(power.sum(axis=0))
    return _half(sfft.irfft2(total, s=(wh, ww), workers=WORKERS), max_lag), (wh, ww)


def busiest_windows(white: np.ndarray, window: int, max_lag: int, count: int) -> list[tuple[int, int, int, int]]:
    """The `count` windows (top, left, height, width) of a plane whose own
    autocorrelation has the strongest peak: where a small marked picture sits (a collage
    tile, a picture in a screenshot, a window in a reaction video). Searched and folded
    alone, its mark is not drowned by the rest of the plane's noise.

    Windows overlap by half; their power spectra are flattened and transformed back in
    one batch."""
    h, w = white.shape
    wh, ww = min(window, h), min(window, w)
    step_y, step_x = max(1, wh // 2), max(1, ww // 2)
    tops = list(range(0, h - wh + 1, step_y))
    lefts = list(range(0, w - ww + 1, step_x))
    if tops[-1] != h - wh:
        tops.append(h - wh)
    if lefts[-1] != w - ww:
        lefts.append(w - ww)
    places = [(t, left) for t in tops for left in lefts]
    if len(places) <= 1:
        return []
    pieces = np.stack([white[t : t + wh, left : left + ww] for t, left in places])
    power = np.abs(sfft.rfft2(pieces, axes=(1, 2), workers=WORKERS))
    power *= power
    power[:, :AXIS_BINS, :] = 0.0
    power[:, -AXIS_BINS + 1 :, :] = 0.0
    power[:, :, :AXIS_BINS] = 0.0
    local = ndimage.uniform_filter(power, (1, FLATTEN_SPAN, FLATTEN_SPAN), mode="wrap")
    local += local.mean(axis=(1, 2), keepdims=True) * 1e-3 + 1e-12
    power /= local
    acf = sfft.irfft2(power, s=(wh, ww), axes=(1, 2), workers=WORKERS)
    lag = min(max_lag, int(min(wh, ww) * 0.45))
    half = np.concatenate([acf[:, wh - lag :, : lag + 1], acf[:, : lag + 1, : lag + 1]], axis=1)
    band, _, overlap = _band((wh, ww), (lag, lag))
    values = (half / overlap).reshape(len(places), -1)[:, np.flatnonzero(band)]
    mean, spread = values.mean(axis=1), values.std(axis=1) + 1e-12
    top_two = np.partition(values, -2, axis=1)[:, -2:].mean(axis=1)  # a lattice has several peaks, noise rarely two
    top_two = (top_two - mean) / spread
    order = np.argsort(-top_two)
    chosen: list[tuple[int, int, int, int]] = []
    for k in order:
        t, left = places[k]
        if all(abs(t - c[0]) >= wh // 2 or abs(left - c[1]) >= ww // 2 for c in chosen):
            chosen.append((t, left, wh, ww))
        if len(chosen) == count:
            break
    return chosen


@cache
def _band(shape: tuple[int, int], max_lag: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(searchable lags, overlap of the plane with itself at each lag) for a half-plane
    autocorrelation of a plane of this shape."""
    h, w = shape
    dy = np.arange(-max_lag[0], max_lag[0] + 1)[:, None]
    dx = np.arange(0, max_lag[1] + 1)[None, :]
    band = (dy * dy + dx * dx >= MIN_PERIOD * MIN_PERIOD) & ((dx > 0) | (dy > 0))
    # shorter lags are kept (not searched) for the primitivity check: a block codec's
    # grid also peaks at half of any lattice it suggests
    near = dy * dy + dx * dx < 36
    overlap = (h - np.abs(dy)) * (w - dx) / float(h * w)
    return band, near, np.sqrt(np.maximum(overlap, 0.05)).astype(np.float32)


def _zscores(acf: np.ndarray, shape: tuple[int, int], max_lag: tuple[int, int]) -> np.ndarray:
    """Standardised lags, in standard deviations over the search band; (z, band).

    At a lag the plane overlaps itself on `overlap` of its area: the mark's correlation
    grows with the overlap, the noise with its square root, so dividing by the square
    root makes every lag's noise alike and far peaks comparable with near ones."""
    band, near, overlap = _band(shape, max_lag)
    z = acf / overlap
    values = z[band]
    z = (z - values.mean()) / (values.std() + 1e-12)
    z[near] = 0.0
    return z, band


_AROUND = np.arange(-2, 3)


def _peaks(z: np.ndarray, band: np.ndarray, count: int) -> list[tuple[float, float, float]]:
    """The strongest local maxima of a half-plane z within the band, as (dx, dy, z)."""
    dy0 = (z.shape[0] - 1) // 2
    ys, xs = np.nonzero((z > 2.0) & band)
    if ys.size == 0:
        return []
    # Local maxima over 5 x 5, judged only where z > 2 (a few per cent of the lags): a
    # maximum filter over the whole plane cost more than the rest of the search.
    padded = np.pad(z, 2, constant_values=-np.inf)
    around = padded[ys[:, None, None] + 2 + _AROUND[None, :, None], xs[:, None, None] + 2 + _AROUND[None, None, :]]
    top = z[ys, xs] >= around.reshape(len(ys), 25).max(axis=1)
    ys, xs = ys[top], xs[top]
    order = np.argsort(-z[ys, xs])[:count]
    return [(float(xs[i]), float(ys[i] - dy0), float(z[ys[i], xs[i]])) for i in order]


# The lattice arithmetic below works on many candidates at once ([n, 2] arrays of (x, y)
# vectors): an unmarked picture yields dozens of candidate lattices per plane, and
# looking at them one by one in Python cost more than the FFTs that found them.


def _reduce_many(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange-Gauss reduction of many bases at once ([n, 2] each): the shortest basis
    of the lattice each pair spans."""
    a, b = a.astype(float).copy(), b.astype(float).copy()
    for _ in range(32):
        swap = np.einsum("ij,ij->i", a, a) > np.einsum("ij,ij->i", b, b)
        a[swap], b[swap] = b[swap], a[swap].copy()
        m = np.rint(np.einsum("ij,ij->i", a, b) / np.maximum(np.einsum("ij,ij->i", a, a), 1e-9))
        if not m.any():
            break
        b -= m[:, None] * a
    return a, b


def _canonical_many(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same lattices' bases with v1 nearest the +x axis and v2 pointing down (+y), so
    a lattice matrix keeps handedness and turns by at most 45 degrees; mirror images and
    quarter turns are left to the decoder's orientations."""
    options = np.stack([a, -a, b, -b], axis=1)  # [n, 4, 2]
    lengths = np.hypot(options[..., 0], options[..., 1]) + 1e-12
    pick = np.argmax(options[..., 0] / lengths, axis=1)
    v1 = options[np.arange(len(a)), pick]
    other = np.where((pick < 2)[:, None], b, a)
    cross = v1[:, 0] * other[:, 1] - v1[:, 1] * other[:, 0]
    return v1, np.where((cross > 0)[:, None], other, -other)


def _key_rows(v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Lattices that agree to 2 pixels share a key: one row [n, 4] each."""
    c1, c2 = _canonical_many(np.atleast_2d(v1), np.atleast_2d(v2))
    return np.round(np.hstack([c1, c2]) / 2).astype(np.int64)


def _keys(v1: np.ndarray, v2: np.ndarray) -> list[tuple]:
    return [tuple(row) for row in _key_rows(v1, v2).tolist()]


def _first_of_each_key(v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Indices of the first lattice ([n, 2] sides) of each key, in order."""
    if len(v1) == 0:
        return np.zeros(0, np.intp)
    rows = _key_rows(v1, v2)
    # One integer per key (each entry is under 2^14 in size: half a lag), so that the
    # unique values are found on a flat array (by rows, np.unique cost 0.25 ms a search)
    packed = ((rows + (1 << 14)) << np.array([0, 16, 32, 48], np.int64)).sum(axis=1)
    _, first = np.unique(packed, return_index=True)
    return np.sort(first)


def _tile_shaped(v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """Could these be the tile's sides ([n, 2] each): long enough, within a stretch of 2
    and a shear of 30 degrees of each other."""
    n1, n2 = np.hypot(v1[:, 0], v1[:, 1]), np.hypot(v2[:, 0], v2[:, 1])
    shaped = (np.minimum(n1, n2) >= MIN_PERIOD) & (np.maximum(n1, n2) <= 2 * np.minimum(n1, n2))
    return shaped & (np.abs(np.einsum("ij,ij->i", v1, v2)) <= 0.5 * n1 * n2)


def max_around(z: np.ndarray) -> np.ndarray:
    """The maximum over the 3 x 3 neighbourhood of each entry (the edge's held beyond it,
    as ndimage.maximum_filter's "nearest", at a seventh of its cost)."""
    rows = z.copy()
    np.maximum(rows[1:], z[:-1], out=rows[1:])
    np.maximum(rows[:-1], z[1:], out=rows[:-1])
    out = rows.copy()
    np.maximum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.maximum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _z_many(zmax: np.ndarray, points: np.ndarray) -> np.ndarray:
    """z near many lags ([n, 2] as (dx, dy); either sign: the half-plane holds the lag or
    its mirror), from the 3x3 maximum of z (`zmax`: max_around); -inf where out of reach."""
    flip = (points[:, 0] < 0) | ((points[:, 0] == 0) & (points[:, 1] < 0))
    pts = np.where(flip[:, None], -points, points)
    dy0 = (zmax.shape[0] - 1) // 2
    xs = np.rint(pts[:, 0]).astype(np.intp)
    ys = np.rint(pts[:, 1]).astype(np.intp) + dy0
    ok = (xs >= 0) & (xs < zmax.shape[1] - 1) & (ys >= 1) & (ys < zmax.shape[0] - 1)
    out = np.full(len(points), -np.inf)
    out[ok] = zmax[ys[ok], xs[ok]]
    return out


def parabola_top(before, peak, after) -> np.ndarray:
    """Where a parabola through three samples around a maximum tops, from the middle one:
    -0.5 to 0.5, and 0 where they do not curve down."""
    curve = before - 2 * peak + after
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(curve < 0, np.clip(0.5 * (before - after) / np.where(curve < 0, curve, -1.0), -0.5, 0.5), 0.0)


def _subpixel_peaks(z: np.ndarray, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The peak of z within 2 pixels of each lag ([n, 2]), to a fraction of a pixel (a
    parabola through the maximum and its neighbours, along each axis). Returns (peaks
    [n, 2], their z [n], within reach [n])."""
    sign = np.where((lags[:, 0] < 0) | ((lags[:, 0] == 0) & (lags[:, 1] < 0)), -1.0, 1.0)
    u = lags * sign[:, None]
    dy0 = (z.shape[0] - 1) // 2
    x = np.rint(u[:, 0]).astype(np.intp)
    y = np.rint(u[:, 1]).astype(np.intp) + dy0
    ok = (x >= 3) & (x < z.shape[1] - 3) & (y >= 3) & (y < z.shape[0] - 3)
    peaks, values = np.zeros_like(lags, dtype=float), np.full(len(lags), -np.inf)
    if not ok.any():
        return peaks, values, ok
    x, y = x[ok], y[ok]
    patch = z[y[:, None, None] + _AROUND[None, :, None], x[:, None, None] + _AROUND[None, None, :]]  # [m, 5, 5]
    py, px = np.divmod(np.argmax(patch.reshape(len(x), 25), axis=1), 5)
    py, px = np.clip(py, 1, 3), np.clip(px, 1, 3)
    rows = np.arange(len(x))
    c = patch[rows, py, px]

    ox = parabola_top(patch[rows, py, px - 1], c, patch[rows, py, px + 1])
    oy = parabola_top(patch[rows, py - 1, px], c, patch[rows, py + 1, px])
    found = np.column_stack([x - 2 + px + ox, y - 2 + py + oy - dy0])
    peaks[ok] = found * sign[ok, None]
    values[ok] = c
    return peaks, values, ok


# The lattice points a v1 + b v2 (|a|, |b| <= 4, one of each +- pair) that _refine fits.
_REFINE_POINTS = np.array([(a, b) for a in range(-4, 5) for b in range(-4, 5) if a > 0 or (a == 0 and b > 0)], float)


def _refine(z: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares lattice vectors from the sub-pixel positions of every lattice peak in
    reach (a v1 + b v2, |a|, |b| <= 4): far peaks pin the period and angle down to a
    small fraction of a pixel per period, which folding a wide picture needs (an error of
    0.5 % drifts by a cell every 200)."""
    for _ in range(2):
        found, values, ok = _subpixel_peaks(z, _REFINE_POINTS @ np.array([v1, v2]))
        use = ok & (values > 3.0)
        if np.count_nonzero(use) < 3:
            break
        solution, *_ = np.linalg.lstsq(_REFINE_POINTS[use], found[use], rcond=None)
        v1, v2 = solution[0], solution[1]
    return v1, v2


def _explained(peaks: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> np.ndarray:
    """How many of the peaks ([p, 2]) lie on each lattice that v1 and v2 ([n, 2]) span.
    The true lattice explains every peak of the mark; a coarser one built from some of
    them explains fewer."""
    inverse = np.linalg.inv(np.stack([v1, v2], axis=2))  # [n, 2, 2]
    c = np.einsum("nij,pj->npi", inverse, peaks)
    lengths = np.stack([np.hypot(v1[:, 0], v1[:, 1]), np.hypot(v2[:, 0], v2[:, 1])], axis=1)
    off = np.abs(c - np.round(c)) * lengths[:, None, :]
    return np.count_nonzero(off.max(axis=2) <= 2.0, axis=1)


@cache
def _finer_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """(a / n + i, b / n + j) for the points of the lattices of index n = 2 to 4 over a
    given one, each in its nine nearest representatives (i, j in -1..1), and their n."""
    rows, index = [], []
    for n in (2, 3, 4):
        for a in range(n):
            for b in range(n):
                if (a or b) and np.gcd(np.gcd(a, b), n) == 1:
                    for i in (-1, 0, 1):
                        for j in (-1, 0, 1):
                            rows.append((a / n + i, b / n + j))
                            index.append(n)
    return np.array(rows), np.array(index)


_NEAR_POINTS = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], float)


def _finer_bases(point: np.ndarray, n: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduced bases of the lattices that v1, v2 and point span (index n over theirs),
    for many at once ([k, 2] and [k]); where none is found, v1 and v2 themselves."""
    area = np.abs(v1[:, 0] * v2[:, 1] - v1[:, 1] * v2[:, 0]) / n
    near = (
        point[:, None, :]
        + _NEAR_POINTS[None, :, 0, None] * v1[:, None, :]
        + _NEAR_POINTS[None, :, 1, None] * v2[:, None, :]
    )
    vectors = np.concatenate([near, v1[:, None, :], v2[:, None, :]], axis=1)  # [k, 27, 2]
    lengths = np.einsum("kij,kij->ki", vectors, vectors)
    lengths[lengths <= 1e-9] = np.inf  # the origin is no side
    order = np.argsort(lengths, axis=1, kind="stable")
    vectors = np.take_along_axis(vectors, order[:, :, None], axis=1)
    rows = np.arange(len(point))
    u1 = vectors[:, 0]
    dets = np.abs(u1[:, None, 0] * vectors[:, :, 1] - u1[:, None, 1] * vectors[:, :, 0])
    match = (np.abs(dets - area[:, None]) < 0.1 * area[:, None]) & np.isfinite(
        np.take_along_axis(lengths, order, axis=1)
    )
    found = match.any(axis=1)
    u2 = vectors[rows, np.argmax(match, axis=1)]
    r1, r2 = _reduce_many(u1, u2)
    return np.where(found[:, None], r1, v1), np.where(found[:, None], r2, v2)


def _with_finer(zmax: np.ndarray, v1: np.ndarray, v2: np.ndarray, strong: np.ndarray) -> list[list[tuple]]:
    """For each lattice ([k, 2] sides), itself and the finer lattices the peaks suggest
    over it: a point of a lattice of index 2 to 4 over it where z exceeds `strong` [k]
    (the smallest index first; each point in its nine nearest representatives, since the
    mark's peaks are not all equally strong and a far one can stand out where the near
    one does not). Two peaks of the mark can span a coarser lattice than the mark's own,
    and a finer lattice can also be an upscaled picture's interpolation pattern; both are
    kept: the pilot decides."""
    out = [[(v1[k], v2[k])] for k in range(len(v1))]
    coefficients, index = _finer_coefficients()
    live = np.arange(len(v1))
    for _ in range(2):
        if live.size == 0:
            break
        points = coefficients[None, :, 0, None] * v1[live, None, :] + coefficients[None, :, 1, None] * v2[live, None, :]
        values = _z_many(zmax, points.reshape(-1, 2)).reshape(live.size, -1)
        hits = values > strong[live, None]
        has = hits.any(axis=1)
        live = live[has]
        if live.size == 0:
            break
        first = np.argmax(hits[has], axis=1)  # the smallest index n first
        point = points[np.nonzero(has)[0], first]
        f1, f2 = _finer_bases(point, index[first].astype(float), v1[live], v2[live])
        long_enough = np.hypot(f1[:, 0], f1[:, 1]) >= MIN_PERIOD
        live, f1, f2 = live[long_enough], f1[long_enough], f2[long_enough]
        v1, v2 = v1.copy(), v2.copy()
        v1[live], v2[live] = f1, f2
        for k, a, b in zip(live.tolist(), f1, f2, strict=True):
            out[k].append((a, b))
    return out


def _candidates(zmax: np.ndarray, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lattices that pairs of peaks span, as (strength [n], v1 [n, 2], v2 [n, 2]),
    strongest first, one per key."""
    i, j = np.triu_indices(len(peaks), 1)
    a, b = peaks[i], peaks[j]
    cross = np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    keep = cross >= 0.5 * np.hypot(a[:, 0], a[:, 1]) * np.hypot(b[:, 0], b[:, 1])  # not nearly parallel
    v1, v2 = _reduce_many(a[keep], b[keep])
    shaped = _tile_shaped(v1, v2)
    v1, v2 = v1[shaped], v2[shaped]
    if len(v1) == 0:
        return np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2))
    shell = _z_many(zmax, np.vstack([v1, v2, v1 + v2, v1 - v2])).reshape(4, -1)
    reachable = np.isfinite(shell)
    strength = np.where(reachable, shell, 0.0).sum(axis=0) / np.maximum(reachable.sum(axis=0), 1)
    order = np.argsort(-strength, kind="stable")
    order = order[reachable[:2, order].all(axis=0)]  # both sides within reach
    chosen = order[_first_of_each_key(v1[order], v2[order])]
    return strength[chosen], v1[chosen], v2[chosen]


def find_lattices(
    white: np.ndarray, max_lag: tuple[int, int], count: int = 2, squares: int = 0, window: int | None = None
) -> list[Lattice]:
    """The most convincing tile lattices in a whitened plane (possibly none), with periods
    up to max_lag = (dy, dx) plane pixels; with a window, from averaged pieces of that
    size (short lags on a large plane: windowed_autocorrelation).

    `count` lattices come from ranking the candidates (_candidates, and the finer
    lattices they suggest) by how many of the strongest peaks they explain, then by the
    strength of their first peaks; then `squares` more: the square lattice on each of the
    strongest single peaks not yet covered. A weak mark shows only its strongest peaks,
    and only the decoder's pilot can tell which of them is the mark's."""
    if window:
        acf, shape = windowed_autocorrelation(white, max_lag, window)
    else:
        acf, shape = autocorrelation(white, max_lag), white.shape
    z, band = _zscores(acf, shape, max_lag)
    peaks = _peaks(z, band, PEAKS)
    if len(peaks) < 1:
        return []
    zmax = max_around(z)
    lags = np.array([p[:2] for p in peaks], float)
    heights = np.array([p[2] for p in peaks], float)

    strength, v1, v2 = _candidates(zmax, lags)
    strength, v1, v2 = strength[:CANDIDATES], v1[:CANDIDATES], v2[:CANDIDATES]
    expanded = _with_finer(zmax, v1, v2, 0.6 * strength)
    sides = [(s, u1, u2) for s, options in zip(strength.tolist(), expanded, strict=True) for u1, u2 in options]
    ranked: list[tuple] = []
    if sides:
        s = np.array([c[0] for c in sides])
        u1, u2 = np.array([c[1] for c in sides]), np.array([c[2] for c in sides])
        shaped = np.nonzero(_tile_shaped(u1, u2))[0]
        found: dict[tuple, int] = {}
        for k, key in zip(shaped.tolist(), _keys(u1[shaped], u2[shaped]) if shaped.size else [], strict=True):
            if key not in found or s[found[key]] < s[k]:
                found[key] = k
        kept = np.array(list(found.values()), dtype=np.intp)
        if kept.size:
            explained = _explained(lags[:EXPLAIN], u1[kept], u2[kept])
            order = sorted(range(kept.size), key=lambda i: (-explained[i], -s[kept[i]]))
            ranked = [(u1[kept[i]], u2[kept[i]], float(s[kept[i]]), int(explained[i])) for i in order]

    lattices: list[Lattice] = []
    keys: set[tuple] = set()
    for pool, quota in ((ranked, count), (_singles(z, zmax, lags, heights), squares)):
        added = 0
        for a, b, lattice_strength, explained in pool if quota else ():
            r1, r2 = _refine(z, a, b)
            c1, c2 = _canonical_many(r1[None], r2[None])
            key = _keys(c1, c2)[0]
            if not _tile_shaped(c1, c2)[0] or key in keys:
                continue
            keys.add(key)
            lattices.append(
                Lattice(
                    (float(c1[0, 0]), float(c1[0, 1])), (float(c2[0, 0]), float(c2[0, 1])), lattice_strength, explained
                )
            )
            added += 1
            if added == quota:
                break
    return lattices


def _singles(z: np.ndarray, zmax: np.ndarray, lags: np.ndarray, heights: np.ndarray, batch: int = 6):
    """(v1, v2, strength, 1) for each peak, strongest first: the square lattice on the
    peak (to a fraction of a pixel), then the finest lattice the peaks suggest over it,
    if any. Made a few peaks at a time: a search takes the first one or two that are new,
    so where the strongest peak suggests a finer lattice, a quota of two is spent on
    that peak alone (on the bench's 1,144 placement copies this read 5 more and lost
    none, against the finer lattices of the two strongest peaks).

    Both, because neither alone is safe. The square is the mark's lattice when the peak
    is a tile side; the finer one is when the peak is a diagonal or a multiple. But a
    weak mark's z is noisy, and the finer lattice only needs one lag above 0.42 of the
    peak among dozens: on half-area crops of re-encoded photos whose fold reached 11-14
    sigma, the strongest peak was the tile side and a noise lag turned its square into
    one of half the period, which alone was folded (and read nothing)."""
    subpixel, _, reached = _subpixel_peaks(z, lags)
    v = np.where(reached[:, None], subpixel, lags)
    for start in range(0, len(v), batch):
        part = v[start : start + batch]
        square = _with_finer(
            zmax, part, np.column_stack([-part[:, 1], part[:, 0]]), 0.6 * 0.7 * heights[start : start + batch]
        )
        for options, h in zip(square, heights[start : start + batch], strict=True):
            yield options[0][0], options[0][1], float(h), 1
            if len(options) > 1:
                yield options[-1][0], options[-1][1], float(h), 1


def cells_of_pixels(shape: tuple[int, int], matrix: np.ndarray, origin=(0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) cell coordinates of every pixel centre of a plane, for the affine map
    cell -> plane `origin + matrix @ (u, v)` (float32, [h, w] each)."""
    h, w = shape
    inverse = np.linalg.inv(matrix)
    xs = np.arange(w, dtype=np.float64) + 0.5 - origin[0]
    ys = np.arange(h, dtype=np.float64) + 0.5 - origin[1]
    u = np.add.outer((inverse[0, 1] * ys).astype(np.float32), (inverse[0, 0] * xs).astype(np.float32))
    v = np.add.outer((inverse[1, 1] * ys).astype(np.float32), (inverse[1, 0] * xs).astype(np.float32))
    return u, v


def fold_along(white: np.ndarray, lattice: Lattice, origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Fold the plane into one tile along the lattice.

    Every pixel goes to the tile cell its centre falls in (a box average of each cell,
    whatever the cell's size in pixels, at one pass over the plane). The lattice gives
    the tile's size and angle, not where cell boundaries fall, so pixels are binned to
    1/SUBSAMPLE of a cell and SUBSAMPLE^2 phase-shifted tiles are returned:
    folded[dy, dx, TILE, TILE], cells indexed [v, u] (v along v2, u along v1); cell u of
    phase dx covers u + dx / SUBSAMPLE to u + 1 + dx / SUBSAMPLE; cell (0, 0) of phase (0,
    0) starts at `origin` (plane pixels)."""
    side = TILE * SUBSAMPLE  # a power of two: "mod side" is a bit mask
    h, w = white.shape
    inverse = np.linalg.inv(lattice.matrix * (1.0 / SUBSAMPLE))  # plane (x, y) -> sub-cells
    # Sub-cell coordinates in fixed point (FOLD_FRACTION_BITS below the point): a row's
    # and a column's share, each exact to 1/4096 of a sub-cell, add up in one integer
    # pass; an arithmetic shift is then floor, and the mask wraps into the tile.
    one = float(1 << FOLD_FRACTION_BITS)
    xs = (np.arange(w, dtype=np.float64) + 0.5 - origin[0]) * one
    ys = (np.arange(h, dtype=np.float64) + 0.5 - origin[1]) * one
    u = np.add.outer(np.floor(inverse[0, 1] * ys).astype(np.int32), np.floor(inverse[0, 0] * xs).astype(np.int32))
    index = np.add.outer(np.floor(inverse[1, 1] * ys).astype(np.int32), np.floor(inverse[1, 0] * xs).astype(np.int32))
    u >>= FOLD_FRACTION_BITS
    u &= side - 1
    index >>= FOLD_FRACTION_BITS
    index &= side - 1
    index <<= int(np.log2(side))
    index |= u
    # float64 weights: bincount converts any other dtype on a path several times slower
    # than the count itself
    weights = white.ravel().astype(np.float64, copy=False)
    fine = np.bincount(index.ravel(), weights=weights, minlength=side * side).reshape(side, side)
    return phases_of(fine).reshape(SUBSAMPLE, SUBSAMPLE, TILE, TILE)


def phases_of(fine: np.ndarray) -> np.ndarray:
    """[..., side, side] sub-cell sums -> [..., SUBSAMPLE^2, TILE, TILE] phase-shifted tiles:
    phase (dy, dx) of a cell sums the SUBSAMPLE x SUBSAMPLE sub-cells from (dy, dx) on,
    wrapping round the tile. The sums over every window are made once, then each phase
    is every SUBSAMPLE-th of them."""
    boxes = fine.copy()
    for i in range(1, SUBSAMPLE):
        boxes += np.roll(fine, -i, axis=-1)
    rows = boxes.copy()
    for i in range(1, SUBSAMPLE):
        boxes += np.roll(rows, -i, axis=-2)
    out = [boxes[..., dy::SUBSAMPLE, dx::SUBSAMPLE] for dy in range(SUBSAMPLE) for dx in range(SUBSAMPLE)]
    return np.stack(out, axis=-3)
