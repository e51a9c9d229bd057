"""POST /v1/verify: anyone uploads a photo, clip or sound file and gets the verdict JSON,
with a signed receipt (realmark.receipts) whose permalink is /r/<id>.

A repeated upload is answered from the verify cache (service/cache.py) without taking a
heavy-work slot; `X-Realmark-Cache: hit` or `miss` says which. Each answer, cached or
not, gets its own receipt: it records when this request was checked."""

from __future__ import annotations

import hashlib
import json

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from realmark.media import Kind, sha256_file
from verifier.wording import in_language

from ..deps import LanguageDep, ServicesDep, verify_rate_limit
from ..uploads import media_of, save, temp_folder

router = APIRouter(prefix="/v1", tags=["verify"])


@router.post(
    "/verify",
    summary="Is this photo, clip or sound official?",
    description="The same verdict JSON as `realmark verify --json`: verdict, reasons, message, manifest, evidence.",
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def verify_upload(svc: ServicesDep, lang: LanguageDep, file: UploadFile = File(...)):
    cache, receipts = svc.verify_cache, svc.deployment.receipts
    photo = media_of(file).kind is Kind.PHOTO

    def _with_receipt(answer: dict, checked) -> bytes:  # the answer told in lang, with its own receipt
        told = in_language(answer, lang)
        receipt = receipts.issue(told, *checked)
        return json.dumps({**told, "receipt": receipt.to_dict()}, ensure_ascii=False).encode()

    with temp_folder() as folder:

        def lookup():  # one trip to a thread: read, hash, look up, and answer from the cache
            receipts.key()  # made before the trust list's version is read (making it adds it there)
            trust_version = svc.deployment.trust.version
            if photo:
                source = file.file.read()
                digest, size = hashlib.sha256(source).hexdigest(), len(source)
            else:  # clips and sound are spooled to disk before they take a slot
                source = save(file, folder / "upload")
                digest, size = sha256_file(source), source.stat().st_size
            key = cache.key(digest)
            checked = (digest, size, trust_version)
            cached = cache.get(key)
            return source, checked, key, None if cached is None else _with_receipt(json.loads(cached), checked)

        source, checked, key, answer = await run_in_threadpool(lookup)
        if answer is not None:
            return _answer(answer, "hit")
        async with svc.heavy.slot():
            result = await run_in_threadpool(svc.verifier.verify, source)

    def keep() -> bytes:
        fresh = result.to_dict()
        cache.put(key, json.dumps(fresh, ensure_ascii=False).encode())
        return _with_receipt(fresh, checked)

    return _answer(await run_in_threadpool(keep), "miss")


def _answer(body: bytes, cache: str) -> Response:
    return Response(body, media_type="application/json", headers={"X-Realmark-Cache": cache})
