"""Durable file writes: a reader sees the old file or the new one, never a part, and a
new name survives a power cut (the data and the folder are fsynced)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PUBLIC_FILE_MODE = 0o644


def sync_folder(folder: Path) -> None:
    """fsync a directory, so a new name in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_temp(folder: Path, data: bytes | Path) -> Path:
    """Write data (bytes, or a file's content) to a new temporary file in folder and
    fsync it; the caller moves it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        os.fchmod(fd, PUBLIC_FILE_MODE)  # mkstemp makes 0600; stored objects are public data
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, Path):
                with open(data, "rb") as source:
                    shutil.copyfileobj(source, f, 1 << 20)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path with data so that readers see the old or the new file, never a part."""
    tmp = durable_temp(path.parent, data)
    try:
        os.replace(tmp, path)
        sync_folder(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
