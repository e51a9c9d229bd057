"""Geometric synchronisation: where the mark's tile lattice went.

The mark is one 64x64-cell tile repeated over the picture, so the whitened picture's
autocorrelation has a lattice of peaks at the tile period (Kutter, 1998). Whatever
happened to the picture as a whole (resized, rotated, stretched, mirrored, cropped
anywhere, set inside a screenshot or a collage), the lattice moves with it: its two
shortest vectors are the images of the tile's sides. So the decoder measures the lattice
instead of guessing scales and angles, samples the picture along it (an affine warp back
to the tile's cells) and folds and decodes as for an unmoved picture.

Costs: a forward and an inverse real FFT per plane looked at, and a fold (one pass over
the plane) per lattice tried, whether or not a mark is there: about 200 ms for an unmarked
1080p photo on this project's 2-core build machine. Decoding (the only step that spends
the false-positive budget) runs only where a fold's pilot stands out.
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
TEXTURE_LEVEL = 0.35  # mean |whitened| above which an area counts as textured (flat UI: < 0.1)
SUBSAMPLE = 2  # samples per cell along each lattice side (the cell phase is unknown)
_WORKERS = 2


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
    power = np.abs(sfft.rfft2(white, s=shape, workers=_WORKERS))
    power = _flatten(power * power)
    return _half(sfft.irfft2(power, s=shape, workers=_WORKERS), max_lag)


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
    spectra = sfft.rfft2(pieces, axes=(1, 2), workers=_WORKERS)
    power = np.abs(spectra)
    power *= power
    total = _flatten(power.sum(axis=0))
    return _half(sfft.irfft2(total, s=(wh, ww), workers=_WORKERS), max_lag), (wh, ww)


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
    power = np.abs(sfft.rfft2(pieces, axes=(1, 2), workers=_WORKERS))
    power *= power
    power[:, :AXIS_BINS, :] = 0.0
    power[:, -AXIS_BINS + 1 :, :] = 0.0
    power[:, :, :AXIS_BINS] = 0.0
    local = ndimage.uniform_filter(power, (1, FLATTEN_SPAN, FLATTEN_SPAN), mode="wrap")
    local += local.mean(axis=(1, 2), keepdims=True) * 1e-3 + 1e-12
    power /= local
    acf = sfft.irfft2(power, s=(wh, ww), axes=(1, 2), workers=_WORKERS)
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


def _peaks(z: np.ndarray, band: np.ndarray, count: int) -> list[tuple[float, float, float]]:
    """The strongest local maxima of a half-plane z within the band, as (dx, dy, z)."""
    dy0 = (z.shape[0] - 1) // 2
    local = ndimage.maximum_filter(z, size=5, mode="constant")
    ys, xs = np.nonzero((z == local) & (z > 2.0) & band)
    if ys.size == 0:
        return []
    order = np.argsort(-z[ys, xs])[:count]
    return [(float(xs[i]), float(ys[i] - dy0), float(z[ys[i], xs[i]])) for i in order]


def _reduce(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange-Gauss reduction: the shortest basis of the lattice a and b span."""
    for _ in range(32):
        if a @ a > b @ b:
            a, b = b, a
        m = round(float(a @ b) / float(a @ a))
        if m == 0:
            break
        b = b - m * a
    return a, b


