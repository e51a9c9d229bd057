"""POST /v1/verify: anyone uploads a photo or clip and gets the verdict JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from ..deps import ServicesDep, verify_rate_limit
from ..uploads import media_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["verify"])


@router.post(
    "/verify",
    summary="Is this photo or clip official?",
    description="The same verdict JSON as `realmark verify --json`: verdict, reasons, message, manifest, evidence.",
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def verify_upload(svc: ServicesDep, file: UploadFile = File(...)):
    if not media_of(file).is_video:
        with svc.heavy.slot():
            data = await file.read()
            result = await run_in_threadpool(svc.verifier.verify, data)
        return result.to_dict()
    with temp_folder() as folder:  # clips are spooled before they take a slot
        path = await run_in_threadpool(save, file, folder / "upload")
        with svc.heavy.slot():
            result = await run_in_threadpool(svc.verifier.verify, path)
    return result.to_dict()
