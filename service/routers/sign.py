"""POST /v1/sign: agencies sign photos (answered at once) and videos (background jobs)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile as StarletteUpload

from realmark.media import Kind

from ..deps import AgencyDep, ServicesDep
from ..uploads import media_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["sign"])


@router.post(
    "/sign",
    summary="Sign and watermark an official photo or video",
    description=(
        "Multipart form: `file` (JPEG, PNG, WebP, MP4, MOV, WebM or MKV), `title`, `artist` "
        "(repeat for each artist), optional `agency` (must be the token's own). The token is "
        "checked before the upload is read. Photos answer 200 at once; videos 202 with a job "
        "that any instance reports on, run by whichever worker is free (503 when too many wait)."
    ),
    responses={
        200: {"description": "photo signed"},
        202: {"description": "video accepted as a job"},
        401: {},
        403: {},
        413: {},
        415: {},
        422: {},
        503: {},
    },
)
async def sign_upload(request: Request, token_agency: AgencyDep, svc: ServicesDep):
    # The form is parsed here, after the token was checked, so an unauthenticated client
    # cannot make the service receive and spool an upload.
    form = await request.form()
    file, title, artists, agency = form.get("file"), form.get("title"), form.getlist("artist"), form.get("agency")
    if (
        not isinstance(file, StarletteUpload)
        or not isinstance(title, str)
        or not artists
        or not all(isinstance(a, str) for a in artists)
    ):
        raise HTTPException(
            422, "the request needs a file, a title and at least one artist (multipart form fields file, title, artist)"
        )
    if agency is not None and agency != token_agency:
        raise HTTPException(403, f"this token signs for {token_agency}, not for {agency}")
    signer = svc.signer(token_agency)
    if media_of(file).kind is Kind.PHOTO:
        async with svc.heavy.slot():
            data = await file.read()
            result = await run_in_threadpool(signer.sign, data, title=title, artists=artists)
        m = result.manifest
        return {
            "manifest_id": m.manifest_id,
            "created": result.created,
            "download": svc.public_url(request, f"/v1/files/{m.manifest_id}"),
            "manifest": m.to_dict(),
        }

    # A video becomes a job: its upload is spooled here, then handed to the shared store.
    with temp_folder() as folder:
        source = await run_in_threadpool(save, file, folder / "upload")
        job = await run_in_threadpool(svc.jobs.submit, token_agency, title, artists, source)
    return JSONResponse(
        status_code=202,
        content={"job_id": job.id, "status": job.status, "status_url": svc.public_url(request, f"/v1/jobs/{job.id}")},
    )
