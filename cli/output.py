"""Writing a signed file into place: the one way `realmark sign` does it, for one file or
a batch (cli/batch.py)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from realmark.errors import RealmarkError

# The temporary files being written now: what a batch worker told to stop at once removes
# before it exits without unwinding (cli/batch.py, _exit_now).
partial_files: set[Path] = set()


def sign_to(signer, source: Path, out: Path, title: str, artists: Sequence[str], progress=None):
    """Sign `source` into `out` with `signer` (a signer.Signer): written beside it first and
    renamed into place, so `out` is never half-written, and proved writable *before*
    anything is stored. Returns the SignResult."""
    if out.resolve() == source.resolve():
        raise RealmarkError("the output must not overwrite the input")
    # Named and registered before it exists, and made inside the block that removes it: a
    # batch worker told to stop (SystemExit raised at any bytecode, cli/batch.py) between
    # making the file and registering it left an empty ".part" behind (CI, 2026-12-07).
    tmp = out.parent / f".{out.name}.{secrets.token_hex(6)}.part"
    partial_files.add(tmp)
    try:
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.fchmod(fd, 0o644)  # a published file: readable like any other, whatever the umask
            os.close(fd)
        except OSError as exc:
            raise RealmarkError(f"{out}: cannot write there ({exc.strerror})") from None
        result = signer.sign(source, tmp, title=title, artists=artists, progress=progress)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):  # not made (the folder is a file, say): the first error says why
            tmp.unlink()
        raise
    finally:
        partial_files.discard(tmp)
    return result
