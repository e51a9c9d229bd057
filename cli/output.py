"""Writing a signed file into place: the one way `realmark sign` does it, for one file or
a batch (cli/batch.py)."""

from __future__ import annotations

import os
import tempfile
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
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent if str(out.parent) else ".", prefix=f".{out.name}.", suffix=".part")
        os.fchmod(fd, 0o644)  # a published file: readable like any other
        os.close(fd)
    except OSError as exc:
        raise RealmarkError(f"{out}: cannot write there ({exc.strerror})") from None
    partial_files.add(Path(tmp))
    try:
        result = signer.sign(source, Path(tmp), title=title, artists=artists, progress=progress)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        partial_files.discard(Path(tmp))
    return result
