"""POST /v1/sign: agencies sign photos (answered at once) and videos (background jobs)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from realmark.store import Records
from signer import sign, sign_video

from ..deps import Services, public_url, services, signing_agency
from ..uploads import kind_of, save

router = APIRouter(prefix="/v1", tags=["sign"])


@router.post(
    "/sign",
    summary="Sign and watermark an official photo or video",
    responses={200: {"description": "photo signed"}, 202: {"description": "video accepted as a job"}, 401: {}, 403: {}, 413: {}, 415: {}, 503: {}},
)
async def sign_upload(
    request: Request,
    file: UploadFile = File(..., description="JPEG, PNG, WebP, MP4, MOV, WebM or MKV"),
    title: str = Form(...),
    artist: list[str] = Form(..., description="repeat the field for each artist"),
    agency: str | None = Form(None, description="optional; must be the token's own agency"),
    token_agency: str = Depends(signing_agency),
    svc: Services = Depends(services),
):
    if agency is not None and agency != token_agency:
        raise HTTPException(403, f"this token signs for {token_agency}, not for {agency}")
    key = svc.settings.keyring().signing_key(token_agency)
    if kind_of(file) == "photo":
        data = await file.read()
        with svc.heavy.slot():
            result = await run_in_threadpool(sign, data, title=title, artists=artist, key=key, store=svc.store)
        Records(svc.store).put_published(result.manifest.manifest_id, result.data)
        m = result.manifest
        return {"manifest_id": m.manifest_id, "created": result.created, "download": public_url(request, svc, f"/v1/files/{m.manifest_id}"), "manifest": m.to_dict()}

    folder = Path(tempfile.mkdtemp(prefix="realmark-job-"))
    try:
        source = await run_in_threadpool(save, file, folder / "upload")
        svc.heavy.acquire()  # held by the job until it ends; 503 now if saturated
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    def work(job) -> None:
        try:
            out = folder / "signed"
            result = sign_video(source, out, title=title, artists=artist, key=key, store=svc.store, progress=lambda f: setattr(job, "progress", min(f, 0.99)))
            Records(svc.store).put_published(result.manifest.manifest_id, out.read_bytes())
            job.manifest_id = result.manifest.manifest_id
            job.download = public_url(request, svc, f"/v1/files/{job.manifest_id}")
        finally:
            svc.heavy.release()
            shutil.rmtree(folder, ignore_errors=True)

    job = svc.jobs.submit(work)
    return JSONResponse(status_code=202, content={"job_id": job.id, "status": job.status, "status_url": public_url(request, svc, f"/v1/jobs/{job.id}")})
