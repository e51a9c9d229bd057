"""Uploaded files: sniffed by content, spooled to a private temporary folder that is
always removed."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from realmark.errors import UnsupportedMedia
from realmark.media.image import sniff as sniff_photo
from realmark.media.video import sniff as sniff_video

CHUNK = 1 << 20


def kind_of(upload: UploadFile) -> str:
    """"photo" or "video", from the file's first bytes (never its name or declared type)."""
    head = upload.file.read(64)
    upload.file.seek(0)
    return kind(head)


def kind(head: bytes) -> str:
    """"photo" or "video", from a file's first 64 bytes; UnsupportedMedia otherwise."""
    if sniff_video(head):
        return "video"
    if sniff_photo(head):
        return "photo"
    raise UnsupportedMedia("not a supported photo or video: expected JPEG, PNG, WebP, MP4, MOV, WebM or Matroska content")


@contextmanager
def temp_folder():
    folder = Path(tempfile.mkdtemp(prefix="realmark-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save(upload: UploadFile, path: Path) -> Path:
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, CHUNK)
    return path
