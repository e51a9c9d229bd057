"""Sign an official video: watermark every frame, re-encode H.264, copy audio as is.

Streaming: one frame at a time goes decode -> mark -> encode, so memory does not grow
with the clip's length. Timestamps are copied frame by frame (variable frame rates
survive), audio packets are remuxed byte for byte, and the display rotation and
container metadata are carried over."""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

from realmark import watermark
from realmark.credentials import embed
from realmark.errors import BadInput, StoreError
from realmark.fingerprint import Fingerprint, fingerprint_luma, grid
from realmark.fingerprint.audio import sound_print
from realmark.keys import SigningKey
from realmark.manifest import Manifest, MediaInfo
from realmark.manifest.model import TIMELINE_STEP_S, utc_now
from realmark.media import sha256_file
from realmark.media.formats import FORMATS
from realmark.media.sound import mono_samples
from realmark.media.video import CONTAINERS, SmallLuma, VideoInfo, frames, luma_view, open_video, probe
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

DEFAULT_CRF = 18  # visually lossless for H.264
DEFAULT_PRESET = "medium"  # x264's own default
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
SELF_CHECK_FRAMES = 4  # a marked frame at CRF 18 decodes on its own; four leave margin

Progress = Callable[[float], None]  # fraction done, 0..1


@dataclass(frozen=True)
class EncoderSettings:
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET

    def __post_init__(self):
        if not 0 <= self.crf <= 51:
            raise BadInput("CRF must be between 0 and 51")
        if self.preset not in PRESETS:
            raise BadInput(f"preset must be one of {', '.join(PRESETS)}")


@dataclass(frozen=True)
class TranscodeStats:
    frames: int
    duration_ms: int
    timeline: tuple[str, ...]  # fingerprint hex of the frame at each timeline position
    regions: str  # base64url of the same frames' grid.regions, one after another
    first: Fingerprint  # of the first frame


def output_container(info: VideoInfo) -> str:
    """The signed file's container. H.264 is not allowed in WebM, so WebM becomes Matroska."""
    return "mkv" if info.container == "webm" else info.container


def transcode(
    src: Path, dst: Path, info: VideoInfo, settings: EncoderSettings, mark: Callable, progress: Progress | None = None
) -> TranscodeStats:
    """Re-encode src to dst with libx264, calling mark(y_plane) on each frame's luma.
    Audio is copied packet by packet."""
    timeline: list[str] = []
    cells: list[bytes] = []
    first: list[Fingerprint] = []
    count = 0
    last_time = 0.0
    source = open_video(src)
    try:
        out = av.open(str(dst), "w", format=CONTAINERS[output_container(info)][1])
        try:
            vin = source.streams.video[0]
            vout = out.add_stream(
                "libx264", rate=info.frame_rate, options={"crf": str(settings.crf), "preset": settings.preset}
            )
            vout.width, vout.height, vout.pix_fmt = info.width, info.height, "yuv420p"
            vout.time_base = vin.time_base
            vout.metadata.update(vin.metadata)
            if info.rotation:
                vout.set_display_rotation(info.rotation)
            audio = {}
            for ain in source.streams.audio:
                aout = out.add_stream_from_template(ain)
                aout.metadata.update(ain.metadata)
                audio[ain.index] = aout
            out.metadata.update({k: v for k, v in source.metadata.items() if k != "encoder"})
            start = float(vin.start_time * vin.time_base) if vin.start_time is not None else 0.0
            shrink = SmallLuma(working_size(info.width, info.height))
            next_mark = 0  # the next timeline position, in TIMELINE_INTERVAL_MS steps
            step = TIMELINE_STEP_S

            def prepare(frame):
                """Runs in a worker thread, one frame ahead of the encoder: numpy and
                Pillow release the GIL, so marking overlaps x264's own threads."""
                if frame.format.name not in ("yuv420p", "yuvj420p"):
                    frame = frame.reformat(format="yuv420p")
                else:
                    frame.make_writable()
                frame.pict_type = PictureType.NONE  # let x264 choose frame types
                mark(luma_view(frame))
                return frame

            def finish(frame) -> None:
                nonlocal next_mark, count, last_time
                t = (frame.time or 0.0) - start
                while t >= next_mark * step - 1e-6:
                    # Fingerprinted exactly as the verifier sees frames (SmallLuma).
                    small = shrink(frame)
                    fp = fingerprint_luma(small)
                    first[:1] = first[:1] or [fp]
                    timeline.append(fp.hex)
                    cells.append(grid.regions(small).tobytes())
                    next_mark += 1
                for encoded in vout.encode(frame):
                    out.mux(encoded)
                count += 1
                last_time = t
                if progress and info.duration_s:
                    progress(min(1.0, t / info.duration_s))

            with ThreadPoolExecutor(max_workers=1) as worker:
                ahead = None
                for packet in source.demux(vin, *source.streams.audio):
                    if packet.stream.type == "audio":
                        if packet.dts is not None:
                            packet.stream = audio[packet.stream.index]
                            out.mux(packet)
                        continue
                    for frame in _decoded(packet):
                        job = worker.submit(prepare, frame)
                        if ahead is not None:
                            finish(ahead.result())
                        ahead = job
                if ahead is not None:
                    finish(ahead.result())
            for encoded in vout.encode():
                out.mux(encoded)
        finally:
            out.close()
    finally:
        source.close()
    if count == 0:
        raise BadInput("the video has no decodable frames")
    duration_ms = max(1, round((info.duration_s or last_time + 1 / float(info.frame_rate)) * 1000))
    regions = base64.urlsafe_b64encode(b"".join(cells)).rstrip(b"=").decode()
    return TranscodeStats(
        frames=count, duration_ms=duration_ms, timeline=tuple(timeline), regions=regions, first=first[0]
    )


def _decoded(packet):
    try:
        return packet.decode()
    except av.FFmpegError as exc:
        raise BadInput(f"the video is damaged or truncated ({exc})") from None


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
) -> SignResult:
    """Watermark a video, embed its Content Credentials (MP4 and MOV), and store the
    signed manifest, the published file and the C2PA sidecar; the file is written to
    dst (which the caller renames into place). `watermark_id` is tried first."""
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
            embedder = watermark.codec.Embedder(
                info.width, info.height, wm_id, psnr_db=watermark.codec.VIDEO_TARGET_PSNR_DB
            )
            stats = transcode(src, marked_path, info, settings, embedder.mark_luma, progress)
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
