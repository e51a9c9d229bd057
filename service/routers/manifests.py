"""GET /v1/manifests/{id} and /v1/files/{id}: signed manifests and signed files, public."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from realmark.errors import InvalidManifest
from realmark.manifest import parse_manifest
from realmark.store import Records

from ..deps import Services, ServicesDep

router = APIRouter(prefix="/v1", tags=["manifests"])
_ID = re.compile(r"rm-[a-z2-7]{24}")


def _manifest_bytes(svc: Services, manifest_id: str) -> bytes:
    data = Records(svc.deployment.store).manifest_bytes(manifest_id) if _ID.fullmatch(manifest_id) else None
    if data is None:
        raise HTTPException(404, "no such manifest")
    return data


@router.get("/manifests/{manifest_id}", summary="A signed manifest (canonical JSON, verifiable offline)")
def get_manifest(manifest_id: str, svc: ServicesDep):
    return Response(
        _manifest_bytes(svc, manifest_id),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/files/{manifest_id}", summary="The signed, watermarked file of a manifest")
def get_file(manifest_id: str, svc: ServicesDep):
    data = _manifest_bytes(svc, manifest_id)
    try:
        manifest = parse_manifest(data)
    except InvalidManifest:
        raise HTTPException(404, "no such file") from None
    media = manifest.media
    content = Records(svc.deployment.store).published_bytes(manifest.manifest_id, media.sha256)
    if content is None:
        raise HTTPException(404, "the signed file is not kept here")
    return Response(content, media_type=media.type, headers={"Cache-Control": "public, max-age=31536000, immutable"})
