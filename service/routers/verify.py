"""POST /v1/verify: anyone uploads a photo or clip and gets the verdict JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.concurrency import run_in_threadpool

from verifier import verify, verify_video

from ..deps import Services, services, verify_rate_limit
from ..uploads import kind_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["verify"])


@router.post(
    "/verify",
    summary="Is this photo or clip official?",
    description="The same verdict JSON as `realmark verify --json`: verdict, message, manifest, evidence.",
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def verify_upload(file: UploadFile = File(...), svc: Services = Depends(services)):
    trust = svc.settings.trust()
    if kind_of(file) == "photo":
        with svc.heavy.slot():
            data = await file.read()
            result = await run_in_threadpool(verify, data, store=svc.store, trust=trust, index=svc.index)
        return result.to_dict()
    with temp_folder() as folder:
        path = await run_in_threadpool(save, file, folder / "upload")
        with svc.heavy.slot():
            result = await run_in_threadpool(verify_video, path, store=svc.store, trust=trust, index=svc.index)
    return result.to_dict()
