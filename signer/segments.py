"""A clip signed in segments: cut at the source's key frames, each segment marked and
encoded on its own (in this process, in worker processes, or on other machines), then
joined with the source's untouched audio packets into one file.

Every clip goes this way; a short one, or one signed without helpers, is one segment.
Why a joined file is the file one pass would write, apart from x264's choices next to
the cuts:
- the mark has no state from frame to frame: a frame is marked the same in any segment;
- each segment takes exactly the frames whose timestamps fall in its range (a cut is a
  key frame's timestamp), so every frame is encoded once, with its own timestamp;
- timeline position k belongs to the first frame at or after k x TIMELINE_STEP_S, and a
  segment knows the time of the frame before its first one (`after_s`), so it takes
  exactly the positions a single pass would give its frames;
- every segment's encoder is opened with the same settings, so their parameter sets
  (SPS/PPS) are byte for byte the ones of the output stream; the join checks it.

A segment's result is its encoded packets in a small file of our own (timestamps kept as
integers: no container in between to round or shift them) and a JSON-able summary."""

from __future__ import annotations

import base64
import bisect
import json
import struct
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

from realmark.errors import BadInput, RealmarkError
from realmark.fingerprint import fingerprint_luma, grid
from realmark.manifest.model import TIMELINE_STEP_S
from realmark.media.video import CONTAINERS, SmallLuma, VideoInfo, luma_view, open_video
from realmark.watermark.codec import VIDEO_TARGET_PSNR_DB, Embedder, working_size

DEFAULT_CRF = 18  # visually lossless for H.264
DEFAULT_PRESET = "medium"  # x264's own default
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_EPS = 1e-6  # timestamps are compared in seconds; a frame exactly on a position takes it
_PACKET = struct.Struct("<qqBI")  # pts, dts, key frame, size; then the packet's bytes

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
class Cut:
    """One segment of a clip: the frames with start_pts <= pts < end_pts (stream time base;
    None: from the beginning, to the end). `after_s`: the time of the last frame before it."""

    index: int
    start_pts: int | None = None
    end_pts: int | None = None
    after_s: float | None = None


@dataclass(frozen=True)
class SegmentWork:
    """Everything a process needs to sign one segment, besides the source file."""

    info: VideoInfo
    encoder: EncoderSettings
    wm_id: int
    cut: Cut

    def to_json(self) -> str:
        data = asdict(self)
        data["info"]["frame_rate"] = str(self.info.frame_rate)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> SegmentWork:
        data = json.loads(text)
        data["info"]["frame_rate"] = Fraction(data["info"]["frame_rate"])
        return cls(
            info=VideoInfo(**data["info"]),
            encoder=EncoderSettings(**data["encoder"]),
            wm_id=data["wm_id"],
            cut=Cut(**data["cut"]),
        )


@dataclass(frozen=True)
class Segment:
    """A signed segment: its packets are in a file; this is the rest."""

    index: int
    frames: int
    last_s: float  # the time of its last frame (0 without frames)
    first_position: int  # the timeline position of timeline[0]
    timeline: tuple[str, ...]  # fingerprint hex of the frame at each of its positions
    first_quality: int  # the fingerprint quality of timeline[0] (0 without positions)
    cells: str  # base64 of the same frames' grid.regions, one after another
    extradata: str  # base64 of the encoder's parameter sets
    seconds: float  # how long it took

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Segment:
        data = json.loads(text)
        data["timeline"] = tuple(data["timeline"])
        return cls(**data)


class SegmentsDontJoin(RealmarkError):
    """The segments' streams cannot be put end to end (their encoders disagree, or a
    variable frame rate leaves no room for monotone decoding times): sign in one piece."""


def plan(src: Path, seconds: float, parts_wanted: int) -> list[Cut]:
    """Cut a clip at key frames into segments of at least `seconds` (about `parts_wanted`
    of them or more, for a long clip). Reads packets only, decoding nothing."""
    with open_video(src) as source:
        stream = source.streams.video[0]
        times, keys = [], []
        for packet in source.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's flush packet
            if packet.pts is None:
                return [Cut(0)]  # no timestamps to cut by
            times.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
        base = stream.time_base
        origin = stream.start_time or 0
    if not times or parts_wanted < 2:
        return [Cut(0)]
    times.sort()
    total = (times[-1] - times[0]) * base
    length = max(Fraction(seconds), total / parts_wanted)
    starts, last = [], times[0]
    for key in sorted(set(keys)):
        if (key - last) * base >= length and (times[-1] - key) * base >= length / 2:
            starts.append(key)
            last = key
    cuts = []
    for index, start in enumerate([None, *starts]):
        end = starts[index] if index < len(starts) else None
        before = None if start is None else times[bisect.bisect_left(times, start) - 1]
        cuts.append(Cut(index, start, end, None if before is None else _seconds(before, origin, base)))
    return cuts


