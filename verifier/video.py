"""Verify a video: one decode pass over every frame, watermark with early stop,
per-frame presence and fingerprints, then the timeline rules (timeline.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from av.video.frame import PictureType

from realmark.errors import BadInput
from realmark.fingerprint import fingerprint_luma
from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.manifest.model import TIMELINE_INTERVAL_MS
from realmark.media import sha256_file
from realmark.media.video import CONTAINERS, SmallLuma, frames, open_checked
from realmark.store import Store
from realmark.watermark import codec

from . import appearance, timeline
from .credentials import with_credentials
from .manifests import describe, find_manifest, published_file, reading_evidence
from .result import Verdict, Verification

FIRST_READ = 4  # frames before the first decoding attempt; then after 8, 16, 32, ... frames
SCALE_SEARCH_AT = 32  # frames: a cropped or re-framed clip's mark is searched at other scales here and at the end
MAX_BUFFERED = 250  # frames kept while the id is still unknown (~30 MB); beyond: a second pass
SAMPLE_STEP = TIMELINE_INTERVAL_MS / 1000  # seconds between fingerprints kept for the appearance search
SOUND_NOTE = " Only the pictures are checked, not the sound."

Progress = Callable[[float], None]


@dataclass
class _Scan:
    reading: codec.Reading | None = None
    frames_read: int = 0
    times: list[float] = field(default_factory=list)
    presence: list[float] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    samples: list[tuple[float, bytes]] = field(default_factory=list)  # (time, fingerprint) every timeline step, for the appearance search
    complete: bool = True  # False when frames before the id had to be dropped


def _scan(path: Path, info, known: codec.Reading | None, progress: Progress | None) -> _Scan:
    """Decode every frame (a fake frame must not hide between samples), scaled by FFmpeg
    to the working grid: nothing full-size reaches Python. The deblocking filter is
    skipped (invisible at this scale, about a quarter of H.264 decoding time)."""
    shrink = SmallLuma(codec.working_size(info.width, info.height))
    scan = _Scan(reading=known)
    reader, keyframes = codec.Reader(), codec.Reader()
    scorer = codec.Presence(known) if known else None
    pending: list[tuple[np.ndarray, codec.Folds]] = []
    next_read = FIRST_READ
    container, _ = open_checked(path)
    with container:
        container.streams.video[0].codec_context.options = {"skip_loop_filter": "all"}
        start = None
        for frame in frames(container):
            t = frame.time or 0.0
            start = t if start is None else start
            small = shrink(frame)
            scan.times.append(t - start)
            if known is None and t - start >= len(scan.samples) * SAMPLE_STEP - 1e-6:
                scan.samples.append((t - start, fingerprint_luma(small).bits))
            if scorer is None:
                evidence = reader.add(small)
                if len(pending) < MAX_BUFFERED:
                    pending.append((small, evidence))
                else:
                    scan.complete = False
                attempt = None
                if reader.pictures == next_read:  # early stop: read on a doubling schedule
                    next_read *= 2
                    attempt = reader.read(search_scales=reader.pictures == SCALE_SEARCH_AT)
                if frame.key_frame or frame.pict_type == PictureType.I:
                    # Encoders copy pictures along motion vectors between key frames, and
                    # the (static) mark moves with them: in a pan, P-frames blur the sum.
                    # Key frames carry it where it was put, so they are also read alone.
                    keyframes.add_folds(evidence)
                    if attempt is None or (attempt.wm_id is None and keyframes.pictures < reader.pictures):
                        attempt = keyframes.read()
                if attempt is not None and attempt.wm_id is not None:
                    scan.reading, scorer = attempt, codec.Presence(attempt)
                    _settle(scan, scorer, pending)
            else:
                scan.presence.append(scorer.score(scorer.folds(small)))
                scan.hashes.append(fingerprint_luma(codec.orient(small, *scorer.orientation)).bits)
            if progress and info.duration_s:
                progress(min(1.0, scan.times[-1] / info.duration_s))
    scan.frames_read = reader.pictures if known is None else len(scan.times)
    if scorer is None:
        scan.reading = reader.read(search_scales=True)  # the whole clip's evidence
        if scan.reading.wm_id is None and 0 < keyframes.pictures < reader.pictures:
            scan.reading = keyframes.read()
        if scan.reading.wm_id is not None:
            _settle(scan, codec.Presence(scan.reading), pending)
    return scan


def _settle(scan: _Scan, scorer: codec.Presence, pending) -> None:
    """Score the frames seen before the id was known, now that it is."""
    for small, evidence in pending:
        # Evidence gathered at the working grid's scale is reusable only if the mark is there.
        scan.presence.append(scorer.score(evidence if scan.reading.scale == 1.0 else scorer.folds(small)))
        scan.hashes.append(fingerprint_luma(codec.orient(small, *scorer.orientation)).bits)
    pending.clear()


def verify_video(path: Path, *, store: Store, trust: TrustList, index: FingerprintIndex | None = None, progress: Progress | None = None) -> Verification:
    """Verify a clip; embedded Content Credentials (MP4, MOV) are reported beside the verdict."""
    container, info = open_checked(path)
    container.close()
    result = _verify(path, info, store, trust, index, progress)
    with open(path, "rb") as stream:
        return with_credentials(result, CONTAINERS[info.container][1], stream, trust)


def _verify(path: Path, info, store: Store, trust: TrustList, index: FingerprintIndex | None, progress: Progress | None) -> Verification:
    file_hash = sha256_file(path)
    shortcut = published_file(file_hash, store, trust)
    if shortcut is not None:
        return shortcut
    scan = _scan(path, info, None, progress)
    if not scan.times:
        raise BadInput("the video has no decodable frames")
    reading = scan.reading
    evidence = {"watermark": reading_evidence(reading, frames=scan.frames_read)}
    if reading.wm_id is None and index is not None:
        matched = appearance.clip(scan.samples, index, store, trust, evidence)
        if matched is not None:
            return matched
    found = find_manifest(reading, store, trust, evidence)
    if isinstance(found, Verification):
        return found
    manifest = found
    what = describe(manifest)
    if not manifest.media.is_video or not manifest.timeline:
        return Verification(Verdict.ALTERED, f"This clip carries the official mark of a photo, {what}: official pictures do not move.", manifest.to_dict(), evidence)
    if reading.scale != 1.0:  # a 9:16 re-frame or crop: only part of each picture is there to compare
        evidence["content"] = {"exact_match": False, "cropped_to": round(1 / reading.scale, 3)}
        return Verification(Verdict.ALTERED, f"This clip is cropped or re-framed from official footage, {what}: the mark is official, but only part of each picture is shown, so it cannot be confirmed unchanged.", manifest.to_dict(), evidence)
    if not scan.complete:  # the id came late: look at every frame again, knowing it
        scan = _scan(path, info, reading, None)
    times = np.array(scan.times)
    original = np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in manifest.timeline], dtype=np.uint8)
    query = np.array([np.frombuffer(h, np.uint8) for h in scan.hashes], dtype=np.uint8)
    ranges, anchors = timeline.match(times, np.array(scan.presence), original, query, clip_end=max(info.duration_s, float(times[-1])))
    evidence["content"] = {
        "exact_match": file_hash == manifest.media.sha256,
        "frames": len(times),
        "anchors_matched": len(anchors),
        "anchor_max_distance": timeline.ANCHOR_DISTANCE,
        "mark_threshold": timeline.MARK_PRESENT,
        "ranges": [r.to_dict() for r in ranges],
    }
    official = [r for r in ranges if r.kind == "official"]
    suspect = [r for r in ranges if r.kind in ("foreign", "changed")]
    mapped = [r for r in official if r.original_start is not None]
    if not anchors:
        return Verification(Verdict.ALTERED, f"This carries the official mark of {what}, but its pictures do not match what was published.", manifest.to_dict(), evidence)
    if suspect:
        parts = ", ".join(f"{r.clip_start:.1f}-{r.clip_end:.1f} s" for r in suspect)
        return Verification(Verdict.ALTERED, f"Parts of this clip are official footage from {what}, but {parts} is not.", manifest.to_dict(), evidence)
    if len(mapped) != 1 or len(official) != 1:
        return Verification(Verdict.ALTERED, f"This clip re-edits official footage from {what}: its parts come from different places in the original.", manifest.to_dict(), evidence)
    r = mapped[0]
    return Verification(
        Verdict.AUTHENTIC,
        f"This is official footage from {what}: seconds {r.original_start:.1f} to {r.original_end:.1f} of the original." + SOUND_NOTE,
        manifest.to_dict(),
        evidence,
    )
