"""Job records, kept in the broker's server so that every instance answers for every job.

One hash per job, `realmark:job:<id>`. A job waiting or running has no expiry; once it
ends, its record is kept KEEP_SECONDS (its status URL answers for a day, then 404).

A batch (`POST /v1/batches`) is one job per file plus `realmark:batch:<id>`, the list of
its files and their jobs; each of its jobs that ends keeps the batch's record another
KEEP_SECONDS, so it goes a day after its last file ended."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import redis

from realmark.errors import JobsUnavailable

KEEP_SECONDS = 24 * 3600
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)
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
    batch: str | None = None  # the batch it is a file of

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


@dataclass
class Batch:
    id: str
    agency: str
    created: float
    items: list[tuple[str, str, Job | None]]  # (file name, job id, its job; None once expired)

    def public(self) -> dict:
        """What GET /v1/batches/{id} shows (the caller adds download URLs)."""
        jobs = [job for _, _, job in self.items]
        ended = [job is None or job.ended for job in jobs]
        counts = {status: sum(job is not None and job.status == status for job in jobs) for status in STATUSES}
        if all(ended):
            status = DONE
        elif any(job is not None and (job.status == RUNNING or job.ended) for job in jobs):
            status = RUNNING
        else:
            status = QUEUED
        progress = sum(1.0 if e else job.progress for e, job in zip(ended, jobs, strict=True)) / max(1, len(jobs))
        items = [
            {"file": name, **(job.public() if job is not None else {"job_id": job_id, "status": "expired"})}
            for name, job_id, job in self.items
        ]
        return {
            "batch_id": self.id,
            "status": status,
            "progress": round(progress, 3),
            "files": len(self.items),
            **counts,
            "items": items,
        }


def _key(job_id: str) -> str:
    return f"realmark:job:{job_id}"


def _batch_key(batch_id: str) -> str:
    return f"realmark:batch:{batch_id}"


def _job(job_id: str, raw: dict | None) -> Job | None:
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
        batch=f.get("batch"),
    )


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
        if job.batch:
            fields["batch"] = job.batch
        self._call(lambda: self._r.hset(_key(job.id), mapping=fields))

    def forget(self, job_id: str) -> None:
        """Drop a record that was never handed to the queue."""
        self._call(self._r.delete, _key(job_id))

    def get(self, job_id: str) -> Job | None:
        return _job(job_id, self._call(self._r.hgetall, _key(job_id)))

    def get_many(self, job_ids: list[str]) -> list[Job | None]:
        def read():
            with self._r.pipeline(transaction=False) as p:
                for job_id in job_ids:
                    p.hgetall(_key(job_id))
                return p.execute()

        return [_job(job_id, raw) for job_id, raw in zip(job_ids, self._call(read), strict=True)]

    def create_batch(self, batch_id: str, agency: str, items: list[tuple[str, str]]) -> None:
        """A batch's record: its files' names and job ids, in the order given."""
        fields = {"agency": agency, "items": json.dumps(items), "created": repr(time.time())}
        self._call(lambda: self._r.hset(_batch_key(batch_id), mapping=fields))

    def get_batch(self, batch_id: str) -> tuple[str, float, list[tuple[str, str]]] | None:
        """(agency, created, [(name, job id)]), or None."""
        raw = self._call(self._r.hgetall, _batch_key(batch_id))
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return f["agency"], float(f["created"]), [tuple(item) for item in json.loads(f["items"])]

    def forget_batch(self, batch_id: str) -> None:
        self._call(self._r.delete, _batch_key(batch_id))

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

    def done(self, job: Job, manifest_id: str) -> None:
        self._end(job, {"status": DONE, "progress": "1", "manifest_id": manifest_id}, drop=("error",))

    def failed(self, job: Job, reason: str) -> None:
        self._end(job, {"status": FAILED, "error": reason})

    def _end(self, job: Job, fields: dict, drop: tuple[str, ...] = ()) -> None:
        def end():
            with self._r.pipeline() as p:
                p.hset(_key(job.id), mapping=fields)
                if drop:
                    p.hdel(_key(job.id), *drop)
                p.expire(_key(job.id), KEEP_SECONDS)
                if job.batch:
                    p.expire(_batch_key(job.batch), KEEP_SECONDS)
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
