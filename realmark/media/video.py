"""Videos in and out through PyAV (FFmpeg's libraries, bundled in the `av` wheel).

Why PyAV and not ffmpeg-python: signing must keep every frame's timestamp (variable
frame rates), copy audio packets untouched, and write each marked frame without pipes
or a second process; PyAV does all three in-process, and probes streams, which the
pip-installed ffmpeg binary (no ffprobe) cannot. ffmpeg-python only builds command lines.

Safety: FFmpeg can be talked into opening other files and URLs (HLS and DASH playlists,
concat lists, image sequences, MOV external data references). So the container is
sniffed from its magic bytes and only the MP4/MOV and Matroska/WebM demuxers are ever
used, with nested I/O limited to the local file and those demuxers, and external
references off."""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from realmark.errors import BadInput, UnsupportedMedia

from .formats import FORMATS, HEAD_BYTES, Kind, detect

MAX_FILE_BYTES = 4 * 1024**3
MAX_SIDE = 8192
MAX_DURATION_S = 4 * 3600
MIN_SHORT_SIDE = 96

# container (realmark.media.formats) -> (FFmpeg demuxer, FFmpeg muxer for signed output)
CONTAINERS = {
    "mp4": ("mov", "mp4"),
    "mov": ("mov", "mov"),
    "webm": ("matroska", "webm"),
    "mkv": ("matroska", "matroska"),
}

# Sound files (verified only; realmark.media.sound): container -> FFmpeg demuxer.
SOUND_DEMUXERS = {"m4a": "mov", "mp3": "mp3", "aac": "aac", "wav": "wav", "ogg": "ogg", "flac": "flac"}

_OPEN_OPTIONS = {
    "protocol_whitelist": "file",
    "format_whitelist": "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mp3,aac,wav,ogg,flac",
    "enable_drefs": "0",
    "use_absolute_path": "0",
}


@dataclass(frozen=True)
class VideoInfo:
    container: str
    width: int
    height: int
    frame_rate: Fraction
    duration_s: float
    rotation: int  # display rotation in degrees, from the first frame's display matrix

    @property
    def mime_type(self) -> str:
        return FORMATS[self.container].mime


