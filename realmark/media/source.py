"""Sources: a photo or clip given as a path, bytes or a stream, opened one way.

Photos are decoded from bytes (Pillow) and clips from a file (FFmpeg demuxes files), so
`open_source` hands each pipeline what it reads: the bytes of a photo, or a path to a
clip (bytes and streams of a clip are spooled to a private temporary file, always
removed). Limits are checked before anything is read in full."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from realmark.errors import BadInput

from .formats import HEAD_BYTES, Media, detect
from .image import MAX_FILE_BYTES as MAX_PHOTO_BYTES
from .video import MAX_FILE_BYTES as MAX_VIDEO_BYTES

Source = Path | str | bytes | bytearray | memoryview | BinaryIO
CHUNK = 1 << 20


@dataclass(frozen=True)
class Opened:
    media: Media
    data: bytes | None = None  # photos: the whole file
    path: Path | None = None  # clips: the file on disk

    def stream(self) -> BinaryIO:
        """The file's bytes from the start (the caller closes it)."""
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


def _limit(media: Media) -> int:
    return MAX_VIDEO_BYTES if media.from_file else MAX_PHOTO_BYTES


@contextmanager
def open_source(source: Source) -> Iterator[Opened]:
    """Detect the media of a source and open it for its pipeline. Raises BadInput (or
    UnsupportedMedia) for a missing, empty, oversized or unsupported file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise BadInput("the file is empty")
        media = detect(data)
        if len(data) > _limit(media):
            raise BadInput(f"the file is {len(data)} bytes; the limit is {_limit(media)} bytes")
        if not media.from_file:
            yield Opened(media, data=data)
            return
        source = io.BytesIO(data)
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = path.name  # messages name the file, never where it lives (a server's temp folder)
        try:
            size = path.stat().st_size if path.is_file() else None
            if size is None:
                raise BadInput(f"{name}: no such file")
            with open(path, "rb") as f:
                head = f.read(HEAD_BYTES)
        except OSError as exc:
            raise BadInput(f"{name}: cannot read ({exc.strerror})") from None
        if size == 0:
            raise BadInput(f"{name}: the file is empty")
        media = detect(head)
        if size > _limit(media):
            raise BadInput(f"{name}: the file is larger than the {_limit(media)}-byte limit")
        if media.from_file:
            yield Opened(media, path=path)
            return
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"{name}: cannot read ({exc.strerror})") from None
        yield Opened(media, data=data)
        return
    if not hasattr(source, "read"):
        raise BadInput("expected a photo or clip as a path, bytes or a binary stream")
    head = _read(source, HEAD_BYTES)
    if not head:
        raise BadInput("the file is empty")
    media = detect(head)
    limit = _limit(media)
    if not media.from_file:
        data = head + _read(source, limit + 1 - len(head))
        if len(data) > limit:
            raise BadInput(f"the file is larger than the {limit}-byte limit")
        yield Opened(media, data=data)
        return
    with spooled(head, source, limit) as path:
        yield Opened(media, path=path)


def _read(stream: BinaryIO, size: int) -> bytes:
    """Up to size bytes: as many reads as it takes (raw streams may return fewer)."""
    parts, got = [], 0
    while got < size:
        block = stream.read(min(size - got, CHUNK))
        if not isinstance(block, bytes):
            raise BadInput("expected a binary stream")
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


@contextmanager
def spooled(head: bytes, stream: BinaryIO, limit: int) -> Iterator[Path]:
    """The bytes of head + stream in a private temporary file, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="realmark-"))
    try:
        path = folder / "upload"
        with open(path, "wb") as out:
            out.write(head)
            written = len(head)
            for block in iter(lambda: stream.read(CHUNK), b""):
                written += len(block)
                if written > limit:
                    raise BadInput(f"the file is larger than the {limit}-byte limit")
                out.write(block)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
