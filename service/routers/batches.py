"""POST /v1/batches: an agency's release of many photos and clips as one job with a status
per file; GET /v1/batches/{id}: that status. Each file is signed as its own job (any
free worker, the same crash safety as POST /v1/sign); the batch lists them."""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile as StarletteUpload

from realmark.errors import BadInput, UnsupportedMedia
from realmark.media import Kind
from signer.details import output_name, read_rows

from ..deps import AgencyDep, ServicesDep
from ..jobs.table import KEEP_SECONDS
from ..uploads import media_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["sign"])

# A release is 50-500 files; past this a client sends several batches. The whole request
# stays within REALMARK_MAX_UPLOAD_MB.
MAX_FILES = 500
MAX_METADATA_BYTES = 1024 * 1024


@router.post(
    "/batches",
    summary="Sign a release of many photos and clips as one job",
    description=(
        f"Multipart form: `file` once per photo or clip (up to {MAX_FILES}; each named by its "
        "file name), and either `title` and `artist` (repeat for each artist) for all of them, "
        "or `metadata`: a CSV file (columns file, title, artist; artists separated by ';') or JSON "
        'lines ({"file", "title", "artists"}) with a row per file. Every file and row is checked '
        "before anything is accepted: one bad file refuses the batch (400, 415 or 422, naming it). "
        "Answers 202 with the batch's status URL; each file is a job run by whichever worker is free."
    ),
    responses={202: {"description": "batch accepted"}, 401: {}, 403: {}, 413: {}, 415: {}, 422: {}, 503: {}},
)
async def sign_batch(request: Request, token_agency: AgencyDep, svc: ServicesDep):
    form = await request.form(max_files=MAX_FILES + 1)
    files = form.getlist("file")
    if not files or not all(isinstance(f, StarletteUpload) and f.filename for f in files):
        raise HTTPException(422, "the request needs one or more named files (multipart form field file)")
    if len(files) > MAX_FILES:
        raise HTTPException(422, f"a batch holds at most {MAX_FILES} files; send the rest in another batch")
    agency = form.get("agency")
    if agency is not None and agency != token_agency:
        raise HTTPException(403, f"this token signs for {token_agency}, not for {agency}")
    names = [output_name(PurePosixPath(f.filename.replace("\\", "/")).name) for f in files]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise HTTPException(422, f"two files of the batch have the same name: {', '.join(twice[:5])}")
    for name, file in zip(names, files, strict=True):
        try:
            kind = media_of(file).kind
        except UnsupportedMedia as exc:
            raise UnsupportedMedia(f"{name}: {exc}") from None
        if kind not in (Kind.PHOTO, Kind.VIDEO):
            raise UnsupportedMedia(f"{name}: only photos and videos are signed")
    details = await _details(form, names)
    with temp_folder() as folder:
        spooled = []
        for number, (name, file) in enumerate(zip(names, files, strict=True)):
            path = await run_in_threadpool(save, file, folder / f"{number}")
            spooled.append((name, *details[name], path))
        batch = await run_in_threadpool(svc.jobs.submit_batch, token_agency, spooled)
    body = batch.public() | {"status_url": svc.public_url(request, f"/v1/batches/{batch.id}")}
    return JSONResponse(status_code=202, content=body)


async def _details(form, names: list[str]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each file's (title, artists): one pair for all, or the metadata file's rows."""
    title, artists, metadata = form.get("title"), form.getlist("artist"), form.get("metadata")
    if isinstance(metadata, StarletteUpload):
        if title is not None or artists:
            raise HTTPException(422, "give either a metadata file or title and artist, not both")
        raw = await metadata.read(MAX_METADATA_BYTES + 1)
        if len(raw) > MAX_METADATA_BYTES:
            raise HTTPException(413, f"the metadata file is over {MAX_METADATA_BYTES // 1024} KB")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInput("the metadata file is not UTF-8 text") from None
        where = metadata.filename or "metadata"
        rows = read_rows(text, jsonl=where.lower().endswith((".jsonl", ".ndjson", ".json")), where=where)
        missing = [name for name in names if name not in rows]
        if missing:
            raise BadInput(f"the metadata file has no row for {', '.join(missing[:5])}")
        return rows
    if not isinstance(title, str) or not artists or not all(isinstance(a, str) for a in artists):
        raise HTTPException(422, "give title and artist for all files, or a metadata file with a row per file")
    return dict.fromkeys(names, (title, tuple(artists)))


@router.get(
    "/batches/{batch_id}",
    summary="Progress of a batch, file by file",
    description=(
        "`status` is queued, running or done (every file ended: see `done` and `failed`); "
        "`progress` 0..1; `items` one per file, as GET /v1/jobs/{id} shows a job, with its "
        f"`download` once signed. Kept {KEEP_SECONDS // 3600} hours after its last file ended."
    ),
)
async def batch_status(batch_id: str, request: Request, svc: ServicesDep):
    batch = (
        await run_in_threadpool(svc.jobs.get_batch, batch_id) if len(batch_id) == 32 and batch_id.isalnum() else None
    )
    if batch is None:
        raise HTTPException(404, f"no such batch (batches are kept {KEEP_SECONDS // 3600} hours after they end)")
    out = batch.public()
    for item in out["items"]:
        if item.get("manifest_id"):
            item["download"] = svc.public_url(request, f"/v1/files/{item['manifest_id']}")
    return out
