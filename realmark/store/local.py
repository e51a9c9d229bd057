"""The embedded default store: a directory on the local disk."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from realmark.errors import StoreError
from realmark.files import durable_temp, sync_folder

from .base import check_key


class LocalStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_if_absent(self, key: str, data: bytes | Path) -> bool:
        path = self._path(key)
        try:
            tmp = durable_temp(path.parent, data)
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.root} ({exc.strerror})") from None
        try:
            # link() fails if the name exists: an atomic create-if-absent of a complete file.
            os.link(tmp, path)
            sync_folder(path.parent)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.root} ({exc.strerror})") from None
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read {key} from the store ({exc.strerror})") from None

    def get_to_file(self, key: str, dest: Path) -> bool:
        try:
            with open(self._path(key), "rb") as source, open(dest, "wb") as f:
                shutil.copyfileobj(source, f, 1 << 20)
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"cannot read {key} from the store ({exc.strerror})") from None

    def list(self, prefix: str) -> Iterator[str]:
        folder = self.root / prefix.rstrip("/") if prefix.endswith("/") else self.root
        if not folder.is_dir():
            return
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot delete {key} from the store ({exc.strerror})") from None
