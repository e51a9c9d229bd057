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
from realmark.fingerprint import UNRELATED_DISTANCE
from realmark.manifest.model import C2PA_LABEL
from realmark.store import Records
from verifier import Verdict, Verifier
from verifier.evidence import ClipMatch, PhotoMatch

from ..deps import Services, ServicesDep, verify_rate_limit
from ..uploads import temp_folder

router = APIRouter(tags=["C2PA soft binding resolution"])
MAX_RESULTS = 100
EXACT_SCORE = 100  # a watermark id read exactly: its 40-bit check makes a wrong id a 1-in-10^11 event


def _score(distance: int) -> int:
    """similarityScore, 0-100, from a fingerprint distance: 100 identical, 0 as far apart
    as unrelated pictures are (matches are within MATCH_DISTANCE)."""
    return max(0, round(EXACT_SCORE * (1 - distance / UNRELATED_DISTANCE)))


def _match(request: Request, svc: Services, label: str, score: int) -> dict:
    return {"manifestId": label, "similarityScore": score, "endpoint": svc.public_url(request, "")}


@router.get("/services/supportedAlgorithms", summary="Soft binding algorithms this service resolves")
def supported_algorithms():
    return {"watermarks": [{"alg": SOFT_BINDING_ALG}], "fingerprints": [{"alg": FINGERPRINT_ALG}]}


@router.get(
    "/matches/byBinding", summary="Manifests whose soft binding has this value (a watermark id read from a copy)"
)
def by_binding(
    request: Request,
    svc: ServicesDep,
    alg: str = Query(..., max_length=100),
    value: str = Query(..., max_length=100, description="base64: the 6-byte watermark id, or the 32-byte fingerprint"),
    max_results: int = Query(10, alias="maxResults", ge=1, le=MAX_RESULTS),
):
    verifier = svc.verifier
    if alg == FINGERPRINT_ALG:  # nearest signed assets by appearance, each manifest once
        matches, seen = [], set()
        for found in svc.deployment.index.search([parse_fingerprint_value(value)]):
            manifest = verifier.trusted_manifest(found.manifest_id) if found.manifest_id not in seen else None
            seen.add(found.manifest_id)
            if manifest is not None and manifest.c2pa_label:
                matches.append(_match(request, svc, manifest.c2pa_label, _score(found.distance)))
        return {"matches": matches[:max_results]}
    if alg != SOFT_BINDING_ALG:
        raise HTTPException(400, f"unsupported soft binding algorithm {alg!r}; see /services/supportedAlgorithms")
    manifest = verifier.manifest_for_mark(parse_binding_value(value))
    if manifest is None or manifest.c2pa_label is None:
        return {"matches": []}
    return {"matches": [_match(request, svc, manifest.c2pa_label, EXACT_SCORE)][:max_results]}


@router.post(
    "/matches/byContent",
    summary="Manifests of the official file this photo or clip is a copy of",
    description=(
        "The body is the file itself (JPEG, PNG, WebP, AVIF, HEIC, MP4, MOV, WebM, MKV). The verifier reads its "
        "watermark, or looks it up by appearance."
    ),
    dependencies=[Depends(verify_rate_limit)],
    responses={400: {}, 413: {}, 415: {}, 429: {}, 503: {}},
)
async def by_content(
    request: Request,
    svc: ServicesDep,
    alg: str | None = Query(None, max_length=100),
    max_results: int = Query(10, alias="maxResults", ge=1, le=MAX_RESULTS),
):
    if alg not in (None, SOFT_BINDING_ALG, FINGERPRINT_ALG):
        raise HTTPException(400, f"unsupported soft binding algorithm {alg!r}; see /services/supportedAlgorithms")
    d = svc.deployment
    # The watermark alone, when asked for: a verifier without the appearance index.
    verifier = Verifier(d.store, d.trust) if alg == SOFT_BINDING_ALG else svc.verifier
    with temp_folder() as folder:
        path = folder / "upload"
        with open(path, "wb") as out:  # the body limit middleware stops oversized bodies
            async for chunk in request.stream():
                out.write(chunk)
        async with svc.heavy.slot():
            result = await run_in_threadpool(verifier.verify, path)
    label = result.manifest.c2pa_label if result.manifest else None
    if result.verdict not in (Verdict.AUTHENTIC, Verdict.ALTERED, Verdict.LIKELY_AUTHENTIC) or label is None:
        return {"matches": []}  # unknown, or a record that fails verification
    # An altered copy still matches: the binding (its watermark) is exact; the verdict on
    # its content is /v1/verify's to give.
    appearance = result.evidence.appearance.match if result.evidence.appearance else None
    if isinstance(appearance, PhotoMatch):
        score = _score(appearance.distance)
    elif isinstance(appearance, ClipMatch):
        score = _score(appearance.median_distance)
    else:
        score = EXACT_SCORE
    return {"matches": [_match(request, svc, label, score)][:max_results]}


@router.get(
    "/manifests/{manifest_id}",
    summary="A C2PA manifest store, by its id (urn:c2pa:...)",
    response_class=Response,
    responses={200: {"content": {"application/c2pa": {}}}, 400: {}, 404: {}},
)
def c2pa_manifest(
    manifest_id: str,
    svc: ServicesDep,
    return_active_manifest: bool = Query(
        False,
        alias="returnActiveManifest",
        description="accepted; every stored manifest store has the signed file's manifest as its active one",
    ),
):
    if not C2PA_LABEL.fullmatch(manifest_id):
        raise HTTPException(400, "a manifest id looks like urn:c2pa:<uuid>")
    data = Records(svc.deployment.store).c2pa_bytes(manifest_id)
    if data is None:
        raise HTTPException(404, "no such C2PA manifest")
    return Response(
        data, media_type="application/c2pa", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