def _canonical(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same lattice's basis with v1 nearest the +x axis and v2 pointing down (+y), so
    the lattice matrix keeps handedness and turns by at most 45 degrees; mirror images and
    quarter turns are left to the decoder's orientations."""
    candidates = (a, -a, b, -b)
    v1 = max(candidates, key=lambda v: v[0] / (np.hypot(*v) + 1e-12))
    other = b if v1 is a or v1 is candidates[1] else a
    v2 = other if v1[0] * other[1] - v1[1] * other[0] > 0 else -other
    return v1, v2


def _z_at(z: np.ndarray, v: np.ndarray) -> float | None:
    """z near lag v (either sign: the half-plane holds the lag or its mirror)."""
    if v[0] < 0 or (v[0] == 0 and v[1] < 0):
        v = -v
    dy0 = (z.shape[0] - 1) // 2
    x, y = round(float(v[0])), round(float(v[1])) + dy0
    if not (0 <= x < z.shape[1] - 1 and 1 <= y < z.shape[0] - 1):
        return None
    return float(z[y - 1 : y + 2, max(0, x - 1) : x + 2].max())


def _subpixel_peak(z: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The peak of z within 2 pixels of lag v, to a fraction of a pixel (a parabola
    through the maximum and its neighbours, along each axis)."""
    sign = -1.0 if (v[0] < 0 or (v[0] == 0 and v[1] < 0)) else 1.0
    u = v * sign
    dy0 = (z.shape[0] - 1) // 2
    x, y = round(float(u[0])), round(float(u[1])) + dy0
    if not (3 <= x < z.shape[1] - 3 and 3 <= y < z.shape[0] - 3):
        return None
    patch = z[y - 2 : y + 3, x - 2 : x + 3]
    py, px = np.unravel_index(int(np.argmax(patch)), patch.shape)
    py, px = min(max(py, 1), 3), min(max(px, 1), 3)
    c = patch[py, px]

    def vertex(lo, hi):
        d = lo - 2 * c + hi
        return 0.0 if d >= 0 else float(np.clip(0.5 * (lo - hi) / d, -0.5, 0.5))

    ox = vertex(patch[py, px - 1], patch[py, px + 1])
    oy = vertex(patch[py - 1, px], patch[py + 1, px])
    found = np.array([x - 2 + px + ox, y - 2 + py + oy - dy0])
    return found * sign, float(c)


def _refine(z: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares lattice vectors from the sub-pixel positions of every lattice peak in
    reach (a v1 + b v2, |a|, |b| <= 4): far peaks pin the period and angle down to a
    small fraction of a pixel per period, which folding a wide picture needs (an error of
    0.5 % drifts by a cell every 200)."""
    for _ in range(2):
        rows, points = [], []
        for a in range(-4, 5):
            for b in range(-4, 5):
                if (a, b) <= (0, 0) and not (a > 0 or (a == 0 and b > 0)):
                    continue
                found = _subpixel_peak(z, a * v1 + b * v2)
                if found is not None and found[1] > 3.0:
                    rows.append((a, b))
                    points.append(found[0])
        if len(rows) < 3:
            break
        g = np.array(rows, float)
        solution, *_ = np.linalg.lstsq(g, np.array(points), rcond=None)
        v1, v2 = solution[0], solution[1]
    return v1, v2


def _tile_shaped(v1: np.ndarray, v2: np.ndarray) -> bool:
    """Could these be the tile's sides: long enough, within a stretch of 2 and a shear of
    30 degrees of each other."""
    n1, n2 = float(np.hypot(*v1)), float(np.hypot(*v2))
    return min(n1, n2) >= MIN_PERIOD and max(n1, n2) <= 2 * min(n1, n2) and abs(float(v1 @ v2)) <= 0.5 * n1 * n2


def _explained(peaks, v1: np.ndarray, v2: np.ndarray) -> int:
    """How many of the peaks lie on the lattice v1, v2 span. The true lattice explains
    every peak of the mark; a coarser one built from some of them explains fewer."""
    inverse = np.linalg.inv(np.column_stack([v1, v2]))
    c = np.array([p[:2] for p in peaks]) @ inverse.T
    off = np.abs(c - np.round(c)) * np.array([np.hypot(*v1), np.hypot(*v2)])
    return int(np.count_nonzero(off.max(axis=1) <= 2.0))


def _z_many(z: np.ndarray, points: np.ndarray) -> np.ndarray:
    """_z_at for many lags at once ([n, 2] as (dx, dy)); -inf where out of reach."""
    flip = (points[:, 0] < 0) | ((points[:, 0] == 0) & (points[:, 1] < 0))
    pts = np.where(flip[:, None], -points, points)
    dy0 = (z.shape[0] - 1) // 2
    xs = np.rint(pts[:, 0]).astype(np.intp)
    ys = np.rint(pts[:, 1]).astype(np.intp) + dy0
    ok = (xs >= 0) & (xs < z.shape[1] - 1) & (ys >= 1) & (ys < z.shape[0] - 1)
    out = np.full(len(points), -np.inf)
    if ok.any():
        x, y = xs[ok], ys[ok]
        best = np.full(x.shape, -np.inf)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                best = np.maximum(best, z[y + dy, np.maximum(x + dx, 0)])
        out[ok] = best
    return out


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


def _finer_point(z: np.ndarray, v1: np.ndarray, v2: np.ndarray, strong: float) -> tuple[np.ndarray, int] | None:
    """A strong peak at a point of a lattice of index n = 2 to 4 over the one v1 and v2
    span, as (point, n): then they span only part of the true lattice. Each point is
    looked at in its nine nearest representatives (the mark's peaks are not all equally
    strong: a far one can stand out where the near one does not)."""
    coefficients, index = _finer_coefficients()
    points = coefficients @ np.array([v1, v2])
    values = _z_many(z, points)
    hits = np.nonzero(values > strong)[0]
    if hits.size == 0:
        return None
    first = hits[0]  # the smallest index n first, in the order of _finer_coefficients
    return points[first], int(index[first])


def _finer_basis(point: np.ndarray, n: int, v1: np.ndarray, v2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A reduced basis of the lattice that v1, v2 and point span (index n over theirs)."""
    area = abs(float(v1[0] * v2[1] - v1[1] * v2[0])) / n
    ij = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], float)
    vectors = np.vstack([point + ij @ np.array([v1, v2]), v1, v2])
    lengths = np.einsum("ij,ij->i", vectors, vectors)
    vectors = vectors[np.argsort(lengths)]
    vectors = vectors[np.einsum("ij,ij->i", vectors, vectors) > 1e-9]
    u1 = vectors[0]
    dets = np.abs(u1[0] * vectors[:, 1] - u1[1] * vectors[:, 0])
    match = np.nonzero(np.abs(dets - area) < 0.1 * area)[0]
    if match.size == 0:
        return v1, v2
    return _reduce(u1, vectors[match[0]])


def _with_finer(z: np.ndarray, v1: np.ndarray, v2: np.ndarray, strength: float):
    """v1 and v2, and the finer lattices the peaks suggest over theirs: two peaks of the
    mark can span a coarser lattice than the mark's own, and a finer lattice can also be
    an upscaled picture's interpolation pattern. Both are kept: the pilot decides."""
    out = [(v1, v2)]
    for _ in range(2):
        finer = _finer_point(z, v1, v2, 0.6 * strength)
        if finer is None:
            break
        v1, v2 = _finer_basis(finer[0], finer[1], v1, v2)
        if np.hypot(*v1) < MIN_PERIOD:
            break
        out.append((v1, v2))
    return out


def _reduce_many(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """_reduce for many pairs of vectors at once ([n, 2] each)."""
    a, b = a.astype(float).copy(), b.astype(float).copy()
    for _ in range(12):
        swap = np.einsum("ij,ij->i", a, a) > np.einsum("ij,ij->i", b, b)
        a[swap], b[swap] = b[swap], a[swap].copy()
        m = np.rint(np.einsum("ij,ij->i", a, b) / np.maximum(np.einsum("ij,ij->i", a, a), 1e-9))
        if not m.any():
            break
        b -= m[:, None] * a
    return a, b


def _candidates(z: np.ndarray, peaks: list) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Lattices that pairs of peaks span, as (strength, v1, v2), strongest first."""
    points = np.array([p[:2] for p in peaks], float)
    n = len(points)
    i, j = np.triu_indices(n, 1)
    a, b = points[i], points[j]
    cross = np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    keep = cross >= 0.5 * np.hypot(a[:, 0], a[:, 1]) * np.hypot(b[:, 0], b[:, 1])  # not nearly parallel
    v1, v2 = _reduce_many(a[keep], b[keep])
    n1, n2 = np.hypot(v1[:, 0], v1[:, 1]), np.hypot(v2[:, 0], v2[:, 1])
    shaped = (np.minimum(n1, n2) >= MIN_PERIOD) & (np.maximum(n1, n2) <= 2 * np.minimum(n1, n2))
    shaped &= np.abs(np.einsum("ij,ij->i", v1, v2)) <= 0.5 * n1 * n2
    v1, v2 = v1[shaped], v2[shaped]
    if len(v1) == 0:
        return []
    shell = _z_many(z, np.vstack([v1, v2, v1 + v2, v1 - v2])).reshape(4, -1)
    reachable = np.isfinite(shell)
    strength = np.where(reachable, shell, 0.0).sum(axis=0) / np.maximum(reachable.sum(axis=0), 1)
    ok = reachable[:2].all(axis=0)  # both sides within reach
    order = [k for k in np.argsort(-strength) if ok[k]]
    out, seen = [], set()
    for k in order:
        key = _key(v1[k], v2[k])
        if key not in seen:
            seen.add(key)
            out.append((float(strength[k]), v1[k], v2[k]))
    return out


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
    found: dict[tuple, tuple] = {}
    for strength, v1, v2 in _candidates(z, peaks)[:CANDIDATES]:
        for u1, u2 in _with_finer(z, v1, v2, strength):
            if not _tile_shaped(u1, u2):
                continue
            k = _key(u1, u2)
            if k not in found or found[k][0] < strength:
                found[k] = (strength, _explained(peaks[:EXPLAIN], u1, u2), u1, u2)
    ranked = [(c[2], c[3], c[0], c[1]) for c in sorted(found.values(), key=lambda c: (-c[1], -c[0]))]
    singles = []
    for p in peaks:  # each peak to a fraction of a pixel, the square on it, or a finer one
        found = _subpixel_peak(z, np.array(p[:2]))
        v = found[0] if found is not None else np.array(p[:2])
        v1, v2 = _with_finer(z, v, np.array([-v[1], v[0]]), 0.7 * p[2])[-1]
        singles.append((v1, v2, p[2], 1))
    lattices: list[Lattice] = []
    keys: set[tuple] = set()
    for pool, quota in ((ranked, count), (singles, squares)):
        added = 0
        for v1, v2, strength, explained in pool:
            if added == quota:
                break
            v1, v2 = _canonical(*_refine(z, v1, v2))
            if not _tile_shaped(v1, v2) or _key(v1, v2) in keys:
                continue
            keys.add(_key(v1, v2))
            lattices.append(Lattice((float(v1[0]), float(v1[1])), (float(v2[0]), float(v2[1])), strength, explained))
            added += 1
    return lattices


def _key(v1: np.ndarray, v2: np.ndarray) -> tuple:
    """Lattices that agree to 2 pixels share a key."""
    c1, c2 = _canonical(v1, v2)
    return (round(c1[0] / 2), round(c1[1] / 2), round(c2[0] / 2), round(c2[1] / 2))


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
    u, v = cells_of_pixels(white.shape, lattice.matrix * (1.0 / SUBSAMPLE), origin)
    # Shift far into the positives so that truncation is floor, then wrap with the mask.
    big = np.float32(side * 64)  # far enough for any plane; float32 keeps 1/1000 of a sub-cell
    u += big
    v += big
    index = v.astype(np.int32)
    index &= side - 1
    index <<= int(np.log2(side))
    ui = u.astype(np.int32)
    ui &= side - 1
    index |= ui
    fine = np.bincount(index.ravel(), weights=white.ravel(), minlength=side * side).reshape(side, side)
    phases = np.empty((SUBSAMPLE, SUBSAMPLE, TILE, TILE))
    for dy in range(SUBSAMPLE):
        for dx in range(SUBSAMPLE):
            shifted = np.roll(fine, (-dy, -dx), axis=(0, 1))
            phases[dy, dx] = shifted.reshape(TILE, SUBSAMPLE, TILE, SUBSAMPLE).sum(axis=(1, 3))
    return phases