def _seconds(pts: int, origin: int, base: Fraction) -> float:
    """A frame's time from the stream's start, the same way for every segment."""
    return float((pts - origin) * base)


def encoder_for(info: VideoInfo, settings: EncoderSettings, threads: int = 0) -> av.CodecContext:
    """The H.264 encoder every segment uses, set up as a muxer's stream sets it up (time
    base 1/frame rate, global headers), so its parameter sets are the output stream's."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = info.width, info.height, "yuv420p"
    ctx.framerate = info.frame_rate
    ctx.time_base = 1 / Fraction(info.frame_rate)
    ctx.flags |= av.codec.context.Flags.global_header
    ctx.options = {"crf": str(settings.crf), "preset": settings.preset}
    if threads:
        ctx.thread_count = threads
    return ctx


def sign_segment(src: Path, work: SegmentWork, packets: Path, progress: Progress | None = None) -> Segment:
    """Mark and encode one segment's frames of src, writing its packets to `packets`."""
    try:
        return _sign_segment(src, work, packets, progress, seek=True)
    except _Overshot:
        # The container's index put the seek past the cut: decode from the start instead.
        return _sign_segment(src, work, packets, progress, seek=False)


class _Overshot(Exception):
    pass


def _sign_segment(src: Path, work: SegmentWork, packets: Path, progress: Progress | None, seek: bool) -> Segment:
    began = time.monotonic()
    info, cut = work.info, work.cut
    embedder = Embedder(info.width, info.height, work.wm_id, psnr_db=VIDEO_TARGET_PSNR_DB)
    shrink = SmallLuma(working_size(info.width, info.height))
    encoder = encoder_for(info, work.encoder)
    timeline: list[str] = []
    cells: list[bytes] = []
    count, last_s, first_quality = 0, 0.0, 0
    position = _first_position(cut.after_s)
    first_position = position
    with open_video(src) as source, open(packets, "wb") as sink:
        stream = source.streams.video[0]
        # Frame-threaded decoding, as the ffmpeg command does: on a core x264 leaves idle
        # for a moment, the next frames are already being decoded.
        stream.thread_type = "AUTO"
        base, origin = stream.time_base, stream.start_time or 0
        span = info.duration_s or 0.0
        if seek and cut.start_pts is not None:
            source.seek(cut.start_pts, stream=stream, backward=True)

        def prepare(frame):
            """Runs in a worker thread, one frame ahead of the encoder: numpy and Pillow
            release the GIL, so marking overlaps x264's own threads."""
            if frame.format.name not in ("yuv420p", "yuvj420p"):
                frame = frame.reformat(format="yuv420p")
            else:
                frame.make_writable()
            frame.pict_type = PictureType.NONE  # let x264 choose frame types
            embedder.mark_luma(luma_view(frame))
            return frame

        def finish(frame) -> None:
            nonlocal position, count, last_s, first_quality
            t = _seconds(frame.pts, origin, base) if frame.pts is not None else last_s
            while t >= position * TIMELINE_STEP_S - _EPS:
                # Fingerprinted exactly as the verifier sees frames (SmallLuma).
                small = shrink(frame)
                fingerprint = fingerprint_luma(small)
                if not timeline:
                    first_quality = fingerprint.quality
                timeline.append(fingerprint.hex)
                cells.append(grid.regions(small).tobytes())
                position += 1
            _write(sink, encoder.encode(frame))
            count += 1
            last_s = t
            if progress and span:
                progress(min(1.0, t / span))

        with ThreadPoolExecutor(max_workers=1) as helper:
            ahead = None
            for frame in _frames_of(source, stream, cut, sought=seek and cut.start_pts is not None):
                job = helper.submit(prepare, frame)
                if ahead is not None:
                    finish(ahead.result())
                ahead = job
            if ahead is not None:
                finish(ahead.result())
        _write(sink, encoder.encode(None))
    return Segment(
        index=cut.index,
        frames=count,
        last_s=last_s,
        first_position=first_position,
        timeline=tuple(timeline),
        first_quality=first_quality,
        cells=base64.b64encode(b"".join(cells)).decode(),
        extradata=base64.b64encode(encoder.extradata or b"").decode(),
        seconds=time.monotonic() - began,
    )


