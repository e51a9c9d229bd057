"""What routers are handed: the app's services (built once in create_app), the caller's
agency, the rate limit. Routers declare them through the Annotated aliases below."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from realmark.deployment import Deployment
from realmark.keys.tokens import agency_for_token
from signer import Signer
from verifier import Verifier
from verifier.wording import DEFAULT_LANGUAGE, LANGUAGES, best_language

from .cache import VerifyCache
from .findings import FindingBook
from .jobs import JobEngine
from .limits import HeavyWork, RateLimit


@dataclass
class Services:
    """Everything a request may need, built once per app in create_app()."""

    deployment: Deployment  # settings, store, keyring, the followed trust list, the index
    verifier: Verifier
    verify_cache: VerifyCache
    heavy: HeavyWork
    verify_rate: RateLimit
    jobs: JobEngine
    findings: FindingBook

    def signer(self, agency: str) -> Signer:
        """A Signer with the agency's current key; it keeps this app's index current."""
        d = self.deployment
        return Signer(d.store, d.keyring.signing_key(agency), d.index)

    def public_url(self, request: Request, path: str) -> str:
        base = self.deployment.settings.public_url or str(request.base_url).rstrip("/")
        return f"{base}{path}"


def services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(services)]


def signing_agency(request: Request, svc: ServicesDep) -> str:
    """The agency behind the request's bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not hmac.compare_digest(scheme.lower(), "bearer") or not token.strip():
        raise HTTPException(
            401, "an agency API token is required (Authorization: Bearer ...)", headers={"WWW-Authenticate": "Bearer"}
        )
    agency = agency_for_token(svc.deployment.store, token.strip())
    if agency is None:
        raise HTTPException(401, "the API token is not valid", headers={"WWW-Authenticate": "Bearer"})
    return agency


AgencyDep = Annotated[str, Depends(signing_agency)]


def findings_agency(
    request: Request,
    svc: ServicesDep,
    agency: Annotated[str | None, Query(description="must be the token's own agency")] = None,
) -> str:
    """The agency whose findings the caller may read: its own, by its token. Anyone else
    (no token, a bad one, another agency's) is refused with 403: findings name fakes
    being checked, which is the agency's business alone."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    owner = agency_for_token(svc.deployment.store, token.strip()) if scheme.lower() == "bearer" and token else None
    if owner is None:
        raise HTTPException(403, "findings are shown only to their agency: send its API token (Authorization: Bearer)")
    if agency is not None and agency != owner:
        raise HTTPException(403, f"this token is {owner}'s; it cannot read the findings of {agency}")
    return owner


FindingsAgencyDep = Annotated[str, Depends(findings_agency)]


def verify_rate_limit(request: Request, svc: ServicesDep) -> None:
    svc.verify_rate.check(request.client.host if request.client else "unknown")


def language(
    lang: Annotated[str | None, Query(description=f"the sentence's language: one of {', '.join(LANGUAGES)}")] = None,
) -> str:
    """The language an API answer's sentence is told in: `?lang=`, else English (an API
    answer does not change with a browser's settings; the page reads Accept-Language)."""
    if lang is None:
        return DEFAULT_LANGUAGE
    if lang not in LANGUAGES:
        raise HTTPException(400, f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    return lang


LanguageDep = Annotated[str, Depends(language)]


def page_language(request: Request, lang: Annotated[str | None, Query()] = None) -> str:
    """A page's language: `?lang=` (a shared link opens in the sharer's language), else the
    first of the browser's Accept-Language the service speaks, else English."""
    if lang in LANGUAGES:
        return lang
    return best_language(request.headers.get("accept-language", ""))


PageLanguageDep = Annotated[str, Depends(page_language)]
