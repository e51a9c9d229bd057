from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from realmark.errors import StoreError

# Keys are relative paths of safe segments: no "..", no absolute paths, no odd bytes.
_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}(/[a-z0-9][a-z0-9._-]{0,127}){0,4}")


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key) or ".." in key:
        raise StoreError(f"invalid store key {key!r}")
    return key


class Store(Protocol):
    """A flat namespace of immutable objects."""

    def put_if_absent(self, key: str, data: bytes | Path) -> bool:
        """Write data (bytes, or a file's content, streamed) under key unless the key
        exists. True if written, False if it existed."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is none."""

    def get_to_file(self, key: str, dest: Path) -> bool:
        """Copy the object into the file dest (streamed); False if there is none."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys that start with prefix (a folder such as "manifests/"), in no set order."""

    def delete(self, key: str) -> None:
        """Remove the object if it is there. Only for scratch objects (a job's upload under
        uploads/, its segments under segments/, stale answers under cache/, what a killed
        signing attempt left under attempts/): records are never deleted."""