def _open(path: Path, sound: bool = False):
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        raise BadInput(f"cannot read the video ({exc.strerror})") from None
    if size == 0:
        raise BadInput("the file is empty")
    if size > MAX_FILE_BYTES:
        raise BadInput(f"the file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes")
    media = detect(head)
    if not (media.is_video or (sound and media.kind is Kind.SOUND)):
        raise UnsupportedMedia(f"this is a {media.kind} file, not a video")
    kind = media.container
    demuxer = CONTAINERS[kind][0] if media.is_video else SOUND_DEMUXERS[kind]
    try:
        container = av.open(str(path), format=demuxer, options=dict(_OPEN_OPTIONS), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        # FFmpeg's message names the file's path; a user needs only the reason.
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise BadInput(f"the {kind.upper()} file is damaged or truncated ({reason})") from None
    return container, kind


def open_video(path: Path):
    """Open a video for reading, safely (see the module note). Raises BadInput."""
    return _open(path)[0]


def open_sound(path: Path):
    """Open a sound file, or a clip for its sound, as safely as a video. Raises BadInput."""
    return _open(path, sound=True)[0]


def open_checked(path: Path):
    """Open a video and check its streams in one go: (container, VideoInfo without
    rotation), the info None when the file holds no pictures (an MP4 or WebM may hold
    sound only). For reading only; signing uses probe(), which also decodes a frame."""
    container, kind = _open(path)
    try:
        return container, _probe(container, kind) if container.streams.video else None
    except BaseException:
        container.close()
        raise


def probe(path: Path) -> VideoInfo:
    """Check a video before any work is done on it; decodes its first frame."""
    container, kind = _open(path)
    with container:
        info = _probe(container, kind)
        first = next(frames(container, threads=False), None)
        if first is None:
            raise BadInput("the video has no decodable frames")
        rotation = int(first.rotation or 0) % 360
        if rotation not in (0, 90, 180, 270):
            raise BadInput(f"unsupported display rotation {rotation} degrees")
    return dataclasses.replace(info, rotation=rotation)


def _probe(container, kind: str) -> VideoInfo:
    if not container.streams.video:
        raise BadInput("the file has no video stream")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    width, height = ctx.width, ctx.height
    if not width or not height:
        raise BadInput("the video stream has no frame size (no decodable frames)")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise BadInput(f"the video is {width}x{height}; the limit is {MAX_SIDE} pixels a side")
    if min(width, height) < MIN_SHORT_SIDE:
        raise BadInput(f"the video is {width}x{height}; too small (short side under {MIN_SHORT_SIDE} px)")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0 or rate > 1000:
        raise BadInput("the video has no usable frame rate")
    duration = 0.0
    if stream.duration is not None and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    if duration > MAX_DURATION_S:
        raise BadInput(f"the video lasts {duration:.0f} s; the limit is {MAX_DURATION_S} s")
    return VideoInfo(
        container=kind,
        width=width,
        height=height,
        frame_rate=Fraction(rate),
        duration_s=duration,
        rotation=0,  # filled in by probe() from the first decoded frame
    )


def frames(container, *, threads: bool = True) -> Iterator[av.VideoFrame]:
    """Decode the first video stream, raising BadInput on corrupt data."""
    stream = container.streams.video[0]
    if threads:
        stream.thread_type = "AUTO"
    try:
        yield from container.decode(stream)
    except av.FFmpegError as exc:
        raise BadInput(
            f"the video is damaged or truncated ({getattr(exc, 'strerror', None) or type(exc).__name__})"
        ) from None


class Ahead:
    """Decode (and scale) frames in a background thread, up to `depth` ahead of the
    caller: FFmpeg decodes and swscale scales without Python's lock, so on two cores the
    next frames are decoded while this one is looked at. In the caller's thread the two
    took turns. At most `depth` + 2 full frames are held (queued, being handed over, with
    the caller): about 80 MB at 4K.

    Iterating gives (frame, shrink(frame)), once; errors raised while decoding (BadInput)
    are raised where the caller iterates. Use as a context manager: leaving it stops the
    thread before the container may be closed."""

    _END = object()

    def __init__(
        self, decoded: Generator[av.VideoFrame], shrink: Callable[[av.VideoFrame], np.ndarray], depth: int = 4
    ):
        self._decoded, self._shrink = decoded, shrink
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="realmark-decode", daemon=True)
        self._finished = False

    def __enter__(self) -> Ahead:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        while not self._queue.empty():  # frames decoded for nobody
            self._queue.get_nowait()

    def __iter__(self) -> Iterator[tuple[av.VideoFrame, np.ndarray]]:
        while not self._finished:
            item = self._queue.get()
            if item is Ahead._END or isinstance(item, BaseException):
                self._finished = True
                if item is Ahead._END:
                    return
                raise item
            yield item

    def _run(self) -> None:
        try:
            for frame in self._decoded:
                if not self._put((frame, self._shrink(frame))):
                    return
            self._put(Ahead._END)
        except BaseException as exc:  # handed to the caller's thread
            self._put(exc)
        finally:
            self._decoded.close()  # a generator is closed in the thread that runs it

    def _put(self, item) -> bool:
        """Queue an item unless the caller has left; whether it was queued."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


def luma_view(frame: av.VideoFrame) -> np.ndarray:
    """The frame's Y plane as a writable (height, width) uint8 view (8-bit YUV only)."""
    plane = frame.planes[0]
    return np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]


class SmallLuma:
    """Frames' luma scaled to one size (the watermark's working grid) by FFmpeg's swscale:
    how both signer and verifier look at frames for marks and fingerprints.

    One instance per clip: it keeps its swscale context, whose area-filter set-up cost
    about four times the scaling itself when frame.reformat() rebuilt it for every frame."""

    def __init__(self, size: tuple[int, int]):
        self.size = size
        self._scaler = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        width, height = self.size
        return self._scaler.reformat(
            frame, width=width, height=height, format="gray", interpolation="AREA"
        ).to_ndarray()
