"""Verify a video: one decode pass over every frame, watermark with early stop,
per-frame presence and fingerprints, then the timeline rules (timeline.py)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from av.video.frame import PictureType
from PIL import Image

from realmark.errors import BadInput
from realmark.fingerprint import MATCH_DISTANCE, fingerprint_luma, grid, pairwise, stack
from realmark.fingerprint.audio import SoundPrint
from realmark.manifest import Manifest
from realmark.manifest.model import TIMELINE_STEP_S as SAMPLE_STEP
from realmark.media import sha256_file
from realmark.media.sound import mono_samples
from realmark.media.video import Ahead, SmallLuma, frames, open_checked, open_video
from realmark.watermark import codec
from realmark.watermark.reader import SYNC_PLANES, Reader, SummedPlanes

from . import appearance, decide, sound, timeline
from .audio import verify_sound
from .context import Context
from .evidence import ClipContent, Evidence, ExactContent, ReframedContent, SignatureEvidence, WatermarkEvidence
from .manifests import Lookup, lookup, published_manifest
from .placement import place
from .result import Verification

FIRST_READ = 4  # frames before the first decoding attempt; then after 8, 16, 32, ... frames
SYNC_AT = 32  # frames: a clip whose mark moved (crop, letterbox, rotation) is searched for here and at the end
MAX_BUFFERED = 250  # frames kept while the id is still unknown (~30 MB); beyond: a second pass

Progress = Callable[[float], None]


@dataclass
class _Scan:
    reading: codec.Reading | None = None
    frames_read: int = 0
    times: list[float] = field(default_factory=list)
    presence: list[float] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    regions: list[np.ndarray] = field(default_factory=list)  # each frame's grid.regions, as signed
    samples: list[tuple[float, bytes]] = field(
        default_factory=list
    )  # (time, fingerprint) every timeline step, for the appearance search
    complete: bool = True  # False when frames before the id had to be dropped


Warp = Callable[[np.ndarray], np.ndarray]  # a working-grid frame -> the signed picture's working grid


@dataclass(frozen=True)
class Plan:
    """What the frames after the mark must still give, once its record is known
    (_Record.plan): nothing, or their fingerprints where the signed picture sits."""

    stop: bool = False  # the verdict follows from the mark and its record alone
    warp: Warp | None = None  # the signed picture sits elsewhere in the frame (letterboxed, in a window)


OnMark = Callable[[codec.Reading], Plan]


def _scan(
    container,
    info,
    known: codec.Reading | None,
    progress: Progress | None,
    warp: Warp | None = None,
    on_mark: OnMark | None = None,
) -> _Scan:
    """Decode every frame of an open container, which it closes (a fake frame must not
    hide between samples), scaled by FFmpeg to the working grid: nothing full-size reaches
    Python. The deblocking filter is skipped only on frames no other frame refers to:
    skipped on all, its error builds up along each group of pictures, and a genuine CRF 28
    copy of a 540p clip drifted 13 levels in one region for a second, its region grid
    "changed" (on a 1080p clip the full filter costs about 12 % more verifying time).

    Until the mark is read, each frame is also scaled to the lattice search's finer
    planes and added to their sums (SummedPlanes): a letterboxed or windowed clip's mark
    is too small for the working grid, and a weak one needs every frame. `warp`, once the
    signed picture's place in the frame is known, brings each frame back to the signed
    picture for its fingerprint. `on_mark`, called with the reading once the mark is read,
    says what the frames after it must still give: a cropped copy's verdict needs none of
    them, so decoding stops there, and a windowed one's fingerprints are taken through the
    warp from then on (and for the frames kept until then), so that each frame is decoded
    once."""
    shrink = SmallLuma(codec.working_size(info.width, info.height))
    frame_size = (info.width, info.height)
    finer = SummedPlanes(frame_size)
    scalers = {
        p.short: SmallLuma(shape)
        for p in SYNC_PLANES
        if p.clip and p.short != codec.WORK_SHORT_SIDE and (shape := SummedPlanes.shape(frame_size, p.short))
    }
    scan = _Scan(reading=known)
    reader, keyframes = Reader(), Reader()
    scorer = codec.Presence(known, frame_size) if known else None
    pending: list[tuple[np.ndarray, codec.Folds]] = []
    next_read = FIRST_READ

    def fingerprint(small: np.ndarray) -> tuple[bytes, np.ndarray]:
        picture = warp(small) if warp is not None else codec.orient(small, *scorer.orientation)
        return fingerprint_luma(picture).bits, grid.regions(picture)

    with container:
        container.streams.video[0].codec_context.options = {"skip_loop_filter": "noref"}
        with Ahead(frames(container), shrink) as decoded:
            start = None
            for frame, small in decoded:
                t = frame.time or 0.0
                start = t if start is None else start
                scan.times.append(t - start)
                if known is None and t - start >= len(scan.samples) * SAMPLE_STEP - 1e-6:
                    scan.samples.append((t - start, fingerprint_luma(small).bits))
                if scorer is None:
                    evidence = reader.add(small)
                    for short, scale in scalers.items():
                        finer.add(short, scale(frame))
                    if len(pending) < MAX_BUFFERED:
                        pending.append((small, evidence))
                    else:
                        scan.complete = False
                    attempt = None
                    if reader.pictures == next_read:  # early stop: read on a doubling schedule
                        next_read *= 2
                        attempt = reader.read(search=reader.pictures == SYNC_AT, planes=finer, size=frame_size)
                    if frame.key_frame or frame.pict_type == PictureType.I:
                        # Encoders copy pictures along motion vectors between key frames, and
                        # the (static) mark moves with them: in a pan, P-frames blur the sum.
                        # Key frames carry it where it was put, so they are also read alone.
                        keyframes.add_folds(evidence)
                        if attempt is None or (attempt.wm_id is None and keyframes.pictures < reader.pictures):
                            attempt = keyframes.read()
                    if attempt is not None and attempt.wm_id is not None:
                        scan.reading, scorer = attempt, codec.Presence(attempt, frame_size)
                        plan = on_mark(attempt) if on_mark is not None else Plan()
                        if plan.stop:
                            break
                        warp = plan.warp
                        _settle(scan, scorer, pending, fingerprint)
                else:
                    scan.presence.append(scorer.score(scorer.folds(small)))
                    bits, cells = fingerprint(small)
                    scan.hashes.append(bits)
                    scan.regions.append(cells)
                if progress and info.duration_s:
                    progress(min(1.0, scan.times[-1] / info.duration_s))
    scan.frames_read = reader.pictures if known is None else len(scan.times)
    if scorer is None:
        scan.reading = reader.read(search=True, planes=finer, size=frame_size)  # the whole clip's evidence
        if scan.reading.wm_id is None and 0 < keyframes.pictures < reader.pictures:
            scan.reading = keyframes.read()
        if scan.reading.wm_id is not None:
            scorer = codec.Presence(scan.reading, frame_size)
            plan = on_mark(scan.reading) if on_mark is not None else Plan()
            if not plan.stop:
                warp = plan.warp
                _settle(scan, scorer, pending, fingerprint)
    return scan


def _settle(scan: _Scan, scorer: codec.Presence, pending, fingerprint) -> None:
    """Score the frames seen before the id was known, now that it is."""
    for small, evidence in pending:
        # Evidence gathered at the working grid's scale is reusable only if the mark is there.
        scan.presence.append(scorer.score(scorer.folds(small) if scorer.moved else evidence))
        bits, cells = fingerprint(small)
        scan.hashes.append(bits)
        scan.regions.append(cells)
    pending.clear()


def _warp(placement, frame: tuple[int, int], signed: tuple[int, int]) -> Warp:
    """The signed picture's working grid, sampled from a working-grid frame of a clip in
    which it sits at `placement` (letterboxed, in a window, rotated ...)."""
    ww, wh = codec.working_size(*frame)
    sw, sh = codec.working_size(*signed)
    to_small = np.diag([ww / frame[0], wh / frame[1]])
    m = to_small @ np.array(placement.matrix)  # small-frame pixels per signed cell
    corner = to_small @ np.array(placement.corner)
    # PIL's affine transform maps each output pixel (a signed cell) to an input point.
    data = (m[0, 0], m[0, 1], corner[0], m[1, 0], m[1, 1], corner[1])

    def warp(small: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(small).transform((sw, sh), Image.AFFINE, data, Image.BILINEAR))

    return warp


def heard(path: Path) -> sound.Copy | None:
    """A clip's sound, to compare with a manifest's print (None: no audio stream)."""
    with open_video(path) as container:
        if not container.streams.audio:
            return None
        return sound.Copy.of(mono_samples(container))


def _sound(manifest, path: Path, pictures=None) -> sound.SoundCheck:
    """The copy's sound against the signed clip's: along the pictures' ranges when they
    are mapped, else wherever it fits best."""
    original = SoundPrint.decode(manifest.sound) if manifest.sound else None
    if pictures is None:
        return sound.anywhere(original, heard(path))
    return sound.along_pictures(original, heard(path), list(pictures))


def _regions(manifest, scan: _Scan):
    """(the original's regions per timeline position, the copy's per frame, the signed
    frame's size), when the manifest has them (clips signed before issue 14 do not)."""
    if manifest.timeline_regions is None:
        return None
    raw = base64.urlsafe_b64decode(manifest.timeline_regions + "=" * (-len(manifest.timeline_regions) % 4))
    shape = (grid.REGION_ROWS, grid.REGION_COLUMNS)
    signed = (manifest.media.width, manifest.media.height)
    return np.frombuffer(raw, np.uint8).reshape(-1, *shape), np.array(scan.regions).reshape(-1, *shape), signed


def _timed(manifest: Manifest) -> bool:
    """Whether a manifest is a clip's, with the timeline a copy's frames are laid on."""
    return manifest.media.is_video and bool(manifest.timeline)


def _whole(mark: WatermarkEvidence) -> bool:
    """Whether the signed pictures are all there to fingerprint: not a 9:16 re-frame, a
    crop or a rotation (part of each is gone, and a part's fingerprint is not the whole
    picture's)."""
    return not (mark.moved and mark.placement.cropped)


class _Record:
    """A clip's mark and its record, looked up as soon as the mark is read: `plan` tells
    the scan what the frames after it must still give (Plan)."""

    def __init__(self, ctx: Context, frame: tuple[int, int]):
        self._ctx, self._frame = ctx, frame
        self.found: Lookup | None = None  # set once a mark is read
        self.mark: WatermarkEvidence | None = None  # the mark placed in the frame, for a clip's record

    def plan(self, reading: codec.Reading) -> Plan:
        self.found = lookup(reading.wm_id, self._ctx)
        manifest = self.found.manifest
        if manifest is None or not _timed(manifest):
            return Plan(stop=True)
        signed = (manifest.media.width, manifest.media.height)
        self.mark = replace(WatermarkEvidence.of(reading), placement=place(reading, self._frame, signed, clip=True))
        if not _whole(self.mark):
            return Plan(stop=True)
        return Plan(warp=_warp(self.mark.placement, self._frame, signed) if self.mark.moved else None)


def verify_clip(path: Path, ctx: Context, progress: Progress | None = None) -> Verification:
    """The verdict on a clip. Raises BadInput only for unreadable input."""
    file_hash = sha256_file(path)
    published = published_manifest(file_hash, ctx)
    container, info = open_checked(path)  # checked even when published: what it reports holds for it
    if info is None:  # sound only (an MP4 or WebM may be)
        container.close()
        return verify_sound(path, ctx)
    if published is not None:  # the published file itself: no need to decode it
        container.close()
        whole = published.media.duration_ms / 1000
        content = ExactContent((timeline.Range("official", 0.0, whole, 0.0, whole),))
        evidence = Evidence(WatermarkEvidence.not_read(published), SignatureEvidence(published.key_id, True), content)
        decision = decide.published_file()
        return Verification(decision.verdict, decision.reasons, published, evidence)
    frame = (info.width, info.height)
    record = _Record(ctx, frame)
    scan = _scan(container, info, None, progress, on_mark=record.plan)
    if not scan.times:
        raise BadInput("the video has no decodable frames")
    reading = scan.reading
    mark = WatermarkEvidence.of(reading, frames_read=scan.frames_read)
    searched = None
    if reading.wm_id is None and ctx.index is not None:
        searched, manifest = appearance.clip(scan.samples, ctx)
        if manifest is not None:
            decision = decide.clip_by_appearance()
            return Verification(decision.verdict, decision.reasons, manifest, Evidence(mark, appearance=searched))
    found = record.found if record.found is not None else lookup(reading.wm_id, ctx)
    manifest = found.manifest
    if manifest is None:
        decision = decide.without_record(found.problem)
        return Verification(
            decision.verdict, decision.reasons, None, Evidence(mark, found.signature, appearance=searched)
        )
    if not _timed(manifest):
        decision = decide.photo_mark_on_clip()
        return Verification(decision.verdict, decision.reasons, manifest, Evidence(mark, found.signature))
    mark = replace(mark, placement=record.mark.placement)
    if not _whole(mark):
        # A 9:16 re-frame, a crop, a rotation: the signed pictures are not all there, and
        # their fingerprints cannot be compared with part of them.
        heard_check = _sound(manifest, path)
        decision = decide.moved(mark, clip=True, sound=heard_check)
        evidence = Evidence(mark, found.signature, ReframedContent(reading.scale), sound=heard_check)
        return Verification(decision.verdict, decision.reasons, manifest, evidence)
    if not scan.complete:  # the id came late in a long clip: look at every frame again, knowing it
        signed = (manifest.media.width, manifest.media.height)
        warp = _warp(mark.placement, frame, signed) if mark.moved else None  # letterboxed, in a window
        scan = _scan(open_video(path), info, reading, None, warp=warp)
    times = np.array(scan.times)
    original = stack(manifest.timeline)
    query = np.array([np.frombuffer(h, np.uint8) for h in scan.hashes], dtype=np.uint8)
    ranges, anchors = timeline.match(
        times,
        np.array(scan.presence),
        original,
        query,
        clip_end=max(info.duration_s, float(times[-1])),
        original_frame_step=1 / float(Fraction(manifest.media.frame_rate)),
        regions=_regions(manifest, scan),
    )
    content = ClipContent(
        exact_match=file_hash == manifest.media.sha256,
        frames=len(times),
        anchors_matched=len(anchors),
        anchor_max_distance=MATCH_DISTANCE,
        mark_threshold=timeline.MARK_PRESENT,
        ranges=tuple(ranges),
        nearest_distance=int(np.median(pairwise(query[:: max(1, len(query) // 64)], original).min(axis=1))),
    )
    heard_check = _sound(manifest, path, ranges)
    if mark.moved:
        decision = decide.moved(mark, clip=True, sound=heard_check)
    else:
        decision = decide.clip(mark, content, heard_check, original_seconds=manifest.media.duration_ms / 1000)
    evidence = Evidence(mark, found.signature, content, sound=heard_check)
    return Verification(decision.verdict, decision.reasons, manifest, evidence)
