"""The evidence behind a verdict, as typed values. `to_dict` gives the JSON that
`realmark verify --json` and `POST /v1/verify` answer (README "Verdicts")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from realmark import watermark
from realmark.fingerprint.grid import Box, Filter
from realmark.manifest import Manifest
from realmark.watermark.codec import CHECK_BITS, Reading
from realmark.watermark.reader import MAX_ATTEMPTS

from .sound import SoundCheck
from .timeline import Range

if TYPE_CHECKING:  # a type only
    from realmark.watermark.presence import Fading

# Per reading: each decoding attempt matches a random check with probability 2^-CHECK_BITS.
FALSE_POSITIVE_BOUND = MAX_ATTEMPTS * 2.0**-CHECK_BITS


@dataclass(frozen=True)
class Placement:
    """Where the signed picture sits in the submitted one (placement.py)."""

    box: tuple[int, int, int, int]  # (left, top, right, bottom) px of the submitted picture it covers
    extent: tuple[int, int]  # the whole signed picture's size in the submitted picture, px
    frame: tuple[int, int]  # the submitted picture's size, px
    cropped: bool  # larger than the frame: part of it is cut off
    embedded: bool  # smaller than the frame: it sits inside a larger picture
    spans_width: bool
    spans_height: bool
    fills: float  # share of the frame it covers
    rotation: float  # degrees beyond quarter turns
    stretch: float  # width scale over height scale
    shear: float  # degrees from square
    uniform: bool  # a plain resize (plus mirror and quarter turns)
    region: tuple[int, int, int, int] | None  # where the mark itself was found present
    corner: tuple[float, float] = (0.0, 0.0)  # the signed picture's top-left corner, px (may lie outside)
    matrix: tuple[tuple[float, float], tuple[float, float]] = ((1.0, 0.0), (0.0, 1.0))  # px per signed cell
    perspective: bool = False  # seen in perspective (a photo of a screen): never a plain resize

    @property
    def rotated(self) -> bool:
        # In perspective, the angle is the middle's only: the copy is named as stretched.
        return (
            not self.uniform
            and not self.perspective
            and abs(self.rotation) > abs(self.shear)
            and abs(self.rotation) >= 0.6
        )

    @property
    def stretched(self) -> bool:
        return not self.uniform and not self.rotated

    def to_dict(self) -> dict:
        return {
            "box": list(self.box),
            "size": list(self.extent),
            "fills": self.fills,
            "cropped": self.cropped,
            "embedded": self.embedded,
            "rotation_deg": self.rotation,
            "stretch": self.stretch,
            "shear_deg": self.shear,
            "perspective": self.perspective,
        }


@dataclass(frozen=True)
class WatermarkEvidence:
    found: bool | None  # None: not read (the file is the published one, byte for byte)
    id: str | None
    codec: str = watermark.CODEC
    version: int = watermark.VERSION
    reading: Reading | None = None
    frames_read: int | None = None  # clips
    note: str | None = None
    placement: Placement | None = None  # where the signed picture sits (once its size is known)

    @classmethod
    def of(cls, reading: Reading, frames_read: int | None = None) -> WatermarkEvidence:
        wm_id = f"{reading.wm_id:012x}" if reading.wm_id is not None else None
        return cls(reading.wm_id is not None, wm_id, reading=reading, frames_read=frames_read)

    @property
    def moved(self) -> bool:
        """The signed picture is not simply all of this one: cropped, embedded, rotated
        or stretched."""
        p = self.placement
        return p is not None and (p.cropped or p.embedded or not p.uniform)

    @classmethod
    def not_read(cls, manifest: Manifest) -> WatermarkEvidence:
        note = "not read: the file is byte-identical to the signed one"
        return cls(None, manifest.watermark_id, manifest.watermark_codec, manifest.watermark_version, note=note)

    @classmethod
    def no_pictures(cls) -> WatermarkEvidence:
        return cls(None, None, note="not read: a sound file carries no picture, so no watermark")

    @property
    def mirrored(self) -> bool:
        return bool(self.reading and self.reading.mirrored)

    @property
    def turns(self) -> int:
        return self.reading.turns if self.reading else 0

    @property
    def scale(self) -> float:
        return self.reading.scale if self.reading else 1.0

    def to_dict(self) -> dict:
        out = {"found": self.found, "id": self.id, "codec": self.codec, "version": self.version}
        r = self.reading
        if r is not None:
            out.update(
                bit_errors=r.bit_errors,
                coded_bits=r.coded_bits,
                pilot_score=round(r.pilot_score, 2),
                mirrored=r.mirrored,
                quarter_turns=r.turns,
                scale=round(r.scale, 3),
                false_positive_bound=FALSE_POSITIVE_BOUND,
            )
            if r.geometry is not None:
                out["geometry"] = r.geometry.to_dict() | {"synchronised": r.synchronised}
        if self.placement is not None:
            out["region"] = list(self.placement.box)
            out["placement"] = self.placement.to_dict()
        if self.frames_read is not None:
            out["frames_read"] = self.frames_read
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class SignatureEvidence:
    key_id: str | None
    valid: bool
    reason: str | None = None  # why it fails, in words

    def to_dict(self) -> dict:
        out = {"key_id": self.key_id, "valid": self.valid}
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ExactContent:
    """The submitted file is the published one, byte for byte."""

    ranges: tuple[Range, ...] | None = None  # clips: the whole of it, official

    def to_dict(self) -> dict:
        out: dict = {"exact_match": True}
        if self.ranges is not None:
            out["ranges"] = [r.to_dict() for r in self.ranges]
        return out


@dataclass(frozen=True)
class SamePixelsContent:
    """Another file, but the published picture's pixels exactly (verifier/pixels.py)."""

    def to_dict(self) -> dict:
        return {"exact_match": False, "same_pixels": True, "changed_regions": []}


