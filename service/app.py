"""create_app(deployment): the FastAPI application, with its services built once."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from realmark.deployment import Deployment
from realmark.errors import (
    BadInput,
    Conflict,
    JobsUnavailable,
    KeyProblem,
    RealmarkError,
    StoreError,
    UnsupportedMedia,
)
from realmark.index import sync
from realmark.index.catalogue import SNAPSHOT, save_snapshot
from realmark.settings import Settings
from verifier import Verifier

from .cache import VerifyCache
from .deps import Services
from .findings import FindingBook, evidence
from .jobs import JobEngine
from .limits import BodyLimit, Busy, HeavyWork, RateLimit, RateLimited
from .photo_workers import PhotoWorkers
from .routers import batches, findings, jobs, manifests, page, receipts, sign, softbinding, trust, verify, wording
from .routers.page import STATIC
from .timing import ServerTiming

log = logging.getLogger(__name__)
OUTAGE_RETRY_AFTER = 10  # seconds; a store or broker restart usually takes about this
_STATUS = [
    (UnsupportedMedia, 415),
    (BadInput, 400),
    (Conflict, 409),
    (KeyProblem, 503),
    (StoreError, 503),
    (JobsUnavailable, 503),
]


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message}, headers=headers)


async def _keep_index_current(deployment: Deployment) -> None:
    """Pick up assets that other instances signed into the shared store."""
    while True:
        await asyncio.sleep(deployment.settings.index_sync_seconds)
        try:
            await asyncio.to_thread(sync, deployment.index, deployment.store)
        except StoreError as exc:  # the store is down: try again next round
            log.warning("index sync failed: %s", exc)


async def _prune(cache: VerifyCache, store, minutes: int) -> None:
    """Remove answers no instance will read again (service/cache.py), and uploads kept as
    evidence whose time has passed (service/findings/evidence.py)."""
    while True:
        await asyncio.sleep(minutes * 60)
        try:
            removed = await asyncio.to_thread(cache.prune)
            log.info("verify cache: %d stale answers removed", removed)
            removed = await asyncio.to_thread(evidence.prune, store)
            log.info("evidence: %d uploads past their time removed", removed)
        except StoreError as exc:
            log.warning("pruning failed: %s", exc)


def create_app(deployment: Deployment | None = None) -> FastAPI:
    deployment = deployment or Deployment(Settings.from_env())
    settings = deployment.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc: Services = app.state.services
        chores = []
        if settings.index_sync_seconds:
            chores.append(asyncio.create_task(_keep_index_current(deployment)))
        if settings.cache_prune_minutes:
            chores.append(asyncio.create_task(_prune(svc.verify_cache, deployment.store, settings.cache_prune_minutes)))
        await asyncio.to_thread(svc.jobs.start)  # go on with jobs accepted before a restart
        # The receipt key before the first answer: making it changes the trust list's version.
        try:
            await asyncio.to_thread(deployment.receipts.key)
        except KeyProblem as exc:  # verify answers 503 saying so; everything else works
            log.error("no receipt key: %s", exc)
        yield
        for chore in chores:
            chore.cancel()
        await asyncio.to_thread(svc.jobs.close)  # a running job finishes, or is run again later
        if photo_workers is not None:
            photo_workers.shutdown()
        await asyncio.to_thread(save_snapshot, deployment.index, settings.home / SNAPSHOT)

    app = FastAPI(
        lifespan=lifespan,
        title="Realmark",
        summary="Proof that a photo or video is official: agencies sign, anyone verifies.",
        version="1",
        docs_url=None,  # served by routers/page.py with local assets
        redoc_url=None,
    )
    photo_workers = PhotoWorkers(settings.photo_workers, settings, deployment.index) if settings.photo_workers else None
    job_engine = JobEngine(deployment, settings.job_threads, deployment.index)
    app.state.services = Services(
        deployment=deployment,
        verifier=Verifier(
            deployment.store, deployment.trust, deployment.index, photo_workers.verify if photo_workers else None
        ),
        verify_cache=VerifyCache(deployment.store, deployment.trust, deployment.index),
        heavy=HeavyWork(settings.heavy_slots, settings.heavy_queue, settings.heavy_wait_seconds),
        verify_rate=RateLimit(settings.verify_per_minute),
        jobs=job_engine,
        findings=FindingBook(job_engine.server, settings.findings_per_minute),
    )
    for router in (
        sign.router,
        batches.router,
        jobs.router,
        verify.router,
        receipts.router,
        findings.router,
        wording.router,
        manifests.router,
        trust.router,
        softbinding.router,
        page.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(ServerTiming)  # outermost: it times the whole answer

    @app.exception_handler(RealmarkError)
    async def realmark_error(request: Request, exc: RealmarkError):
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        outage = isinstance(exc, StoreError | JobsUnavailable)  # a store or broker down: worth retrying
        return _error(status, str(exc), {"Retry-After": str(OUTAGE_RETRY_AFTER)} if outage else None)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return _error(503, "the service is busy; try again shortly", {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited):
        return _error(
            429, "too many verifications from this address; try again shortly", {"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(StarletteHTTPException)  # also covers FastAPI's, and 404/405
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}" for e in exc.errors())
        return _error(422, f"the request is incomplete or malformed ({problems})")

    return app
