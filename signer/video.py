"""Sign an official video: watermark every frame, re-encode H.264, copy audio as is.

Streaming: one frame at a time goes decode -> mark -> encode, so memory does not grow
with the clip's length. Timestamps are copied frame by frame (variable frame rates
survive), audio packets are remuxed byte for byte, and the display rotation and
container metadata are carried over. A long clip is signed in segments side by side
(segments.py), joined into the same kind of file."""

from __future__ import annotations

import base64
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from realmark.credentials import embed
from realmark.errors import BadInput, RealmarkError, StoreError
from realmark.fingerprint import Fingerprint
from realmark.fingerprint.audio import sound_print
from realmark.keys import SigningKey
from realmark.manifest import Manifest, MediaInfo
from realmark.manifest.model import utc_now
from realmark.media import sha256_file
from realmark.media.formats import FORMATS
from realmark.media.sound import mono_samples
from realmark.media.video import SmallLuma, VideoInfo, frames, open_video, probe
from realmark.store import Records
from realmark.watermark.codec import MIN_EMBED_SHORT_SIDE, working_size
from realmark.watermark.reader import Reader

from .common import (
    Metadata,
    SignResult,
    claim_for,
    commit,
    manifest_id_for,
    marked_with_fresh_id,
    sign_with_retries,
)
from .parallel import InThisProcess, SegmentSigners
from .segments import Cut, EncoderSettings, Progress, SegmentsDontJoin, SegmentWork, join, output_container, plan

SELF_CHECK_FRAMES = 4  # a marked frame at CRF 18 decodes on its own; four leave margin
PARTS_PER_SIGNER = 4


@dataclass(frozen=True)
class TranscodeStats:
    frames: int
    duration_ms: int
    timeline: tuple[str, ...]  # fingerprint hex of the frame at each timeline position
    regions: str  # base64url of the same frames' grid.regions, one after another
    first: Fingerprint  # of the first frame


def transcode(
    src: Path,
    dst: Path,
    info: VideoInfo,
    settings: EncoderSettings,
    wm_id: int,
    signers: SegmentSigners,
    progress: Progress | None = None,
) -> TranscodeStats:
    """Re-encode src to dst with libx264, every frame marked with wm_id; audio copied
    packet by packet. Long clips are cut into segments that `signers` sign side by side."""
    cuts = [Cut(0)]
    if signers.parallel > 1 and (info.duration_s or 0) >= 2 * signers.segment_seconds:
        # Several segments a signer, so that one finishing early finds more to do.
        cuts = plan(src, signers.segment_seconds, PARTS_PER_SIGNER * signers.parallel)
    folder = Path(tempfile.mkdtemp(prefix=".segments-", dir=dst.parent))
    try:
        works = [SegmentWork(info, settings, wm_id, cut) for cut in cuts]
        parts = signers.sign(src, works, folder, progress)
        try:
            join(src, parts, dst, info, settings)
        except SegmentsDontJoin:
            if len(parts) == 1:
                raise
            parts = InThisProcess().sign(src, [SegmentWork(info, settings, wm_id, Cut(0))], folder, progress)
            join(src, parts, dst, info, settings)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    segments = [segment for segment, _ in parts]
    frames = sum(segment.frames for segment in segments)
    if frames == 0:
        raise BadInput("the video has no decodable frames")
    timeline: list[str] = []
    cells = bytearray()
    for segment in segments:
        if segment.timeline and segment.first_position != len(timeline):
            raise RealmarkError(f"segment {segment.index} starts at timeline position {segment.first_position}")
        timeline.extend(segment.timeline)
        cells += base64.b64decode(segment.cells)
    last_s = max(segment.last_s for segment in segments)
    duration_ms = max(1, round((info.duration_s or last_s + 1 / float(info.frame_rate)) * 1000))
    return TranscodeStats(
        frames=frames,
        duration_ms=duration_ms,
        timeline=tuple(timeline),
        regions=base64.urlsafe_b64encode(bytes(cells)).rstrip(b"=").decode(),
        first=Fingerprint.from_hex(timeline[0], segments[0].first_quality),
    )


