"""Reason codes: why a verification has its verdict. Stable, documented (README
"Verdicts"), and the keys the wording (wording.py) turns into sentences.

A verification's first reason is its headline: the one its sentence is about. Others
add what else was seen (a copy that is re-encoded *and* mirrored)."""

from __future__ import annotations

from enum import StrEnum

from realmark.errors import InvalidManifest


class Reason(StrEnum):
    # The content matches what was signed (authentic).
    PUBLISHED_FILE = "published_file"  # byte for byte the file the agency published
    PUBLISHED_PIXELS = "published_pixels"  # another file, but the published picture's pixels exactly, as published
    REENCODED = "reencoded"  # a re-encoded or resized copy: content unchanged
    FILTERED = (
        "filtered"  # a colour filter over the whole picture (sepia, grey, a vignette, a tone curve): content unchanged
    )
    OFFICIAL_FOOTAGE = "official_footage"  # a clip: every part is official, in the original's order
    TRIMMED = "trimmed"  # a clip showing only part of the original
    MIRRORED = "mirrored"  # flipped left to right
    TURNED = "turned"  # turned by quarter turns
    # Official mark, but not the signed content (altered).
    CROPPED = "cropped"  # cropped or re-framed: only part of the picture is there
    EMBEDDED = "embedded"  # a photo set inside a larger picture: a screenshot, a collage, a bar, padding
    LETTERBOXED = "letterboxed"  # a clip's pictures across the frame with bars or a fill above and below (or beside)
    PICTURE_IN_PICTURE = "picture_in_picture"  # a clip's pictures in a window of other footage
    ROTATED = "rotated"  # turned by a small angle
    STRETCHED = "stretched"  # stretched unevenly, skewed or in perspective
    REGIONS_CHANGED = "regions_changed"  # parts of the picture replaced, covered or written on
    PICTURE_CHANGED = "picture_changed"  # the picture as a whole no longer matches
    CONTENT_NOT_COMPARABLE = "content_not_comparable"  # the manifest's fingerprint is of another algorithm
    FOREIGN_FOOTAGE = "foreign_footage"  # a clip: footage without the mark spliced in
    PICTURES_CHANGED = "pictures_changed"  # a clip: marked pictures that do not match the original
    ORDER_CHANGED = "order_changed"  # a clip: official parts from different places, re-ordered
    PHOTO_MARK_ON_CLIP = "photo_mark_on_clip"  # a clip carrying a photo's mark
    # Official mark, content that is no part of the signed asset (forged).
    MARK_COPIED = "mark_copied"  # the mark lifted from an official file and added to another picture or clip
    # No watermark: the appearance index found it (likely_authentic, or altered).
    APPEARANCE_ONLY = "appearance_only"
    # Nothing official found (unknown).
    NO_MARK = "no_mark"
    MARK_WITHOUT_RECORD = "mark_without_record"  # a Realmark mark this verifier has no manifest for
    # A mark whose record fails (invalid).
    RECORD_DAMAGED = "record_damaged"
    MANIFEST_MALFORMED = InvalidManifest.MALFORMED
    SIGNATURE_INVALID = InvalidManifest.SIGNATURE
    KEY_UNKNOWN = InvalidManifest.KEY_UNKNOWN
    KEY_REVOKED = InvalidManifest.KEY_REVOKED
    KEY_NOT_VALID_THEN = InvalidManifest.KEY_NOT_VALID_THEN
    MARK_MISMATCH = "mark_mismatch"  # a valid manifest, but of another watermark
    # The sound of a clip (verifier/sound.py).
    SOUND_CHANGED = "sound_changed"  # another voice, cut or added words, music laid under, out of sync (altered)
    NO_SOUND = "no_sound"  # the signed clip has sound, this copy none: judged on its pictures
    SOUND_NOT_CHECKED = "sound_not_checked"  # no official stretch of pictures to line the sound up with
    SOUND_ONLY = "sound_only"  # a sound file, found by its sound print (likely_authentic at best)
    SOUND_UNKNOWN = "sound_unknown"  # a sound file whose sound is in no signed clip this verifier knows