@dataclass(frozen=True)
class ReframedContent:
    """The mark was found at another scale: only part of the signed picture is there
    (scale > 1: cropped), or it sits inside a larger picture (scale < 1)."""

    scale: float

    def to_dict(self) -> dict:
        key = "cropped_to" if self.scale > 1 else "shown_at"
        return {"exact_match": False, key: round(1 / self.scale, 3)}


@dataclass(frozen=True)
class PhotoContent:
    exact_match: bool
    fingerprint_alg: str
    max_distance: int
    fingerprint_distance: int | None = None  # None: not compared
    max_cell_difference: float | None = None
    cell_threshold: int | None = None
    changed_regions: tuple[Box, ...] | None = None  # every changed region: the grid's, then the mark's
    unmarked_regions: tuple[Box, ...] | None = None  # of which: where the mark is gone (presence map)
    detail_regions: tuple[Box, ...] | None = None  # and where fine detail was lost or added (detail map)
    moved_regions: tuple[Box, ...] | None = None  # and where content was pushed aside (the published file)
    replaced_regions: tuple[Box, ...] | None = None  # and where it matches nothing near (the published file)
    matching_share: float | None = None  # of the signed grid's textured blocks the copy still shows
    look: Filter | None = None  # the whole-picture filter between the signed picture and the copy
    # where the mark faded without being lost: read with the published file's comparison
    # (verifier/photo.py), not reported itself
    fading: Fading | None = field(default=None, compare=False, repr=False)

    @property
    def compared(self) -> bool:
        return self.fingerprint_distance is not None

    def to_dict(self) -> dict:
        out = {
            "exact_match": self.exact_match,
            "fingerprint_alg": self.fingerprint_alg,
            "max_distance": self.max_distance,
            "fingerprint_distance": self.fingerprint_distance,
        }
        if self.compared:
            out.update(
                max_cell_difference=self.max_cell_difference,
                cell_threshold=self.cell_threshold,
                changed_regions=[b.to_dict() for b in self.changed_regions or ()],
                unmarked_regions=[b.to_dict() for b in self.unmarked_regions or ()],
                detail_regions=[b.to_dict() for b in self.detail_regions or ()],
                # null: not compared with the published file (called altered by the maps
                # already, or the store no longer has the file); a list: compared
                moved_regions=_boxes_or_none(self.moved_regions),
                replaced_regions=_boxes_or_none(self.replaced_regions),
                matching_share=self.matching_share,
                filter=self.look.to_dict() if self.look is not None else None,
            )
        return out


