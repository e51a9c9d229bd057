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
    if media_of(file).kind is Kind.PHOTO:

        def lookup():  # one trip to a thread: read, hash, look up
            data = file.file.read()
            key = cache.key(hashlib.sha256(data).hexdigest())
            return data, key, cache.get(key)

        data, key, answer = await run_in_threadpool(lookup)
        if answer is not None:
            return _answer(answer, "hit")
        async with svc.heavy.slot():
            result = await run_in_threadpool(svc.verifier.verify, data)
    else:
        with temp_folder() as folder:  # clips and sound are spooled before they take a slot

            def lookup():
                path = save(file, folder / "upload")
                key = cache.key(sha256_file(path))
                return path, key, cache.get(key)

            path, key, answer = await run_in_threadpool(lookup)
            if answer is not None:
                return _answer(answer, "hit")
            async with svc.heavy.slot():
                result = await run_in_threadpool(svc.verifier.verify, path)
    answer = json.dumps(result.to_dict(), ensure_ascii=False).encode()
    await run_in_threadpool(cache.put, key, answer)
    return _answer(answer, "miss")


def _answer(body: bytes, cache: str) -> Response:
    return Response(body, media_type="application/json", headers={"X-Realmark-Cache": cache})
