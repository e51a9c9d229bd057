"""Dependencies the routers declare: the per-app state, the caller's agency, the rate limit."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from realmark.index import FingerprintIndex
from realmark.keys.tokens import agency_for_token
from realmark.settings import Settings
from realmark.store import Store

from .jobs import Jobs
from .limits import HeavyWork, RateLimit


@dataclass
class Services:
    """Everything a request may need, built once per app in create_app()."""

    settings: Settings
    store: Store
    heavy: HeavyWork
    verify_rate: RateLimit
    jobs: Jobs
    index: FingerprintIndex  # the appearance index, kept current by signing here and by syncing


def services(request: Request) -> Services:
    return request.app.state.services


def signing_agency(request: Request, svc: Services = Depends(services)) -> str:
    """The agency behind the request's bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not hmac.compare_digest(scheme.lower(), "bearer") or not token.strip():
        raise HTTPException(401, "an agency API token is required (Authorization: Bearer ...)", headers={"WWW-Authenticate": "Bearer"})
    agency = agency_for_token(svc.store, token.strip())
    if agency is None:
        raise HTTPException(401, "the API token is not valid", headers={"WWW-Authenticate": "Bearer"})
    return agency


def verify_rate_limit(request: Request, svc: Services = Depends(services)) -> None:
    svc.verify_rate.check(request.client.host if request.client else "unknown")


def public_url(request: Request, svc: Services, path: str) -> str:
    base = svc.settings.public_url or str(request.base_url).rstrip("/")
    return f"{base}{path}"