def _boxes_or_none(boxes: tuple[Box, ...] | None) -> list[dict] | None:
    return None if boxes is None else [b.to_dict() for b in boxes]


@dataclass(frozen=True)
class ClipContent:
    exact_match: bool
    frames: int
    anchors_matched: int
    anchor_max_distance: int
    mark_threshold: float
    ranges: tuple[Range, ...]
    nearest_distance: int | None = (
        None  # median over sampled frames of the distance to the nearest timeline fingerprint
    )

    def to_dict(self) -> dict:
        return {
            "exact_match": self.exact_match,
            "frames": self.frames,
            "anchors_matched": self.anchors_matched,
            "nearest_distance": self.nearest_distance,
            "anchor_max_distance": self.anchor_max_distance,
            "mark_threshold": self.mark_threshold,
            "ranges": [r.to_dict() for r in self.ranges],
        }


@dataclass(frozen=True)
class PhotoMatch:
    """The signed asset a photo looks like (appearance index)."""

    manifest_id: str
    distance: int
    # Which of its fingerprints: "whole", a crop window (realmark.fingerprint CROP_VARIANTS:
    # "square", "centre-70", ...), or "frame" of a video, `at_s` into it.
    matched: str
    mirrored: bool
    quarter_turns: int
    changed_regions: tuple[Box, ...] | None = None  # None: not compared
    at_s: float | None = None

    def to_dict(self) -> dict:
        out = {
            "manifest_id": self.manifest_id,
            "distance": self.distance,
            "matched": self.matched,
            "mirrored": self.mirrored,
            "quarter_turns": self.quarter_turns,
        }
        if self.at_s is not None:
            out["at_s"] = self.at_s
        if self.changed_regions is not None:
            out["changed_regions"] = [b.to_dict() for b in self.changed_regions]
        return out


@dataclass(frozen=True)
class ClipMatch:
    """The stretch of a signed video a clip's sampled frames line up with."""

    manifest_id: str
    moments_matched: int
    median_distance: int
    original_start: float
    original_end: float

    def to_dict(self) -> dict:
        return {
            "manifest_id": self.manifest_id,
            "moments_matched": self.moments_matched,
            "median_distance": self.median_distance,
            "original_start": round(self.original_start, 2),
            "original_end": round(self.original_end, 2),
        }


@dataclass(frozen=True)
class AppearanceEvidence:
    searched: bool
    indexed_fingerprints: int
    max_distance: int
    samples: int | None = None  # clips: fingerprints sampled from the clip
    not_searched_because: str | None = None
    match: PhotoMatch | ClipMatch | None = None

    def to_dict(self) -> dict:
        out: dict = {
            "searched": self.searched,
            "indexed_fingerprints": self.indexed_fingerprints,
            "max_distance": self.max_distance,
        }
        if self.samples is not None:
            out["samples"] = self.samples
        if self.not_searched_because is not None:
            out["reason"] = self.not_searched_because
        elif self.match is None:
            out["match"] = None
        else:
            out.update(self.match.to_dict())
        return out


Content = ExactContent | SamePixelsContent | ReframedContent | PhotoContent | ClipContent


@dataclass(frozen=True)
class Evidence:
    watermark: WatermarkEvidence
    signature: SignatureEvidence | None = None
    content: Content | None = None
    appearance: AppearanceEvidence | None = None
    sound: SoundCheck | None = None

    def to_dict(self) -> dict:
        out = {"watermark": self.watermark.to_dict()}
        for name in ("appearance", "signature", "content", "sound"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.to_dict()
        return out
