"""Every verdict is decided here: from the evidence to (verdict, reasons).

The rules fail closed: only a chain of positive checks (mark -> record -> valid signature
by a trusted key -> content that matches what was signed) reaches `authentic`. Anything
that cannot be confirmed leads away from it. The pipelines (photo.py, video.py) gather
evidence and call one of these; wording.py puts the outcome into words."""

from __future__ import annotations

from dataclasses import dataclass

from realmark.fingerprint import COPY_DISTANCE
from realmark.manifest.model import TIMELINE_STEP_S as STEP

from .evidence import ClipContent, PhotoContent, WatermarkEvidence
from .reasons import Reason
from .result import Verdict

# Changed grid cells are named as regions only while the picture as a whole still
# resembles the signed one; beyond this the whole picture is different, not some regions.
REGIONS_MAX_DISTANCE = 2 * COPY_DISTANCE
# A clip's pictures inside a larger frame are the frame's main content (letterboxed, or a
# screen recording with borders) when they cover at least half of it; smaller, they are
# a window over other footage (picture-in-picture).
MAIN_PICTURE_FILLS = 0.5


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]


def _orientation(mark: WatermarkEvidence) -> tuple[Reason, ...]:
    return ((Reason.MIRRORED,) if mark.mirrored else ()) + ((Reason.TURNED,) if mark.turns else ())


def without_record(problem: Reason) -> Decision:
    """No trusted manifest behind the mark: nothing found, or a record that fails."""
    if problem in (Reason.NO_MARK, Reason.MARK_WITHOUT_RECORD):
        return Decision(Verdict.UNKNOWN, (problem,))
    return Decision(Verdict.INVALID, (problem,))


def published_file(clip: bool) -> Decision:
    return Decision(Verdict.AUTHENTIC, (Reason.PUBLISHED_FILE,) + ((Reason.SOUND_NOT_CHECKED,) if clip else ()))


def moved(mark: WatermarkEvidence, clip: bool) -> Decision:
    """The mark is official but the signed picture is not simply all of this one: never
    authentic. Cropped into, set inside something larger, rotated or stretched; the
    reasons say which (several can hold: a rotated crop)."""
    p = mark.placement
    reasons: tuple[Reason, ...] = ()
    if p.embedded:
        if not clip:
            reasons += (Reason.EMBEDDED,)
        elif p.spans_width or p.spans_height or p.fills >= MAIN_PICTURE_FILLS:
            reasons += (Reason.LETTERBOXED,)
        else:
            reasons += (Reason.PICTURE_IN_PICTURE,)
    if p.cropped:
        reasons += (Reason.CROPPED,)
    if p.rotated:
        reasons += (Reason.ROTATED,)
    elif p.stretched:
        reasons += (Reason.STRETCHED,)
    return Decision(Verdict.ALTERED, reasons + _orientation(mark) + ((Reason.SOUND_NOT_CHECKED,) if clip else ()))


def photo(mark: WatermarkEvidence, content: PhotoContent) -> Decision:
    """A photo whose mark leads to a trusted photo manifest, compared with it."""
    if content.exact_match:
        return published_file(clip=False)
    if not content.compared:
        return Decision(Verdict.ALTERED, (Reason.CONTENT_NOT_COMPARABLE,))
    turned = _orientation(mark)
    if content.fingerprint_distance <= COPY_DISTANCE and not content.changed_regions:
        return Decision(Verdict.AUTHENTIC, (Reason.REENCODED,) + turned)
    if content.changed_regions and content.fingerprint_distance <= REGIONS_MAX_DISTANCE:
        return Decision(Verdict.ALTERED, (Reason.REGIONS_CHANGED,) + turned)
    return Decision(Verdict.ALTERED, (Reason.PICTURE_CHANGED,) + turned)


def photo_mark_on_clip() -> Decision:
    return Decision(Verdict.ALTERED, (Reason.PHOTO_MARK_ON_CLIP, Reason.SOUND_NOT_CHECKED))


def clip(mark: WatermarkEvidence, content: ClipContent, original_seconds: float) -> Decision:
    """A clip whose mark leads to a trusted video manifest, laid on its timeline."""
    sound = (Reason.SOUND_NOT_CHECKED,)
    kinds = {r.kind for r in content.ranges}
    official = [r for r in content.ranges if r.kind == "official"]
    mapped = [r for r in official if r.original_start is not None]
    if content.anchors_matched == 0:
        return Decision(Verdict.ALTERED, (Reason.PICTURES_CHANGED,) + sound)
    if kinds & {"foreign", "changed"}:
        found = ((Reason.FOREIGN_FOOTAGE,) if "foreign" in kinds else ()) + (
            (Reason.PICTURES_CHANGED,) if "changed" in kinds else ()
        )
        return Decision(Verdict.ALTERED, found + sound)
    if len(mapped) != 1 or len(official) != 1:
        return Decision(Verdict.ALTERED, (Reason.ORDER_CHANGED,) + sound)
    r = mapped[0]
    trimmed = r.original_start > STEP or r.original_end < original_seconds - STEP
    copy = () if content.exact_match else (Reason.REENCODED,)
    extra = copy + ((Reason.TRIMMED,) if trimmed else ()) + _orientation(mark)
    return Decision(Verdict.AUTHENTIC, (Reason.OFFICIAL_FOOTAGE,) + extra + sound)


def photo_by_appearance(changed_regions: bool) -> Decision:
    """No mark, but the index found a trusted asset that looks the same. Weaker than a
    watermark (C2PA's soft-binding guidance says as much of fingerprint matches): at best
    likely_authentic, and altered where the picture's regions can be compared and differ."""
    if changed_regions:
        return Decision(Verdict.ALTERED, (Reason.APPEARANCE_ONLY, Reason.REGIONS_CHANGED))
    return Decision(Verdict.LIKELY_AUTHENTIC, (Reason.APPEARANCE_ONLY,))


def clip_by_appearance() -> Decision:
    return Decision(Verdict.LIKELY_AUTHENTIC, (Reason.APPEARANCE_ONLY, Reason.SOUND_NOT_CHECKED))
