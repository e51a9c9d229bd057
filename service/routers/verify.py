"""POST /v1/verify: anyone uploads a photo, clip or sound file and gets the verdict JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from realmark.media import Kind

from ..deps import ServicesDep, verify_rate_limit
from ..uploads import media_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["verify"])


@router.post(
    "/verify",
    summary="Is this photo, clip or sound official?",
    description="The same verdict JSON as `realmark verify --json`: verdict, reasons, message, manifest, evidence.",
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def verify_upload(svc: ServicesDep, file: UploadFile = File(...)):
    if media_of(file).kind is Kind.PHOTO:
        async with svc.heavy.slot():
            data = await file.read()
            result = await run_in_threadpool(svc.verifier.verify, data)
        return result.to_dict()
    with temp_folder() as folder:  # clips and sound are spooled before they take a slot
        path = await run_in_threadpool(save, file, folder / "upload")
        async with svc.heavy.slot():
            result = await run_in_threadpool(svc.verifier.verify, path)
    return result.to_dict()
