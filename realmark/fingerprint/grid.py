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

SIZE = 32
MAX_CELL_DIFFERENCE = 24  # levels of 255


def grid(luma: np.ndarray) -> np.ndarray:
    """The SIZE x SIZE cell means of an 8-bit luma plane, as uint8."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(luma)).resize((SIZE, SIZE), Image.BOX), dtype=np.uint8)


def _isotonic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit of y on x (pool adjacent violators)."""
    order = np.argsort(x, kind="stable")
    values: list[float] = []
    weights: list[int] = []
    for v in y[order].astype(np.float64):
        values.append(v)
        weights.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w = weights[-2] + weights[-1]
            values[-2] = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
            weights[-2] = w
            values.pop()
            weights.pop()
    fit = np.repeat(values, weights)
    out = np.empty_like(fit)
    out[order] = fit
    return out


def cell_differences(signed: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """Per-cell distance (levels) of a copy's grid from the signed grid, after the best
    monotone tone mapping."""
    a = signed.astype(np.float64).ravel()
    b = copy.astype(np.float64).ravel()
    return np.abs(b - _isotonic(a, b)).reshape(SIZE, SIZE)


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels of the signed picture."""

    x: int
    y: int
    width: int
    height: int

    def to_dict(self) -> dict:
        return asdict(self)


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
    a, b = signed.astype(np.float64), copy.astype(np.float64)
    shown = judged = 0
    for y in range(0, SIZE, MATCH_BLOCK):
        for x in range(0, SIZE, MATCH_BLOCK):
            p = a[y : y + MATCH_BLOCK, x : x + MATCH_BLOCK].ravel()
            q = b[y : y + MATCH_BLOCK, x : x + MATCH_BLOCK].ravel()
            if p.std() < TEXTURED_BLOCK_STD:
                continue
            judged += 1
            shown += bool(q.std() > 0 and np.corrcoef(p, q)[0, 1] > MATCH_CORRELATION)
    return shown / judged if judged else 1.0


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
