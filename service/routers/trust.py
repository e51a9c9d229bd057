"""GET /.well-known/realmark/trust.json: agencies' public keys, validity, revocations, and
the deployment's C2PA root; GET /.well-known/realmark/c2pa-root.pem: that root alone,
the trust anchor C2PA tools take (e.g. c2patool's --trust_anchors)."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ..deps import ServicesDep

router = APIRouter(tags=["trust"])


@router.get("/.well-known/realmark/trust.json", summary="The trust list, for verifying offline")
def trust_list(svc: ServicesDep):
    body = svc.deployment.trust.to_json()
    return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})


@router.get("/.well-known/realmark/c2pa-root.pem", summary="The C2PA trust anchor of this deployment (PEM)")
def c2pa_root(svc: ServicesDep):
    root = svc.deployment.trust.c2pa_root
    if not root:
        raise HTTPException(404, "no agency key here yet, so no C2PA root")
    return Response(root, media_type="application/x-pem-file", headers={"Cache-Control": "public, max-age=300"})
