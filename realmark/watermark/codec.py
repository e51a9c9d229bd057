"""Realmark image watermark, codec version 1.

How it works, in one paragraph: the 48-bit watermark id plus a 40-bit check is
convolutionally coded to 282 bits and spread over a 64x64 tile of +-1 chips, next to a
known pilot pattern. The tile repeats over a *working grid* whose short side is 256
cells whatever the image size, and the tiled pattern, shaped by a texture mask, is
upsampled to full resolution and added to luma. Because the mark lives at the working
scale, any resize maps it back onto the same grid (resolution independence, as in
TrustMark); because it is periodic, the decoder folds all tiles into one (averaging away
the picture) and finds the tile's offset by correlating with the pilot, which also makes
crops, mirror images and quarter turns decodable. Soft Viterbi decoding and the 40-bit check turn the
correlations into an id or into "no watermark".

This module holds the mark itself: its layout, embedding, whitening, folding and
decoding, and the typed results. Reading a picture (on the working grid as it is, or,
for a picture that moved, along the lattice that sync.py measures) is reader.py, which
also states the false-positive bound.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import scipy.fft as sfft
from PIL import Image

from realmark.errors import BadInput

from . import ecc, sync

CODEC = "realmark-wm"
VERSION = 1

ID_BITS = 48
CHECK_BITS = 40
MESSAGE_BITS = ID_BITS + CHECK_BITS
CODED_BITS = ecc.coded_length(MESSAGE_BITS)

WORK_SHORT_SIDE = 256  # cells on the working grid's short side
TILE = 64  # tile side on the working grid
PILOT_SHARE = 0.25  # fraction of chips given to the pilot
TARGET_PSNR_DB = 43.0  # luma PSNR of the mark before rounding and the SSIM cap (photos)
VIDEO_TARGET_PSNR_DB = 44.0  # videos: evidence adds up over frames, so each frame carries less
SMOOTH_CAP = 0.7  # luma levels: the mark's amplitude cap in smooth cells (see _amplitude)
CAP_PER_ACTIVITY = 0.3  # ... plus this much per level of local activity
MIN_EMBED_SHORT_SIDE = 256  # pixels; smaller images cannot carry the mark at full strength
MIN_EXTRACT_SHORT_SIDE = 96  # pixels; below this there is too little left to read

# The orientations the decoder tries: (mirrored, quarter turns). Each is one decoding
# attempt, so the false-positive bound is len(ORIENTATIONS) * 2**-CHECK_BITS.
ORIENTATIONS = tuple((mirrored, turns) for mirrored in (False, True) for turns in range(4))


_DOMAIN = b"realmark watermark v1"


def _layout():
    """The fixed chip layout of codec v1: which chips are pilot, which carry which bit."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(_DOMAIN + b" layout").digest()[:8], "big"))
    n = TILE * TILE
    order = rng.permutation(n)
    n_pilot = int(n * PILOT_SHARE)
    pilot_idx = order[:n_pilot]
    data_idx = order[n_pilot:]
    pilot = np.zeros(n, np.float32)
    pilot[pilot_idx] = rng.choice([-1.0, 1.0], n_pilot)
    # Every coded bit gets an equal share of data chips (to within one), spread evenly.
    bit_of_chip = np.arange(data_idx.size) % CODED_BITS
    chip_sign = rng.choice([-1.0, 1.0], data_idx.size).astype(np.float32)
    scramble = rng.integers(0, 2, MESSAGE_BITS, dtype=np.uint8)
    return pilot.reshape(TILE, TILE), data_idx, bit_of_chip, chip_sign, scramble


_PILOT, _DATA_IDX, _BIT_OF_CHIP, _CHIP_SIGN, _SCRAMBLE = _layout()
_PILOT_FFT_CONJ = np.conj(np.fft.rfft2(_PILOT))


