"""Background jobs (video signing): a small thread pool and an in-memory job table.

Jobs live in the instance that accepted them (poll the same instance: the job URL is
absolute); their results, the manifest and the signed file, go to the shared store."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

KEEP_SECONDS = 24 * 3600


@dataclass
class Job:
    id: str
    status: str = "queued"  # queued, running, done, failed
    progress: float = 0.0
    manifest_id: str | None = None
    download: str | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        out = {"job_id": self.id, "status": self.status, "progress": round(self.progress, 3)}
        if self.manifest_id:
            out.update(manifest_id=self.manifest_id, download=self.download)
        if self.error:
            out["error"] = self.error
        return out


class Jobs:
    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="realmark-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, work) -> Job:
        """Run work(job) in the background; it sets job fields as it goes."""
        job = Job(id=secrets.token_hex(16))
        with self._lock:
            cutoff = time.time() - KEEP_SECONDS
            for old in [k for k, j in self._jobs.items() if j.created < cutoff]:
                del self._jobs[old]
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    @staticmethod
    def _run(job: Job, work) -> None:
        job.status = "running"
        try:
            work(job)
            job.progress, job.status = 1.0, "done"
        except Exception as exc:  # reported to the client through the job
            job.status, job.error = "failed", str(exc) or type(exc).__name__

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
