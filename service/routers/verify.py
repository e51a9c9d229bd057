"""POST /v1/verify: anyone uploads a photo, clip or sound file and gets the verdict JSON.

A repeated upload is answered from the verify cache (service/cache.py) without taking a
heavy-work slot; `X-Realmark-Cache: hit` or `miss` says which."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from realmark.media import Kind, sha256_file

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
    cache = svc.verify_cache
    photo = media_of(file).kind is Kind.PHOTO
    with temp_folder() as folder:

        def lookup():  # one trip to a thread: read, hash, look up
            if photo:
                source = file.file.read()
                digest = hashlib.sha256(source).hexdigest()
            else:  # clips and sound are spooled to disk before they take a slot
                source = save(file, folder / "upload")
                digest = sha256_file(source)
            key = cache.key(digest)
            return source, key, cache.get(key)

        source, key, answer = await run_in_threadpool(lookup)
        if answer is not None:
            return _answer(answer, "hit")
        async with svc.heavy.slot():
            result = await run_in_threadpool(svc.verifier.verify, source)
    answer = json.dumps(result.to_dict(), ensure_ascii=False).encode()
    await run_in_threadpool(cache.put, key, answer)
    return _answer(answer, "miss")


def _answer(body: bytes, cache: str) -> Response:
    return Response(body, media_type="application/json", headers={"X-Realmark-Cache": cache})