def _check(wm_id: int) -> int:
    digest = hashlib.blake2b(_DOMAIN + wm_id.to_bytes(ID_BITS // 8, "big"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - CHECK_BITS)


def _int_bits(value: int, n: int) -> np.ndarray:
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def _bits_int(bits: np.ndarray) -> int:
    out = 0
    for b in bits:
        out = (out << 1) | int(b)
    return out


def _coded_bits(wm_id: int) -> np.ndarray:
    message = np.concatenate([_int_bits(wm_id, ID_BITS), _int_bits(_check(wm_id), CHECK_BITS)])
    return ecc.encode(message ^ _SCRAMBLE)


def _tile(wm_id: int) -> np.ndarray:
    """The 64x64 tile of +-1 chips (pilot and data) that carries wm_id."""
    symbols = 2.0 * _coded_bits(wm_id).astype(np.float32) - 1.0
    tile = _PILOT.ravel().copy()
    tile[_DATA_IDX] = symbols[_BIT_OF_CHIP] * _CHIP_SIGN
    return tile.reshape(TILE, TILE)


def working_size(width: int, height: int) -> tuple[int, int]:
    """Working-grid size (w, h) for an image: short side WORK_SHORT_SIDE, aspect kept."""
    scale = WORK_SHORT_SIDE / min(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma as float32, the channel the mark lives in."""
    rgb = rgb.astype(np.float32)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _resize(plane: np.ndarray, size: tuple[int, int], resample, box=None) -> np.ndarray:
    return np.array(Image.fromarray(plane.astype(np.float32, copy=False), mode="F").resize(size, resample, box=box))


def _work_luma(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Luma resampled to the working grid: area average when shrinking, bicubic when growing.
    `picture`: RGB, or its 8-bit luma (media.image.luma8), which gives the same plane.

    Pillow's "L" conversion uses the same BT.601 weights as luma(), in C; the 8-bit
    rounding it adds is far below the mark's amplitude on the working grid."""
    gray = _gray(picture).convert("F")
    return np.array(gray.resize(size, Image.BOX if size[0] < gray.width else Image.BICUBIC))


def _gray(picture: np.ndarray) -> Image.Image:
    """An RGB picture's 8-bit luma ("L"), or the picture itself when it is luma already."""
    image = Image.fromarray(picture)
    return image if image.mode == "L" else image.convert("L")


_SCRATCH = threading.local()


def _scratch(shape: tuple[int, ...], slot: int) -> np.ndarray:
    """A float32 work array of this shape, kept per thread and reused.

    Verification whitens every video frame; fresh half-megabyte temporaries go back to
    the OS between frames and page-fault in again, which measured 2-4x slower than the
    arithmetic itself. Per thread, so concurrent verifications never share one."""
    arrays = _SCRATCH.__dict__.setdefault("by_shape", {})
    if shape not in arrays:
        if len(arrays) >= 8:  # many picture sizes (a service): keep the newest few
            arrays.clear()
        arrays[shape] = [np.empty(shape, np.float32) for _ in range(3)]
    return arrays[shape][slot]


def _box3(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """3x3 box mean with edge replication, in float32 (out may be x itself). Planes are
    at least 2x2 (every caller's are 64 cells or more on a side).

    Written as in-place shifted sums: np.pad plus temporaries made this 7x slower, and
    it runs twice per video frame in verification."""
    x = np.asarray(x, dtype=np.float32)
    rows = _scratch(x.shape, 0)
    np.add(x[:-2], x[1:-1], out=rows[1:-1])
    rows[1:-1] += x[2:]
    np.multiply(x[0], 2, out=rows[0])
    rows[0] += x[1]
    np.multiply(x[-1], 2, out=rows[-1])
    rows[-1] += x[-2]
    out = np.empty_like(x) if out is None else out  # x is no longer read: out may alias it
    np.add(rows[:, :-2], rows[:, 1:-1], out=out[:, 1:-1])
    out[:, 1:-1] += rows[:, 2:]
    np.multiply(rows[:, 0], 2, out=out[:, 0])
    out[:, 0] += rows[:, 1]
    np.multiply(rows[:, -1], 2, out=out[:, -1])
    out[:, -1] += rows[:, -2]
    out *= np.float32(1.0 / 9.0)
    return out


def _amplitude(coarse: np.ndarray, rms_target: float) -> np.ndarray:
    """The mark's amplitude (luma levels) in each cell of a coarse luma grid.

    Strength follows local activity: flat areas (sky, skin, studio backdrops) get down
    to 0.15 of the average, busy areas up to 3x, scaled so the whole mark has rms_target
    (the PSNR). Measured on 1080p photos: halving the mark in flat areas this way cost
    under 10 % of the decoder's margin.

    Then a cap keeps SSIM >= 0.98 where a relative mask cannot: on pictures that are
    smooth almost everywhere (upscaled photos, skin close-ups) or dark (near-black
    areas clip half the mark, which shifts their mean). SSIM's structure term drops by
    about amplitude^2 / (2 local variance + 58.5), so smooth cells are held to about
    one level, near black or white less."""
    detail = np.abs(coarse - _box3(coarse))
    activity = _box3(_box3(detail))
    mask = np.clip((activity + 1.0) / (activity.mean() + 1.0), 0.15, 3.0)
    amplitude = mask * np.float32(rms_target / float(np.sqrt(np.mean(mask * mask))))
    mean = _box3(coarse)
    headroom = np.clip((np.minimum(mean, 255.0 - mean) - 4.0) / 32.0, 0.25, 1.0)
    return np.minimum(amplitude, headroom * (SMOOTH_CAP + CAP_PER_ACTIVITY * activity))


class Embedder:
    """Marks pictures of one size with one id; video frames reuse the upsampled pattern.

    The delta is (upsampled tiled pattern) x (upsampled texture mask), scaled to the
    target PSNR. Only the mask depends on the picture, and it is computed on the small
    working grid."""

    def __init__(self, width: int, height: int, wm_id: int, psnr_db: float = TARGET_PSNR_DB):
        if not 0 <= wm_id < 1 << ID_BITS:
            raise ValueError("watermark id out of range")
        if min(width, height) < MIN_EMBED_SHORT_SIDE:
            raise BadInput(
                f"image is {width}x{height}; the watermark needs a short side of at least {MIN_EMBED_SHORT_SIDE} px"
            )
        self.size = (width, height)
        self.work_size = working_size(width, height)
        ww, wh = self.work_size
        pattern = np.tile(_tile(wm_id), (-(-wh // TILE), -(-ww // TILE)))[:wh, :ww]
        up = _resize(pattern, self.size, Image.BICUBIC)
        self._pattern = up / float(np.sqrt(np.mean(up * up)))  # unit RMS at full size
        self._rms_target = 255.0 / 10 ** (psnr_db / 20)
        # The texture mask is computed on a grid half the working grid's size (it is smooth
        # over several cells anyway) and upsampled by repeating cells: which mask cell each
        # full-size row falls in, and how many full-size columns each mask column covers.
        self.mask_size = (max(1, ww // 2), max(1, wh // 2))
        mw, mh = self.mask_size
        self._rows = np.minimum((np.arange(height) + 0.5) * mh / height, mh - 1).astype(np.intp)
        cols = np.minimum((np.arange(width) + 0.5) * mw / width, mw - 1).astype(np.intp)
        self._col_counts = np.bincount(cols, minlength=mw)
        self._scaled = self._delta = self._sum = None  # full-size buffers, made on first use
        self._step = max(1, round(min(width, height) / (0.75 * WORK_SHORT_SIDE)))  # 720p: 4, 1080p: 6

    def delta(self, luma_u8: np.ndarray) -> np.ndarray:
        """The int16 amount to add to each luma sample of this picture.

        The result lives in a buffer reused by the next call: full-size arrays are
        allocated once per Embedder, not once per video frame (fresh multi-megabyte
        allocations cost page faults on every frame)."""
        if self._scaled is None:
            height, width = luma_u8.shape
            self._scaled = np.empty((height, width), np.float32)
            self._delta = np.empty((height, width), np.int16)
            self._sum = np.empty((height, width), np.int16)
        self._unrounded(luma_u8)
        np.rint(self._scaled, out=self._scaled)
        np.copyto(self._delta, self._scaled, casting="unsafe")
        return self._delta

    def _unrounded(self, luma_u8: np.ndarray) -> None:
        """pattern x mask, in float32, into self._scaled."""
        # The mask measures texture on a coarse grid, so every k-th sample is plenty and
        # avoids resizing (and copying) the whole plane.
        sparse = np.ascontiguousarray(luma_u8[:: self._step, :: self._step])
        coarse = np.asarray(Image.fromarray(sparse).resize(self.mask_size, Image.BOX), dtype=np.float32)
        # Pattern and mask are independent, so RMS(pattern x mask) = RMS(mask): the
        # target PSNR needs no full-size reduction.
        mask = _amplitude(coarse, self._rms_target)
        # The mask is smooth (box-filtered), so nearest-cell upsampling is enough, and it
        # stays in numpy: widened on the small grid, then whole rows copied straight into
        # the reused buffer (no full-size temporary).
        np.take(np.repeat(mask, self._col_counts, axis=1), self._rows, axis=0, out=self._scaled)
        np.multiply(self._scaled, self._pattern, out=self._scaled)

    def mark_luma(self, luma_u8: np.ndarray) -> None:
        """Add the mark to an 8-bit luma plane in place (a video frame's Y plane): the same
        as adding delta() (luma is whole, so rounding the sum rounds the delta), in fewer
        passes over the plane, every video frame being one."""
        if self._scaled is None:
            self.delta(luma_u8)  # makes the buffers
        self._unrounded(luma_u8)
        np.add(self._scaled, luma_u8, out=self._scaled)
        np.clip(self._scaled, 0, 255, out=self._scaled)
        np.rint(self._scaled, out=self._scaled)
        np.copyto(luma_u8, self._scaled, casting="unsafe")

    def mark_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """A marked copy of an RGB uint8 picture.

        Adding the same amount to R, G and B changes luma by exactly that amount and leaves
        chroma untouched, so 4:2:0 chroma subsampling cannot hurt the mark."""
        delta = self.delta(np.asarray(Image.fromarray(rgb).convert("L")))
        out = rgb.astype(np.int16)
        out += delta[..., None]
        np.clip(out, 0, 255, out=out)
        return out.astype(np.uint8)


def embed(rgb: np.ndarray, wm_id: int) -> np.ndarray:
    """Return a copy of an RGB uint8 image carrying wm_id (0 <= wm_id < 2**48)."""
    height, width = rgb.shape[:2]
    return Embedder(width, height, wm_id).mark_rgb(rgb)


# How far a geometry may be from a plain resize (plus mirror and quarter turns) and still
# count as one: the lattice is measured to about 0.2 % and 0.2 degrees on a whole picture,
# and a deliberate rotation or stretch that a viewer could notice is well beyond these.
UNIFORM_ROTATION_DEG = 0.6
UNIFORM_STRETCH = 0.012
UNIFORM_SHEAR_DEG = 0.6


@dataclass(frozen=True)
class Geometry:
    """Where the signed picture's working-grid cells sit in the submitted picture.

    Cell (x, y) of the signed grid lands at origin + matrix @ (x - TILE i, y - TILE j),
    in submitted pixels, for some whole numbers of tiles i and j: the mark repeats every
    tile, so which tile the origin belongs to is settled by the region (locate), not by
    the lattice. Mirror images and quarter turns are part of the matrix."""

    matrix: tuple[tuple[float, float], tuple[float, float]]  # submitted pixels per signed cell
    origin: tuple[float, float]  # a tile's top-left corner, submitted pixels (x, y)

    @property
    def m(self) -> np.ndarray:
        return np.array(self.matrix, dtype=float)

    @property
    def cell(self) -> tuple[float, float]:
        """Submitted pixels per signed cell along the signed picture's x and y axes."""
        m = self.m
        return float(np.hypot(*m[:, 0])), float(np.hypot(*m[:, 1]))

    @property
    def mirrored(self) -> bool:
        return bool(np.linalg.det(self.m) < 0)

    @property
    def angle(self) -> float:
        """Degrees the signed x axis turned (clockwise on screen), -180 to 180."""
        m = self.m
        return float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))

    @property
    def rotation(self) -> float:
        """The turn beyond whole quarter turns, -45 to 45 degrees."""
        return float((self.angle + 45.0) % 90.0 - 45.0)

    @property
    def stretch(self) -> float:
        """Width over height scale of the signed picture's axes (1: no stretch)."""
        cx, cy = self.cell
        return cx / cy

    @property
    def shear(self) -> float:
        """Degrees the signed axes are from square (keystone and skew)."""
        m = self.m
        cos = float(m[:, 0] @ m[:, 1]) / (self.cell[0] * self.cell[1])
        return float(90.0 - np.degrees(np.arccos(np.clip(abs(cos), 0.0, 1.0))))

    @property
    def uniform(self) -> bool:
        """A plain resize, mirror image or quarter turn of the picture."""
        return (
            abs(self.rotation) <= UNIFORM_ROTATION_DEG
            and abs(self.stretch - 1.0) <= UNIFORM_STRETCH
            and abs(self.shear) <= UNIFORM_SHEAR_DEG
        )

    def to_dict(self) -> dict:
        cx, cy = self.cell
        return {
            "pixels_per_cell": [round(cx, 3), round(cy, 3)],
            "rotation_deg": round(self.rotation, 2),
            "stretch": round(self.stretch, 4),
            "shear_deg": round(self.shear, 2),
        }


@dataclass(frozen=True)
class PresenceMap:
    """How strongly each block of the picture carries the decoded mark (z-scores, about
    N(0, 1) where it is absent), blocks of `block` (width, height) submitted pixels."""

    z: np.ndarray
    block: tuple[float, float]


@dataclass(frozen=True)
class Reading:
    """What extract() found. wm_id is None when no valid watermark was read."""

    wm_id: int | None
    pilot_score: float  # pilot correlation peak in standard deviations over all offsets
    bit_errors: int | None  # coded bits that disagreed with the decoded id (of CODED_BITS)
    coded_bits: int = CODED_BITS
    mirrored: bool = False
    turns: int = 0  # quarter turns (np.rot90) that bring the picture back to how it was signed
    attempts: int = 0
    offset: tuple[int, int] = (0, 0)  # the tile's cyclic offset found by the pilot search
    scale: float = 1.0  # mark cell / working cell: > 1 cropped (or zoomed in), < 1 inside a larger picture
    raw_bits: np.ndarray | None = field(
        default=None, repr=False, compare=False
    )  # hard coded-bit decisions of the best attempt
    geometry: Geometry | None = None  # where the signed grid sits in the picture (None: not found)
    region: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) px where the mark is present
    presence: PresenceMap | None = field(default=None, repr=False, compare=False)
    # The lattice decoded along, in the submitted picture's pixels, folded from fold_origin
    # (px), and the fold's sub-cell phase: what re-folds other frames of a clip the same way.
    lattice: sync.Lattice | None = field(default=None, repr=False)
    fold_origin: tuple[float, float] = (0.0, 0.0)
    phase: tuple[int, int] = (0, 0)
    # Read through a perspective (a photo of a screen, perspective.py): the geometry is
    # the affine map that holds at the picture's middle, not everywhere.
    perspective: bool = False
    # When the geometry was fitted to where the known tile sits (measure.fitted), the
    # standard error of its cell sizes, relative (about 0.0005); None: as read (too few
    # windows showed the tile, or read through a perspective), good to a cell of the
    # working grid or the step of a lattice search.
    size_error: float | None = None

    @property
    def synchronised(self) -> bool:
        """Found by measuring the lattice: the picture was not just resized."""
        return self.lattice is not None


def coded_bits_for(wm_id: int) -> np.ndarray:
    """The CODED_BITS channel bits that carry wm_id (to measure raw bit accuracy)."""
    return _coded_bits(wm_id)


def _whiten(work: np.ndarray) -> np.ndarray:
    """Remove the picture as far as possible, keep the chip-level mark.

    A 3x3 high-pass removes most of the image; dividing by local energy stops strong
    edges from dominating the correlation (a robust, sign-like detector). Returns a
    per-thread scratch array: valid until this thread's next call (callers fold or
    copy it at once)."""
    hp, energy = _scratch(work.shape, 1), _scratch(work.shape, 2)
    np.copyto(hp, work, casting="unsafe")
    np.subtract(hp, _box3(hp, out=energy), out=hp)
    np.multiply(hp, hp, out=energy)
    _box3(energy, out=energy)
    np.sqrt(energy, out=energy)
    energy += np.float32(0.5)
    np.divide(hp, energy, out=hp)
    return np.clip(hp, -2.5, 2.5, out=hp)


def _fold(plane: np.ndarray) -> np.ndarray:
    """Sum all TILE x TILE tiles of a plane into one (zero-padding the ragged edge)."""
    h, w = plane.shape
    ph, pw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    padded = _scratch((ph, pw), 0)  # reused: see _scratch
    padded[:h, :w] = plane
    padded[h:] = 0
    padded[:h, w:] = 0
    return padded.reshape(ph // TILE, TILE, pw // TILE, TILE).sum(axis=(0, 2), dtype=np.float32)


def _decode_folded(
    folded: np.ndarray, min_pilot: float = 0.0
) -> tuple[int | None, float, int | None, np.ndarray, tuple[int, int]]:
    """(id or None, pilot score, bit errors, raw coded bits, tile offset) of a folded
    tile; the error correction runs only if the pilot reaches `min_pilot`."""
    corr = np.fft.irfft2(np.fft.rfft2(folded) * _PILOT_FFT_CONJ, s=folded.shape)
    peak = np.unravel_index(int(np.argmax(corr)), corr.shape)
    score = float((corr[peak] - corr.mean()) / (corr.std() + 1e-9))
    aligned = np.roll(folded, (-peak[0], -peak[1]), axis=(0, 1)).ravel()
    chips = aligned[_DATA_IDX] * _CHIP_SIGN
    soft = np.bincount(_BIT_OF_CHIP, weights=chips, minlength=CODED_BITS)
    raw = (soft > 0).astype(np.uint8)
    offset = (int(peak[0]), int(peak[1]))
    if score < min_pilot:
        return None, score, None, raw, offset
    message = ecc.decode(soft, MESSAGE_BITS) ^ _SCRAMBLE
    wm_id = _bits_int(message[:ID_BITS])
    if _bits_int(message[ID_BITS:]) != _check(wm_id):
        return None, score, None, raw, offset
    return wm_id, score, int(np.count_nonzero(raw != _coded_bits(wm_id))), raw, offset


def orient(picture: np.ndarray, mirrored: bool, turns: int) -> np.ndarray:
    """Undo a mirror and/or quarter turns found by the Reader (any array, H x W first)."""
    if mirrored:
        picture = picture[:, ::-1]
    return np.rot90(picture, turns) if turns else picture


Folds = dict  # orientation -> folded TILE x TILE evidence of one or more pictures


def folds(white: np.ndarray, orientations=ORIENTATIONS) -> Folds:
    """One whitened picture's evidence: folded into one tile, in each orientation.

    The plane is folded once. Folding it oriented only permutes the same sums: the tiles
    then start at the corner that orienting brings to the top left, so along each axis
    that orienting reverses the fold is first rolled by the plane's size, then oriented
    (an eighth of the cost of folding each orientation)."""
    base = _fold(white)
    h, w = white.shape
    out = {}
    for o in orientations:
        corner = int(orient(_CORNERS, *o)[0, 0])
        from_bottom, from_right = divmod(corner, 2)
        aligned = np.roll(base, (-h * from_bottom, -w * from_right), axis=(0, 1)) if corner else base
        out[o] = np.ascontiguousarray(orient(aligned, *o))
    return out


_CORNERS = np.arange(4).reshape(2, 2)  # which of a plane's corners orienting brings to the top left


def _unorient(picture: np.ndarray, mirrored: bool, turns: int) -> np.ndarray:
    """The inverse of orient()."""
    picture = np.rot90(picture, -turns) if turns else picture
    return picture[:, ::-1] if mirrored else picture


@cache
def _unoriented_pilot_fft_conj() -> np.ndarray:
    """The pilot's spectrum (conjugated) un-oriented by each orientation: [8, TILE, TILE // 2 + 1]."""
    return np.stack([np.conj(np.fft.rfft2(_unorient(_PILOT, *o))) for o in ORIENTATIONS]).astype(np.complex64)


def pilot_scores(tiles: np.ndarray, orientations: tuple[int, ...] | None = None) -> np.ndarray:
    """The pilot's correlation peak, in standard deviations over all offsets, for each of
    a stack of folded tiles [n, TILE, TILE] in each orientation: [n, len(ORIENTATIONS)],
    the score of orient(tiles[i], *ORIENTATIONS[k]); or only in the orientations whose
    indices are given (a search that knows the picture was not turned).

    Orienting a tile only permutes the offsets of its correlation with the pilot, the
    same values as correlating the tile itself with the un-oriented pilot: one forward
    FFT per tile serves all eight orientations (the same peak, mean and spread)."""
    # float32 transforms: a fold is searched dozens of times per picture, and the scores
    # agree with float64's to 1e-6
    pilots = _unoriented_pilot_fft_conj()
    if orientations is not None:
        pilots = pilots[list(orientations)]
    # Two threads halve the inverse transforms of a sweep's batch (dozens of tiles); for
    # a single fold the hand-over costs more than it saves (measured: the forward
    # transforms gain nothing either way).
    workers = sync.WORKERS if len(tiles) * len(pilots) >= 128 else 1
    spectra = sfft.rfft2(tiles.astype(np.float32, copy=False))
    products = spectra[:, None] * pilots[None]
    # The constant term over N is the correlation's mean over all offsets: without it the
    # correlation has mean 0 exactly, and its spread is its root mean square (one dot
    # product per row, no float32 cancellation against a large mean).
    products[:, :, 0, 0] = 0
    corr = sfft.irfft2(products, s=tiles.shape[1:], workers=workers)
    flat = corr.reshape(len(tiles) * len(pilots), -1)
    mean_square = (flat[:, None, :] @ flat[:, :, None]).ravel().astype(np.float64) / flat.shape[1]
    scores = flat.max(axis=1) / (np.sqrt(mean_square) + 1e-9)
    return scores.reshape(len(tiles), len(pilots))


class Presence:
    """How strongly single pictures carry an already decoded mark, in standard deviations.

    The picture's folded tile is correlated with the known tile at every cyclic offset
    (one small FFT); the score is the correlation at the reading's offset, standardised
    by the spread over all 4096 offsets. Picture content that happens to resemble the
    pattern raises every offset alike, so the score stays calibrated (CFAR): about
    N(0, 1) for a picture without the mark, whatever it shows."""

    def __init__(self, reading: Reading, size: tuple[int, int] | None = None):
        """`size`: the pictures' (width, height) in pixels, needed for a reading whose mark
        moved (it carries its lattice in pixels; pictures come on the working grid)."""
        self.orientation = (reading.mirrored, reading.turns)
        self._offset = reading.offset
        self._phase = reading.phase
        self._lattice = self._origin = None
        if reading.lattice is not None:
            ww, wh = working_size(*size)
            to_work = (ww / size[0], wh / size[1])
            self._lattice = reading.lattice.in_pixels(to_work)
            self._origin = (reading.fold_origin[0] * to_work[0], reading.fold_origin[1] * to_work[1])
        self._tile_fft_conj = np.conj(np.fft.rfft2(_tile(reading.wm_id)))

    @property
    def moved(self) -> bool:
        """The mark is not on the working grid as it is: evidence must be folded anew."""
        return self._lattice is not None

    def folds(self, work_luma: np.ndarray) -> Folds:
        """The evidence score() needs: one orientation (along the reading's lattice, for a
        picture that moved) instead of eight."""
        white = _whiten(work_luma)
        if self._lattice is not None:
            folded = sync.fold_along(white, self._lattice, self._origin)[self._phase]
            return {self.orientation: orient(folded, *self.orientation)}
        return folds(white, (self.orientation,))

    def score(self, evidence: Folds) -> float:
        folded = evidence[self.orientation]
        corr = np.fft.irfft2(np.fft.rfft2(folded) * self._tile_fft_conj, s=folded.shape)
        spread = float(corr.std())
        if spread == 0.0:
            return 0.0
        return float((corr[self._offset] - corr.mean()) / spread)


def check_readable_size(width: int, height: int) -> None:
    if min(width, height) < MIN_EXTRACT_SHORT_SIDE:
        raise BadInput(
            f"image is {width}x{height}; too small to read a watermark (short side under {MIN_EXTRACT_SHORT_SIDE} px)"
        )
