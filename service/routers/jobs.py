"""GET /v1/jobs/{id}: progress of a video signing job, then its manifest and download."""

from fastapi import APIRouter, HTTPException

from ..deps import ServicesDep

router = APIRouter(prefix="/v1", tags=["sign"])


@router.get("/jobs/{job_id}", summary="Progress and result of a signing job")
def job_status(job_id: str, svc: ServicesDep):
    job = svc.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "no such job on this instance (jobs are kept for a day)")
    return job.to_dict()
