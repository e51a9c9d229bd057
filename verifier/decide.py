"""Every verdict is decided here: from the evidence to (verdict, reasons).

The rules fail closed: only a chain of positive checks (mark -> record -> valid signature
by a trusted key -> content that matches what was signed) reaches `authentic`. Anything
that cannot be confirmed leads away from it. The pipelines (photo.py, video.py) gather
evidence and call one of these; wording.py puts the outcome into words."""

from __future__ import annotations

from dataclasses import dataclass

from realmark.fingerprint import COPY_DISTANCE, MATCH_DISTANCE
from realmark.manifest.model import TIMELINE_STEP_S as STEP

from .evidence import ClipContent, PhotoContent, WatermarkEvidence
from .reasons import Reason
from .result import Verdict
from .sound import Heard, SoundCheck

# Changed grid cells are named as regions only while the picture as a whole still
# resembles the signed one; beyond this the whole picture is different, not some regions.
REGIONS_MAX_DISTANCE = 2 * COPY_DISTANCE
# A clip's pictures inside a larger frame are the frame's main content (letterboxed, or a
# screen recording with borders) when they cover at least half of it; smaller, they are
# a window over other footage (picture-in-picture).
MAIN_PICTURE_FILLS = 0.5
# A photo whose mark is official but which shows almost none of the signed picture is a
# copied mark, not an edit: with three quarters of a photo replaced 25-44 % of its
# textured grid blocks still match, an unrelated photo 0-12 % (README "Forged marks").
FORGED_MAX_SHARE = 0.2
# A clip none of whose moments matches the signed clip is a copied mark when its frames are
# also far from every moment of it (the median frame's nearest timeline fingerprint): other
# footage sits 100-140 bits away, burnt-in captions or a quarter of the frame replaced
# 30-90 (then it is an altered copy).
FORGED_CLIP_DISTANCE = 96
# A copy is filtered (a colour look over the whole picture, no content changed) when its
# tone curve, its smooth gain field or its colourfulness moved beyond what re-encoding and
# resizing do. Measured on the 22 bench photos (README "Filters"): JPEG q30-85, WebP q60,
# 480-2880 px, grain and sharpening move the tone curve by 0.71 levels at most, the gain
# field to 1.04 and colourfulness by 2; sepia, grey, vignettes, S-curves, faded looks and
# +25 % brightness move at least one of them to 3.5 levels, 1.35 or 10, and a colour boost
# (contrast 1.2, colour 1.35) of the nearly grey Hubble field to 1.8 levels and 5.
FILTER_TONE_LEVELS = 1.5
FILTER_GAIN_SPREAD = 1.12
FILTER_COLOURFULNESS = 4


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]

    @property
    def authentic(self) -> bool:
        """Called authentic: the answer that a photo is first checked against its
        published file for (verifier/photo.py)."""
        return self.verdict is Verdict.AUTHENTIC


def _sound(sound: SoundCheck | None) -> tuple[Reason, ...]:
    """What the sound adds to a clip's reasons."""
    if sound is None or sound.status is Heard.NOT_COMPARED:
        return (Reason.SOUND_NOT_CHECKED,)
    if sound.changed:
        return (Reason.SOUND_CHANGED,)
    if sound.status is Heard.MUTED:
        return (Reason.NO_SOUND,)
    return ()


def _orientation(mark: WatermarkEvidence) -> tuple[Reason, ...]:
    return ((Reason.MIRRORED,) if mark.mirrored else ()) + ((Reason.TURNED,) if mark.turns else ())


def without_record(problem: Reason) -> Decision:
    """No trusted manifest behind the mark: nothing found, or a record that fails."""
    if problem in (Reason.NO_MARK, Reason.MARK_WITHOUT_RECORD):
        return Decision(Verdict.UNKNOWN, (problem,))
    return Decision(Verdict.INVALID, (problem,))


def published_file() -> Decision:
    """Byte for byte the published file: pictures and sound are the signed ones."""
    return Decision(Verdict.AUTHENTIC, (Reason.PUBLISHED_FILE,))


def published_pixels() -> Decision:
    """The published picture's pixels exactly, in another file (metadata stripped or
    changed, saved again losslessly)."""
    return Decision(Verdict.AUTHENTIC, (Reason.PUBLISHED_PIXELS,))


