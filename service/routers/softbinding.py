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

from realmark.credentials import FINGERPRINT_ALG, SOFT_BINDING_ALG, parse_binding_value, parse_fingerprint_value
from realmark.manifest.model import C2PA_LABEL
from realmark.store import Records
from verifier import Verdict, verify, verify_video
from verifier.manifests import trusted_manifest

from ..deps import Services, public_url, services, verify_rate_limit
from ..uploads import kind, temp_folder

router = APIRouter(tags=["C2PA soft binding resolution"])
MAX_RESULTS = 100


def _score(distance: int) -> int:
    """similarityScore, 0-100: 100 for a watermark id read exactly (its 40-bit check makes
    a wrong id a 1-in-10^11 event), else from the fingerprint distance, where unrelated
    pictures sit near 128 of 256 bits and matches are within 31."""
    return max(0, round(100 * (1 - distance / 128)))


def _match(request: Request, svc: Services, label: str, score: int) -> dict:
    return {"manifestId": label, "similarityScore": score, "endpoint": public_url(request, svc, "")}


@router.get("/services/supportedAlgorithms", summary="Soft binding algorithms this service resolves")
def supported_algorithms():
    return {"watermarks": [{"alg": SOFT_BINDING_ALG}], "fingerprints": [{"alg": FINGERPRINT_ALG}]}


@router.get("/matches/byBinding", summary="Manifests whose soft binding has this value (a watermark id read from a copy)")
def by_binding(
    request: Request,
    alg: str = Query(..., max_length=100),
    value: str = Query(..., max_length=100, description="base64: the 6-byte watermark id, or the 32-byte fingerprint"),
    max_results: int = Query(10, alias="maxResults", ge=1, le=MAX_RESULTS),
    svc: Services = Depends(services),
):
    trust = svc.settings.trust()
    if alg == FINGERPRINT_ALG:  # nearest signed assets by appearance, each manifest once
        matches, seen = [], set()
        for found in svc.index.search([parse_fingerprint_value(value)]):
            manifest = trusted_manifest(found.manifest_id, svc.store, trust) if found.manifest_id not in seen else None
            seen.add(found.manifest_id)
            if manifest is not None and manifest.c2pa_label:
                matches.append(_match(request, svc, manifest.c2pa_label, _score(found.distance)))
        return {"matches": matches[:max_results]}
    if alg != SOFT_BINDING_ALG:
        raise HTTPException(400, f"unsupported soft binding algorithm {alg!r}; see /services/supportedAlgorithms")
    wm_id = parse_binding_value(value)
    manifest_id = Records(svc.store).manifest_id_for_watermark(wm_id)
    manifest = trusted_manifest(manifest_id, svc.store, trust) if manifest_id else None
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
            video = kind(f.read(64)) == "video"
        with svc.heavy.slot():
            if video:
                result = await run_in_threadpool(verify_video, path, store=svc.store, trust=trust, index=index)
            else:
                result = await run_in_threadpool(verify, path.read_bytes(), store=svc.store, trust=trust, index=index)
    found = result.manifest or {}
    label = (found.get("c2pa") or {}).get("manifest")
    if result.verdict not in (Verdict.AUTHENTIC, Verdict.ALTERED, Verdict.LIKELY_AUTHENTIC) or label is None:
        return {"matches": []}  # unknown, or a record that fails verification
    # An altered copy still matches: the binding (its watermark) is exact; the verdict on
    # its content is /v1/verify's to give.
    by_appearance = not result.evidence["watermark"].get("found") and "distance" in (result.evidence.get("appearance") or {})
    score = _score(result.evidence["appearance"]["distance"]) if by_appearance else 100
    return {"matches": [_match(request, svc, label, score)][:max_results]}


@router.get(
    "/manifests/{manifest_id}",
    summary="A C2PA manifest store, by its id (urn:c2pa:...)",
    response_class=Response,
    responses={200: {"content": {"application/c2pa": {}}}, 400: {}, 404: {}},
)
def c2pa_manifest(
    manifest_id: str,
    return_active_manifest: bool = Query(False, alias="returnActiveManifest", description="accepted; every stored manifest store has the signed file's manifest as its active one"),
    svc: Services = Depends(services),
):
    if not C2PA_LABEL.fullmatch(manifest_id):
        raise HTTPException(400, "a manifest id looks like urn:c2pa:<uuid>")
    data = Records(svc.store).c2pa_bytes(manifest_id)
    if data is None:
        raise HTTPException(404, "no such C2PA manifest")
    return Response(data, media_type="application/c2pa", headers={"Cache-Control": "public, max-age=31536000, immutable"})
