"""GET /v1/jobs/{id}: a signing job's progress, then its manifest and download. Any
instance answers for any job: records live in the broker's server (service/jobs)."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from ..deps import ServicesDep
from ..jobs.table import KEEP_SECONDS

router = APIRouter(prefix="/v1", tags=["sign"])


@router.get(
    "/jobs/{job_id}",
    summary="Progress and result of a signing job",
    description=(
        f"`status` is queued, running, done or failed; `progress` 0..1; `tries` counts runs (a job "
        f"whose worker died runs again elsewhere). Done: `manifest_id` and `download`. Failed: "
        f"`error`. Kept {KEEP_SECONDS // 3600} hours after it ended, then 404."
    ),
)
async def job_status(job_id: str, request: Request, svc: ServicesDep):
    job = await run_in_threadpool(svc.jobs.get, job_id) if len(job_id) == 32 and job_id.isalnum() else None
    if job is None:
        raise HTTPException(404, f"no such job (jobs are kept {KEEP_SECONDS // 3600} hours after they end)")
    out = job.public()
    if job.manifest_id:
        out["download"] = svc.public_url(request, f"/v1/files/{job.manifest_id}")
    return out