def moved(mark: WatermarkEvidence, clip: bool, sound: SoundCheck | None = None) -> Decision:
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
    return Decision(Verdict.ALTERED, reasons + _orientation(mark) + (_sound(sound) if clip else ()))


def photo(mark: WatermarkEvidence, content: PhotoContent) -> Decision:
    """A photo whose mark leads to a trusted photo manifest, compared with it."""
    if content.exact_match:
        return published_file()
    if not content.compared:
        return Decision(Verdict.ALTERED, (Reason.CONTENT_NOT_COMPARABLE,))
    turned = _orientation(mark)
    if content.fingerprint_distance > MATCH_DISTANCE and (content.matching_share or 0.0) < FORGED_MAX_SHARE:
        return Decision(Verdict.FORGED, (Reason.MARK_COPIED,))
    if not content.changed_regions:
        # A filter moves the global fingerprint more than re-encoding does; the grid, with
        # the filter fitted out, is what says the content is unchanged.
        if _filtered(content) and content.fingerprint_distance <= MATCH_DISTANCE:
            return Decision(Verdict.AUTHENTIC, (Reason.FILTERED,) + turned)
        if content.fingerprint_distance <= COPY_DISTANCE:
            return Decision(Verdict.AUTHENTIC, (Reason.REENCODED,) + turned)
    if content.changed_regions and content.fingerprint_distance <= REGIONS_MAX_DISTANCE:
        return Decision(Verdict.ALTERED, (Reason.REGIONS_CHANGED,) + turned)
    return Decision(Verdict.ALTERED, (Reason.PICTURE_CHANGED,) + turned)


def _filtered(content: PhotoContent) -> bool:
    f = content.look
    return f is not None and (
        f.tone_levels > FILTER_TONE_LEVELS
        or f.gain_spread > FILTER_GAIN_SPREAD
        or (f.colourfulness_change is not None and abs(f.colourfulness_change) > FILTER_COLOURFULNESS)
    )


def photo_mark_on_clip() -> Decision:
    return Decision(Verdict.ALTERED, (Reason.PHOTO_MARK_ON_CLIP, Reason.SOUND_NOT_CHECKED))


def clip(mark: WatermarkEvidence, content: ClipContent, heard: SoundCheck, original_seconds: float) -> Decision:
    """A clip whose mark leads to a trusted video manifest, laid on its timeline, and its
    sound checked along it. Changed sound alone makes a clip altered: a cloned voice over
    official pictures is the commonest deepfake."""
    sound = _sound(heard)
    kinds = {r.kind for r in content.ranges}
    official = [r for r in content.ranges if r.kind == "official"]
    mapped = [r for r in official if r.original_start is not None]
    if content.anchors_matched == 0:  # no moment of it is any moment of the signed clip
        if (content.nearest_distance or 0) >= FORGED_CLIP_DISTANCE:
            return Decision(Verdict.FORGED, (Reason.MARK_COPIED,))
        return Decision(Verdict.ALTERED, (Reason.PICTURES_CHANGED,) + sound)
    if kinds & {"foreign", "changed"}:
        found = ((Reason.FOREIGN_FOOTAGE,) if "foreign" in kinds else ()) + (
            (Reason.PICTURES_CHANGED,) if "changed" in kinds else ()
        )
        return Decision(Verdict.ALTERED, found + sound)
    if len(mapped) != 1 or len(official) != 1:
        return Decision(Verdict.ALTERED, (Reason.ORDER_CHANGED,) + sound)
    if heard.changed:
        return Decision(Verdict.ALTERED, sound + _orientation(mark))
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


def sound_file(heard: SoundCheck | None) -> Decision:
    """A sound with no pictures, traced by its print (None: to no signed clip). Never
    authentic: a print match says where a sound comes from, not who made the copy."""
    if heard is None:
        return Decision(Verdict.UNKNOWN, (Reason.SOUND_UNKNOWN,))
    if heard.changed:
        return Decision(Verdict.ALTERED, (Reason.SOUND_ONLY, Reason.SOUND_CHANGED))
    return Decision(Verdict.LIKELY_AUTHENTIC, (Reason.SOUND_ONLY,))


def clip_by_appearance() -> Decision:
    return Decision(Verdict.LIKELY_AUTHENTIC, (Reason.APPEARANCE_ONLY, Reason.SOUND_NOT_CHECKED))