def sound_of(path: Path) -> str | None:
    """The print of a clip's sound for its manifest (None without sound). The signed
    file's audio packets are the source's, byte for byte: one print serves both."""
    with open_video(path) as container:
        if not container.streams.audio:
            return None
        heard = sound_print(mono_samples(container))
    return heard.encode() if len(heard) else None


def read_back(path: Path, info: VideoInfo, max_frames: int = SELF_CHECK_FRAMES) -> int | None:
    """The watermark id read from the first frames of a signed file."""
    shrink = SmallLuma(working_size(info.width, info.height))
    reader = Reader()
    with open_video(path) as container:
        for frame in frames(container):
            reader.add(shrink(frame))
            if reader.pictures >= max_frames:
                break
    return reader.read().wm_id


def sign_clip(
    src: Path,
    dst: Path,
    meta: Metadata,
    key: SigningKey,
    records: Records,
    settings: EncoderSettings,
    progress: Progress | None,
    watermark_id: int | None = None,
    signers: SegmentSigners | None = None,
) -> SignResult:
    """Watermark a video, embed its Content Credentials (MP4 and MOV), and store the
    signed manifest, the published file and the C2PA sidecar; the file is written to
    dst (which the caller renames into place). `watermark_id` is tried first."""
    signers = signers or InThisProcess()
    info = probe(src)
    if min(info.width, info.height) < MIN_EMBED_SHORT_SIDE:
        raise BadInput(
            f"the video is {info.width}x{info.height}; signing needs at least {MIN_EMBED_SHORT_SIDE} px on the "
            f"short side"
        )
    if info.width % 2 or info.height % 2:
        raise BadInput(f"the video is {info.width}x{info.height}; H.264 4:2:0 needs even dimensions")
    manifest_id = manifest_id_for(key, sha256_file(src))
    mime = FORMATS[output_container(info)].mime
    sound = sound_of(src)
    marked_path = dst.with_name(dst.name + ".marked")
    first_id = [watermark_id] if watermark_id is not None else []  # tried once: it may be taken

    def attempt() -> Manifest | None:
        def mark(wm_id: int):
            stats = transcode(src, marked_path, info, settings, wm_id, signers, progress)
            return stats if read_back(marked_path, info) == wm_id else None

        try:
            wm_id, stats = marked_with_fresh_id(records, mark, "video", first_id.pop() if first_id else None)
            published_at = utc_now()
            credentials = None
            if FORMATS[output_container(info)].carries_c2pa:
                claim = claim_for(key, meta, manifest_id, wm_id, mime, published_at)
                with open(src, "rb") as original, open(marked_path, "rb") as marked, open(dst, "w+b") as out:
                    credentials = embed(claim, key, original, marked, out)
            else:
                marked_path.replace(dst)
        finally:
            marked_path.unlink(missing_ok=True)
        return commit(
            records,
            key,
            meta,
            manifest_id,
            wm_id,
            published_at=published_at,
            published=dst,
            credentials=credentials,
            media=MediaInfo(
                type=mime,
                width=info.width,
                height=info.height,
                sha256=sha256_file(dst),
                duration_ms=stats.duration_ms,
                frame_rate=f"{Fraction(info.frame_rate).numerator}/{Fraction(info.frame_rate).denominator}",
                frames=stats.frames,
                rotation=info.rotation,
            ),
            fingerprint=stats.first,
            timeline=stats.timeline,
            timeline_regions=stats.regions,
            sound=sound,
        )

    def resign(existing: Manifest) -> SignResult:
        # The published file exactly as first signed, from the store: a new C2PA manifest
        # would differ, and re-encoding is not guaranteed to give the same bytes.
        if not records.published_to_file(existing.manifest_id, existing.media.sha256, dst):
            raise StoreError(f"the published file of {existing.manifest_id} is missing or damaged in the store")
        return SignResult(existing, created=False)

    result = sign_with_retries(records, manifest_id, meta, attempt, resign)
    return result if isinstance(result, SignResult) else SignResult(result, created=True)
