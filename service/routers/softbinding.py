"""The C2PA Soft Binding Resolution API: from a watermark (or the content itself) back
to the Content Credentials of the official file.

A C2PA client that finds no manifest in a file (platforms strip metadata) reads the
watermark, asks `GET /matches/byBinding?alg=...&value=...`, then fetches the manifest
with `GET /manifests/{manifestId}`. Clients that cannot read the watermark upload the
file to `POST /matches/byContent`, which runs the verifier. Only manifests whose Realmark
record verifies under the trust list are ever returned as matches."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from realmark.credentials import SOFT_BINDING_ALG, parse_binding_value
from realmark.errors import UnsupportedMedia
from realmark.manifest.model import C2PA_LABEL
from realmark.media.image import sniff as sniff_photo
from realmark.media.video import sniff as sniff_video
from realmark.store import Records
from verifier import Verdict, verify, verify_video
from verifier.manifests import trusted_manifest

from ..deps import Services, public_url, services, verify_rate_limit
from ..uploads import CHUNK, temp_folder

router = APIRouter(tags=["C2PA soft binding resolution"])
FINGERPRINT_ALG = "org.realmark.pdq.1"  # realmark-pdq-1 (PDQ-style) under a soft-binding name
MAX_RESULTS = 100
# How sure a match is, 0-100, by the verdict it came from: a decoded watermark (its
# 40-bit check makes a wrong id a 1-in-10^11 event) or appearance alone.
_SCORE = {Verdict.AUTHENTIC: 100, Verdict.ALTERED: 100, Verdict.LIKELY_AUTHENTIC: 80}


def _match(request: Request, svc: Services, label: str, score: int) -> dict:
    return {"manifestId": label, "similarityScore": score, "endpoint": public_url(request, svc, "")}


@router.get("/services/supportedAlgorithms", summary="Soft binding algorithms this service resolves")
def supported_algorithms():
    return {"watermarks": [{"alg": SOFT_BINDING_ALG}], "fingerprints": [{"alg": FINGERPRINT_ALG}]}


@router.get("/matches/byBinding", summary="Manifests whose soft binding has this value (a watermark id read from a copy)")
def by_binding(
    request: Request,
    alg: str = Query(..., max_length=100),
    value: str = Query(..., max_length=100, description="base64 of the 6-byte watermark id"),
    max_results: int = Query(10, alias="maxResults", ge=1, le=MAX_RESULTS),
    svc: Services = Depends(services),
):
    if alg != SOFT_BINDING_ALG:
        raise HTTPException(400, f"unsupported soft binding algorithm {alg!r}; see /services/supportedAlgorithms")
    wm_id = parse_binding_value(value)
    manifest_id = Records(svc.store).manifest_id_for_watermark(wm_id)
    manifest = trusted_manifest(manifest_id, svc.store, svc.settings.trust()) if manifest_id else None
    if manifest is None or manifest.c2pa_label is None or manifest.watermark_id != f"{wm_id:012x}":
        return {"matches": []}
    return {"matches": [_match(request, svc, manifest.c2pa_label, 100)][:max_results]}


@router.post(
    "/matches/byContent",
    summary="Manifests of the official file this photo or clip is a copy of",
    description="The body is the file itself (JPEG, PNG, WebP, MP4, MOV, WebM, MKV). The verifier reads its watermark, or looks it up by appearance.",
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def by_content(
    request: Request,
    alg: str | None = Query(None, max_length=100),
    max_results: int = Query(10, alias="maxResults", ge=1, le=MAX_RESULTS),
    svc: Services = Depends(services),
):
    if alg not in (None, SOFT_BINDING_ALG, FINGERPRINT_ALG):
        raise HTTPException(400, f"unsupported soft binding algorithm {alg!r}; see /services/supportedAlgorithms")
    index = None if alg == SOFT_BINDING_ALG else svc.index  # the watermark alone, when asked for
    trust = svc.settings.trust()
    with temp_folder() as folder:
        path = folder / "upload"
        with open(path, "wb") as out:  # the body limit middleware stops oversized bodies
            async for chunk in request.stream():
                out.write(chunk)
        with open(path, "rb") as f:
            head = f.read(64)
        with svc.heavy.slot():
            if sniff_video(head):
                result = await run_in_threadpool(verify_video, path, store=svc.store, trust=trust, index=index)
            elif sniff_photo(head):
                result = await run_in_threadpool(verify, path.read_bytes(), store=svc.store, trust=trust, index=index)
            else:
                raise UnsupportedMedia("not a supported photo or video: expected JPEG, PNG, WebP, MP4, MOV, WebM or Matroska content")
    found = result.manifest or {}
    label = (found.get("c2pa") or {}).get("manifest")
    if result.verdict not in _SCORE or label is None:
        return {"matches": []}
    return {"matches": [_match(request, svc, label, _SCORE[result.verdict])][:max_results]}


@router.get(
    "/manifests/{manifest_id}",
    summary="A C2PA manifest store, by its id (urn:c2pa:...)",
    response_class=Response,
    responses={200: {"content": {"application/c2pa": {}}}, 404: {}},
)
def c2pa_manifest(manifest_id: str, svc: Services = Depends(services)):
    if not C2PA_LABEL.fullmatch(manifest_id):
        raise HTTPException(404, "no such C2PA manifest")
    data = Records(svc.store).c2pa_bytes(manifest_id)
    if data is None:
        raise HTTPException(404, "no such C2PA manifest")
    return Response(data, media_type="application/c2pa", headers={"Cache-Control": "public, max-age=31536000, immutable"})
