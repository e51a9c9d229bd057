"""Job records, kept in the broker's server so that every instance answers for every job.

One hash per job, `realmark:job:<id>`. A job waiting or running has no expiry; once it
ends, its record is kept KEEP_SECONDS (its status URL answers for a day, then 404)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import redis

from realmark.errors import JobsUnavailable

KEEP_SECONDS = 24 * 3600
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
ENDED = (DONE, FAILED)
# Progress is written at most this often: a long film would otherwise send thousands.
PROGRESS_EVERY_SECONDS = 0.5


@dataclass
class Job:
    id: str
    agency: str
    title: str
    artists: tuple[str, ...]
    watermark_id: int  # drawn when the job was accepted, so a re-run claims no second id
    status: str = QUEUED
    progress: float = 0.0
    tries: int = 0  # runs started, crashed ones included
    manifest_id: str | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def upload_key(self) -> str:
        return f"uploads/{self.id}"

    def public(self) -> dict:
        """What GET /v1/jobs/{id} shows (the caller adds the download URL)."""
        out = {"job_id": self.id, "status": self.status, "progress": round(self.progress, 3), "tries": self.tries}
        if self.manifest_id:
            out["manifest_id"] = self.manifest_id
        if self.error:
            out["error"] = self.error
        return out


def _key(job_id: str) -> str:
    return f"realmark:job:{job_id}"


class JobTable:
    def __init__(self, client: redis.Redis):
        self._r = client

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise JobsUnavailable(f"the job broker cannot be reached ({exc})") from None

    def create(self, job: Job) -> None:
        fields = {
            "agency": job.agency,
            "title": job.title,
            "artists": json.dumps(job.artists),
            "watermark_id": str(job.watermark_id),
            "status": job.status,
            "progress": "0",
            "tries": "0",
            "created": repr(job.created),
        }
        self._call(lambda: self._r.hset(_key(job.id), mapping=fields))

    def forget(self, job_id: str) -> None:
        """Drop a record that was never handed to the queue."""
        self._call(self._r.delete, _key(job_id))

    def get(self, job_id: str) -> Job | None:
        raw = self._call(self._r.hgetall, _key(job_id))
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return Job(
            id=job_id,
            agency=f["agency"],
            title=f["title"],
            artists=tuple(json.loads(f["artists"])),
            watermark_id=int(f["watermark_id"]),
            status=f["status"],
            progress=float(f["progress"]),
            tries=int(f["tries"]),
            manifest_id=f.get("manifest_id"),
            error=f.get("error"),
            created=float(f["created"]),
        )

    def started(self, job_id: str) -> int:
        """Mark the job running; the number of this run (1 for the first)."""

        def start():
            with self._r.pipeline() as p:  # MULTI/EXEC: one step
                p.hincrby(_key(job_id), "tries", 1).hset(_key(job_id), mapping={"status": RUNNING, "progress": "0"})
                return p.execute()[0]

        return int(self._call(start))

    def progress(self, job_id: str, fraction: float) -> None:
        self._call(lambda: self._r.hset(_key(job_id), "progress", f"{min(fraction, 0.99):.4f}"))

    def waiting_again(self, job_id: str, reason: str) -> None:
        """The run failed and the job will be tried again."""
        self._call(lambda: self._r.hset(_key(job_id), mapping={"status": QUEUED, "error": reason}))

    def done(self, job_id: str, manifest_id: str) -> None:
        self._end(job_id, {"status": DONE, "progress": "1", "manifest_id": manifest_id}, drop=("error",))

    def failed(self, job_id: str, reason: str) -> None:
        self._end(job_id, {"status": FAILED, "error": reason})

    def _end(self, job_id: str, fields: dict, drop: tuple[str, ...] = ()) -> None:
        def end():
            with self._r.pipeline() as p:
                p.hset(_key(job_id), mapping=fields)
                if drop:
                    p.hdel(_key(job_id), *drop)
                p.expire(_key(job_id), KEEP_SECONDS)
                p.execute()

        self._call(end)


class ProgressWriter:
    """A signer's progress callback that writes at most every PROGRESS_EVERY_SECONDS, and
    skips writes while the broker is unreachable (the job goes on)."""

    def __init__(self, table: JobTable, job_id: str):
        self.table, self.job_id, self._last = table, job_id, 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_SECONDS:
            self._last = now
            try:
                self.table.progress(self.job_id, fraction)
            except JobsUnavailable:
                pass
