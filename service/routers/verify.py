"""POST /v1/verify: anyone uploads a photo, clip or sound file and gets the verdict JSON,
with a signed receipt (realmark.receipts) whose permalink is /r/<id>.

A repeated upload is answered from the verify cache (service/cache.py) without taking a
heavy-work slot; `X-Realmark-Cache: hit` or `miss` says which. Each answer, cached or
not, gets its own receipt: it records when this request was checked. An answer that
finds an altered or forged copy of an agency's asset is counted as a finding for that
agency (service/findings). The upload is kept only when its submitter asks
(`keep_upload`), for REALMARK_EVIDENCE_DAYS."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from realmark.errors import JobsUnavailable, RealmarkError
from realmark.media import Kind, sha256_file
from verifier.wording import in_language

from ..deps import LanguageDep, Services, ServicesDep, verify_rate_limit
from ..findings import evidence, finding_of
from ..uploads import media_of, save, temp_folder

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["verify"])
NDJSON = "application/x-ndjson"
PROGRESS_POLL_SECONDS = 0.25


@router.post(
    "/verify",
    summary="Is this photo, clip or sound official?",
    description=(
        "The same verdict JSON as `realmark verify --json`: verdict, reasons, message, manifest, evidence, and a "
        "signed `receipt`. The upload is not kept unless `keep_upload` is true."
    ),
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def verify_upload(
    request: Request,
    svc: ServicesDep,
    lang: LanguageDep,
    file: UploadFile = File(...),
    keep_upload: Annotated[
        bool, Form(description="keep my upload as evidence (for the agency's report), for a stated time")
    ] = False,
):
    cache = svc.verify_cache
    photo = media_of(file).kind is Kind.PHOTO
    # `Accept: application/x-ndjson`: progress lines ({"progress": 0.42}) while a clip is
    # verified, then the answer as the last line (the page's verification bar).
    streaming = "application/x-ndjson" in request.headers.get("accept", "")
    cleanup = ExitStack()
    try:

        def lookup():  # one trip to a thread: read, hash, look up, and answer from the cache
            svc.deployment.receipts.key()  # made before the trust list's version is read (it adds itself there)
            trust_version = svc.deployment.trust.version
            if photo:
                source = file.file.read()
                digest, size = hashlib.sha256(source).hexdigest(), len(source)
            else:  # clips and sound are spooled to disk before they take a slot
                source = save(file, cleanup.enter_context(temp_folder()) / "upload")
                digest, size = sha256_file(source), source.stat().st_size
            upload = _Upload(source, digest, size, trust_version, keep_upload)
            key = cache.key(digest)
            cached = cache.get(key)
            return upload, key, None if cached is None else _answered(svc, json.loads(cached), upload, lang)

        upload, key, body = await run_in_threadpool(lookup)
        if body is not None:
            return _response(body, "hit", streaming)
        await svc.heavy.acquire()  # 503 past the queue's bound, before any answer starts
        slot = cleanup.enter_context(ExitStack())
        slot.callback(svc.heavy.release)

        def keep(result) -> bytes:
            fresh = result.to_dict()
            cache.put(key, json.dumps(fresh, ensure_ascii=False).encode())
            return _answered(svc, fresh, upload, lang)

        if streaming:  # the slot and the upload's folder go with the stream, freed when it ends
            lines = _with_progress(svc, upload, keep, cleanup.pop_all())
            return StreamingResponse(lines, media_type=NDJSON, headers={"X-Realmark-Cache": "miss"})
        result = await run_in_threadpool(svc.verifier.verify, upload.source)
        slot.close()  # the slot is for verifying: the next upload's starts while this answer is kept
        return _response(await run_in_threadpool(keep, result), "miss")
    finally:
        cleanup.close()


async def _with_progress(svc: Services, upload: _Upload, keep, cleanup: ExitStack) -> AsyncIterator[bytes]:
    """Progress lines while verifying, then the answer; an input that turns out bad ends
    the stream with {"error"} (its status was sent before it was known)."""
    with cleanup:
        loop = asyncio.get_running_loop()
        reports: asyncio.Queue[float] = asyncio.Queue()

        def progress(fraction: float) -> None:
            loop.call_soon_threadsafe(reports.put_nowait, fraction)

        work = asyncio.ensure_future(run_in_threadpool(svc.verifier.verify, upload.source, progress=progress))
        sent = -1.0
        while not work.done():
            try:
                fraction = await asyncio.wait_for(reports.get(), PROGRESS_POLL_SECONDS)
            except TimeoutError:
                continue
            if fraction - sent >= 0.01:
                sent = fraction
                yield json.dumps({"progress": round(fraction, 3)}).encode() + b"\n"
        try:
            result = work.result()
        except RealmarkError as exc:
            yield json.dumps({"error": str(exc)}, ensure_ascii=False).encode() + b"\n"
            return
        yield await run_in_threadpool(keep, result) + b"\n"


@dataclass(frozen=True)
class _Upload:
    source: bytes | Path  # a photo's bytes, or the spooled clip
    sha256: str
    size: int
    trust_version: str  # the trust list's, read before verifying: what the receipt cites
    keep: bool  # its submitter asked to keep it as evidence


def _answered(svc: Services, answer: dict, upload: _Upload, lang: str) -> bytes:
    """The answer told in lang, with its own receipt; the upload kept if asked; a finding
    counted if it is one."""
    settings = svc.deployment.settings
    told = in_language(answer, lang)
    kept_until = upload_key = None
    if upload.keep:
        kept_until, upload_key = evidence.keep(
            svc.deployment.store, upload.source, upload.sha256, settings.evidence_days
        )
    receipt = svc.deployment.receipts.issue(told, upload.sha256, upload.size, upload.trust_version, kept_until)
    finding = finding_of(told, receipt.to_dict(), upload_key)
    if finding is not None:
        try:
            svc.findings.record(finding)
        except JobsUnavailable as exc:  # the broker is down: the fan still gets the answer
            log.warning("finding not counted: %s", exc)
    return json.dumps({**told, "receipt": receipt.to_dict()}, ensure_ascii=False).encode()


def _response(body: bytes, cache: str, streaming: bool = False) -> Response:
    if streaming:  # one line: the answer
        return Response(body + b"\n", media_type=NDJSON, headers={"X-Realmark-Cache": cache})
    return Response(body, media_type="application/json", headers={"X-Realmark-Cache": cache})