def _first_position(after_s: float | None) -> int:
    """The first timeline position whose frame comes after `after_s`."""
    if after_s is None:
        return 0
    position = int(after_s // TIMELINE_STEP_S)
    while position * TIMELINE_STEP_S - _EPS <= after_s:
        position += 1
    return position


def _frames_of(source, stream, cut: Cut, sought: bool) -> Iterator[av.VideoFrame]:
    """The frames of one segment, in presentation order. After a seek, the first frame
    must be the cut's key frame; if the container's index put the seek past it, _Overshot."""
    first = True
    for packet in source.demux(stream):
        try:
            decoded = packet.decode()
        except av.FFmpegError as exc:
            raise BadInput(f"the video is damaged or truncated ({exc})") from None
        for frame in decoded:
            if cut.start_pts is not None and frame.pts is not None:
                if frame.pts < cut.start_pts:
                    continue  # before the cut: the previous segment's
                if first and sought and frame.pts != cut.start_pts:
                    raise _Overshot()
            if cut.end_pts is not None and frame.pts is not None and frame.pts >= cut.end_pts:
                return
            first = False
            yield frame


def _write(sink, packets) -> None:
    for packet in packets:
        data = bytes(packet)
        sink.write(_PACKET.pack(packet.pts, packet.dts, packet.is_keyframe, len(data)))
        sink.write(data)


def _read(path: Path) -> Iterator[tuple[int, int, bool, bytes]]:
    with open(path, "rb") as f:
        while head := f.read(_PACKET.size):
            if len(head) < _PACKET.size:
                raise RealmarkError(f"segment file {path.name} is truncated")
            pts, dts, key, size = _PACKET.unpack(head)
            data = f.read(size)
            if len(data) < size:
                raise RealmarkError(f"segment file {path.name} is truncated")
            yield pts, dts, bool(key), data


def output_container(info: VideoInfo) -> str:
    """The signed file's container. H.264 is not allowed in WebM, so WebM becomes Matroska."""
    return "mkv" if info.container == "webm" else info.container


def join(src: Path, parts: list[tuple[Segment, Path]], dst: Path, info: VideoInfo, settings: EncoderSettings) -> None:
    """Write dst: the segments' video packets end to end, the source's audio packets byte
    for byte, the source's stream and container metadata and its display rotation."""
    tick = 1 / Fraction(info.frame_rate)  # the encoders' time base
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
            out.start_encoding()
            sounds = _audio_packets(source) if audio else iter(())
            pending = next(sounds, None)
            previous_dts = None
            for segment, path in parts:
                if base64.b64decode(segment.extradata) != (vout.codec_context.extradata or b""):
                    raise SegmentsDontJoin("a segment's encoder parameters differ from the output stream's")
                for pts, dts, key, data in _read(path):
                    if previous_dts is not None and dts <= previous_dts:
                        if previous_dts + 1 > pts:
                            raise SegmentsDontJoin("the segments' decoding times overlap at a cut")
                        dts = previous_dts + 1  # x264 starts each segment's clock a little early
                    previous_dts = dts
                    now = dts * tick
                    while pending is not None and pending.dts * pending.time_base <= now:
                        pending.stream = audio[pending.stream.index]
                        out.mux(pending)
                        pending = next(sounds, None)
                    packet = av.Packet(data)
                    packet.pts, packet.dts, packet.time_base = pts, dts, tick
                    packet.is_keyframe = key
                    packet.stream = vout
                    out.mux(packet)
            while pending is not None:
                pending.stream = audio[pending.stream.index]
                out.mux(pending)
                pending = next(sounds, None)
        finally:
            out.close()
    finally:
        source.close()


def _audio_packets(source) -> Iterator[av.Packet]:
    for packet in source.demux(*source.streams.audio):
        if packet.dts is not None:
            yield packet
