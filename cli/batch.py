"""`realmark sign` on many files at once: a publishing workflow's release of 50-500 photos
and clips (issue 15).

The inputs are files and folders (a folder's signable files, in its subfolders too). Each
is signed to the same relative path under `--out-dir` (a WebM becomes Matroska: H.264 is
not allowed in WebM), with one `--title` and `--artist` for all or a metadata file with a
row per file. Files are signed in parallel by worker processes, one per core by default.

A file that fails is reported and the batch goes on. Run again after an interruption and
what was signed is not signed again: signing is idempotent (the same input and key find
their stored manifest, and the published file is copied back from the store).

In distributed mode (REALMARK_BROKER_URL) the batch goes to the job engine instead, as
`POST /v1/batches` sends it: each file a job that whichever worker is free signs, and
each signed file copied from the store into place as its job ends (`run_on_workers`)."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from realmark.errors import RealmarkError
from signer.details import output_name, read_rows

from .output import partial_files, sign_to

SIGNABLE = {".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov", ".m4v", ".webm", ".mkv"}


@dataclass(frozen=True)
class Item:
    source: Path
    name: str  # the path under the output folder, and the metadata file's key
    title: str
    artists: tuple[str, ...]


def items(paths: Iterable[str], title: str | None, artists: list[str] | None, metadata: str | None) -> list[Item]:
    """What to sign, with its details. Raises RealmarkError for a batch that cannot start
    (nothing to sign, details missing or given twice, two files to one output)."""
    if metadata is not None and (title is not None or artists):
        raise RealmarkError("give either --metadata or --title and --artist, not both")
    if metadata is None and (title is None or not artists):
        raise RealmarkError("a batch needs --title and --artist for all its files, or --metadata with a row per file")
    found = list(_inputs(paths))
    if not found:
        raise RealmarkError("no photos or videos to sign there")
    counts = Counter(name for _, name in found)
    twice = sorted(name for name, n in counts.items() if n > 1)
    if twice:
        raise RealmarkError(f"two inputs would be written to the same output: {', '.join(twice[:5])}")
    rows = _metadata(Path(metadata)) if metadata is not None else {}
    out = []
    for source, name in found:
        if metadata is None:
            out.append(Item(source, name, title, tuple(artists)))
        elif name in rows:
            out.append(Item(source, name, *rows[name]))
        else:
            raise RealmarkError(f"the metadata file has no row for {name}")
    return out


def _inputs(paths: Iterable[str]) -> Iterator[tuple[Path, str]]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                if found.is_file() and not hidden and found.suffix.lower() in SIGNABLE:
                    yield found, output_name(relative.as_posix())
        elif path.is_file():
            yield path, output_name(path.name)
        else:
            raise RealmarkError(f"{given}: no such file or folder")


def _metadata(path: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RealmarkError(f"{path}: cannot read the metadata file ({exc})") from None
    return read_rows(text, jsonl=path.suffix.lower() in (".jsonl", ".ndjson", ".json"), where=str(path))


# --- signing, in worker processes --------------------------------------------------------

_signer = None  # each worker's Signer, made once by _start


def _start(settings, agency: str | None, encoder) -> None:
    global _signer
    from realmark.deployment import Deployment
    from signer import Signer

    stop_on_terminate()
    deployment = Deployment(settings)
    _signer = Signer(deployment.store, deployment.keyring.signing_key(agency), encoder=encoder)


def stop_on_terminate() -> None:
    """Stopped by the batch (Ctrl-C, or a failure of the batch itself), a worker unwinds
    like an interrupted `realmark sign`: its half-written output is removed."""
    signal.signal(signal.SIGTERM, _stop)
    sys.unraisablehook = _quiet_about_a_dropped_stop


# How long a stopped worker may take to unwind before it is ended at once. Unwinding takes
# milliseconds; the grace only has to outlast a slow disk removing a large partial file.
STOP_GRACE_S = 5


def _stop(signum, frame) -> None:
    # The exit raised here unwinds through sign_to, which removes the half-written output.
    # But raised while c2pa is calling back into Python (its stream callbacks are ctypes
    # callbacks), it is printed and dropped: the worker would sign on, then wait for more
    # work, and the batch's pool.terminate() wait for it forever (CI, stop 26). So an alarm
    # ends the worker after the grace in any case.
    signal.signal(signal.SIGALRM, _exit_now)
    signal.alarm(STOP_GRACE_S)
    raise SystemExit(1)


def _quiet_about_a_dropped_stop(unraisable) -> None:
    # A dropped stop is handled by the alarm: not a traceback on the batch's terminal.
    if not isinstance(unraisable.exc_value, SystemExit):
        sys.__unraisablehook__(unraisable)


def _exit_now(signum, frame) -> None:
    for partial in list(partial_files):
        partial.unlink(missing_ok=True)
    os._exit(1)


def _sign_one(task: tuple[Item, Path]) -> dict:
    item, out_dir = task
    output = out_dir / item.name
    line = {"file": str(item.source), "output": str(output)}
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        result = sign_to(_signer, item.source, output, item.title, item.artists)
    except RealmarkError as exc:
        return line | {"ok": False, "error": str(exc)}
    except OSError as exc:
        return line | {"ok": False, "error": f"{output}: {exc.strerror}"}
    except Exception as exc:  # one file's bug must not end the batch; reported like any failure
        return line | {"ok": False, "error": f"unexpected {type(exc).__name__}: {exc}"}
    return line | {"ok": True, "manifest_id": result.manifest.manifest_id, "created": result.created}


def run(batch: list[Item], out_dir: Path, *, settings, agency, encoder, jobs: int, progress, emit) -> int:
    """Sign every item, `jobs` at a time; emit(line) per file as it ends. Returns the
    number of files that failed. Interrupted, the workers are stopped (each removes what
    it was writing) and the interruption goes on up."""
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = done = 0
    # Spawned, not forked: a worker starts clean of the caller's threads and open files.
    # Spawned ignoring Ctrl-C (Python keeps an inherited "ignore"): this process takes the
    # interrupt and stops the workers, so each unwinds once, quietly.
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = get_context("spawn").Pool(max(1, min(jobs, len(batch))), _start, (settings, agency, encoder))
    finally:
        signal.signal(signal.SIGINT, interrupt)
    try:
        for line in pool.imap_unordered(_sign_one, [(item, out_dir) for item in batch]):
            failed += not line["ok"]
            done += 1
            emit(line)
            progress(done / len(batch))
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return failed


def run_on_workers(batch: list[Item], out_dir: Path, *, deployment, agency, progress, emit) -> int:
    """Distributed mode: sign every item on the workers; emit(line) per file as it ends.
    Returns the number of files that failed. Interrupted, the jobs go on on the workers
    (they are durable), and running the same command again finishes the batch."""
    import time

    from realmark.manifest import parse_manifest
    from realmark.store import Records
    from service.jobs import JobEngine

    out_dir.mkdir(parents=True, exist_ok=True)
    engine = JobEngine(deployment, threads=0)
    records = Records(deployment.store)
    failed = 0
    try:
        files = [(item.name, item.title, item.artists, item.source) for item in batch]
        accepted = engine.submit_batch(deployment.keyring.signing_key(agency).agency, files)
        pending = {job_id: item for item, (_, job_id, _) in zip(batch, accepted.items, strict=True)}
        while pending:
            time.sleep(0.5)
            now = engine.get_batch(accepted.id)
            for _, job_id, job in now.items if now is not None else ():
                item = pending.get(job_id)
                if item is None or (job is not None and not job.ended):
                    continue
                del pending[job_id]
                output = out_dir / item.name
                line = {"file": str(item.source), "output": str(output)}
                if job is None or job.manifest_id is None:
                    failed += 1
                    emit(line | {"ok": False, "error": job.error if job is not None else "the job expired"})
                else:
                    manifest = parse_manifest(records.manifest_bytes(job.manifest_id))
                    _fetch(records, manifest, output)
                    emit(line | {"ok": True, "manifest_id": job.manifest_id})
                progress(1 - len(pending) / len(batch))
    finally:
        engine.close()
    return failed


def _fetch(records, manifest, output: Path) -> None:
    """The published file of a manifest, from the store into place: written beside it and
    renamed, as realmark.files writes, so `output` is never half-written."""
    import os
    import tempfile

    from realmark.files import PUBLIC_FILE_MODE, sync_folder

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    os.close(fd)
    try:
        if not records.published_to_file(manifest.manifest_id, manifest.media.sha256, Path(tmp)):
            raise RealmarkError(f"the published file of {manifest.manifest_id} is missing from the store")
        os.chmod(tmp, PUBLIC_FILE_MODE)
        os.replace(tmp, output)
        sync_folder(output.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def describe(line: dict) -> str:
    if not line["ok"]:
        return f"FAILED {line['file']}: {line['error']}"
    again = "" if line.get("created", True) else " (already signed; same manifest)"
    return f"{line['manifest_id']}  {line['output']}{again}"


def print_line(as_json: bool):
    def emit(line: dict) -> None:
        print(json.dumps(line, ensure_ascii=False) if as_json else describe(line), flush=True)

    return emit
