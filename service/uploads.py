"""Uploaded files: what they are (realmark.media's one detection, from their first bytes,
never their name or declared type), and spooling them to a private temporary folder
that is always removed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from realmark.media import Media, detect
from realmark.media.formats import HEAD_BYTES

CHUNK = 1 << 20


def media_of(upload: UploadFile) -> Media:
    """The upload's media; UnsupportedMedia (415) for anything else."""
    head = upload.file.read(HEAD_BYTES)
    upload.file.seek(0)
    return detect(head)


@contextmanager
def temp_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="realmark-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save(upload: UploadFile, path: Path) -> Path:
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, CHUNK)
    return path
