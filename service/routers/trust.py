"""GET /.well-known/realmark/trust.json: agencies' public keys, validity, revocations."""

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..deps import Services, services

router = APIRouter(tags=["trust"])


@router.get("/.well-known/realmark/trust.json", summary="The trust list, for verifying offline")
def trust_list(svc: Services = Depends(services)):
    return Response(svc.settings.trust().to_json(), media_type="application/json", headers={"Cache-Control": "public, max-age=300"})
