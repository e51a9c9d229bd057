"""Verify a sound file (M4A, MP3, WAV, Ogg ...) or a clip without pictures: traced by its
sound to a signed clip and the seconds it comes from (realmark.index.sound), then checked
frame by frame against that clip's sound print (sound.py).

A sound carries no watermark, so its best outcome is `likely_authentic`: a print match is
evidence of where it comes from, not of who made the copy."""

from __future__ import annotations

from pathlib import Path

from realmark.errors import BadInput
from realmark.fingerprint.audio import SoundPrint
from realmark.media.sound import mono_samples
from realmark.media.video import open_sound

from . import decide, sound
from .context import Context
from .evidence import Evidence, WatermarkEvidence
from .manifests import trusted_manifest
from .result import Verification

MAX_CANDIDATES = 5  # (clip, offset) pairs checked in full, most votes first


def hear(path: Path) -> sound.Copy:
    """A file's sound, with its fine print. Raises BadInput."""
    with open_sound(path) as container:
        if not container.streams.audio:
            raise BadInput("the file has no video stream and no sound")
        heard = sound.Copy.of(mono_samples(container))
    if not len(heard.print):
        raise BadInput("the sound is too short to check (under half a second)")
    return heard


def verify_sound(path: Path, ctx: Context) -> Verification:
    """The verdict on a sound file. Raises BadInput only for unreadable input."""
    copy = hear(path)
    mark = WatermarkEvidence.no_pictures()
    if not sound.audible(copy):
        decision = decide.sound_file(None)
        return Verification(decision.verdict, decision.reasons, None, Evidence(mark))
    best = None
    for match in (ctx.index.search_sound(copy.print) if ctx.index is not None else [])[:MAX_CANDIDATES]:
        manifest = trusted_manifest(match.manifest_id, ctx)
        if manifest is None or not manifest.sound:
            continue  # unsigned, damaged or revoked: not evidence of anything
        check = sound.trace(SoundPrint.decode(manifest.sound), copy, match.offset_s)
        official = sum(r.clip_end - r.clip_start for r in check.ranges if r.kind == "official")
        if best is None or official > best[0]:
            best = (official, manifest, check)
    if best is None or best[0] == 0:
        decision = decide.sound_file(None)
        return Verification(decision.verdict, decision.reasons, None, Evidence(mark))
    _, manifest, check = best
    decision = decide.sound_file(check)
    return Verification(decision.verdict, decision.reasons, manifest, Evidence(mark, sound=check))
