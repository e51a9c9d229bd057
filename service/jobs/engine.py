"""Signing jobs on Dramatiq: accepted by any service instance, run by whichever worker
is free, answered for by every instance.

A job is three things, all where every process sees them:
- its record in the broker's server (table.py): status, progress, tries, result;
- its upload in the shared store, under uploads/<job id>, until the job ends;
- one Dramatiq message naming the job, acknowledged only after the job ended.

A worker killed mid-job stops sending heartbeats; after REALMARK_WORKER_LOST_SECONDS
Dramatiq hands its unacknowledged message to another worker, which runs the job again.
Running again is safe because signing is idempotent (the manifest id follows from the
agency key and the input) and the job's watermark id was drawn when it was accepted:
the re-run claims that same id, and finds the manifest if the first run stored it. A job
that ended is never run again, so it finishes exactly once. Every run is counted, crashed
ones too, and a job ends `failed` after REALMARK_JOB_TRIES runs: a file that kills its
worker each time cannot loop for ever."""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import dramatiq
import redis

from realmark.deployment import Deployment
from realmark.errors import BadInput, Conflict, JobsUnavailable, KeyProblem, RealmarkError
from realmark.index import FingerprintIndex
from realmark.store import Records
from signer import ProcessPool, Signer
from signer.common import check_metadata
from signer.segments import SegmentWork

from ..limits import Busy
from . import segments
from .broker import EMBEDDED_FOLDER, EmbeddedValkey, check_reachable, open_broker
from .table import Batch, Job, JobTable, ProgressWriter

log = logging.getLogger(__name__)
QUEUE = "realmark-sign"
# Errors that another run cannot fix: the job fails at once, with the error as its reason.
PERMANENT = (BadInput, Conflict, KeyProblem)
OUTAGE_SECONDS = 600  # how long a finished job waits for the broker to come back
STOP_TIMEOUT_MS = 30_000  # a stopping worker lets its running job finish this long; later it is redelivered


class Full(Busy):
    """REALMARK_JOB_QUEUE jobs wait or run already: 503 with Retry-After."""

    retry_after = 30


class JobEngine:
    """The signing jobs of one deployment, and `threads` threads of this process that
    run them (0: other processes do). Connects to the broker on first use (the embedded
    one is started then), so a service that never signs a video starts none."""

    def __init__(self, deployment: Deployment, threads: int, index: FingerprintIndex | None = None):
        self.deployment = deployment
        self.settings = deployment.settings
        self.threads = threads
        self.index = index  # an in-process worker adds what it signs at once
        self._lock = threading.Lock()
        self._broker = None
        self._embedded: EmbeddedValkey | None = None
        self._table: JobTable | None = None
        self._actor = None
        self._segment_actor = None
        self._sources: dict[str, Path] = {}  # job id -> its upload, fetched for segments
        self._sources_lock = threading.Lock()
        self._worker: dramatiq.Worker | None = None
        self._owner = True  # a service owns the embedded broker; `realmark worker` joins it

    @property
    def ever_used(self) -> bool:
        """Whether jobs may exist: distributed mode, or an embedded broker was started here."""
        return bool(self.settings.broker_url) or (self.settings.home / EMBEDDED_FOLDER).is_dir()

    def _connect(self) -> JobTable:
        with self._lock:
            if self._table is None:
                broker, self._embedded = open_broker(self.settings, owner=self._owner)
                check_reachable(broker)
                self._actor = dramatiq.actor(
                    self._run,
                    broker=broker,
                    actor_name="realmark_sign",
                    queue_name=QUEUE,
                    max_retries=self.settings.job_tries,
                )
                # A lost segment message costs nothing: the job's run signs what is left.
                self._segment_actor = dramatiq.actor(
                    self._run_segment,
                    broker=broker,
                    actor_name="realmark_segment",
                    queue_name=segments.QUEUE,
                    max_retries=0,
                )
                self._broker, self._table = broker, JobTable(broker.client)
                if self.threads:
                    self._start_worker()
            return self._table

    def server(self) -> redis.Redis:
        """The broker's server connection (the embedded one started on first use), for what
        else every instance shares there: findings (service/findings)."""
        self._connect()
        return self._broker.client

    def start(self) -> None:
        """Connect now, and start this process's worker threads: a restarted service
        goes on with the jobs it had accepted. Nothing to do where no job ever was."""
        if self.ever_used:
            try:
                self._connect()
            except JobsUnavailable as exc:  # verifying needs no broker: serve, and try again on the next job
                log.warning("signing jobs are unavailable: %s", exc)

    # -- accepting and answering ---------------------------------------------------------

    def submit(self, agency: str, title: str, artists: Sequence[str], upload: Path) -> Job:
        """Accept a signing job: its upload goes to the shared store, its record and its
        message to the broker. Full when too many jobs wait; nothing is left behind on
        any error."""
        return self._accept(agency, [("", title, artists, upload)])[0]

    def submit_batch(self, agency: str, files: Sequence[tuple[str, str, Sequence[str], Path]]) -> Batch:
        """Accept a batch: (name, title, artists, upload) a file, one job each, all or none.
        Full when the queue is full already (the batch's files then all wait their turn)."""
        batch_id = secrets.token_hex(16)
        jobs = self._accept(agency, files, batch_id)
        items = [(name, job.id, job) for (name, *_), job in zip(files, jobs, strict=True)]
        return Batch(batch_id, agency, time.time(), items)

    def _accept(self, agency: str, files: Sequence, batch_id: str | None = None) -> list[Job]:
        checked = [(check_metadata(title, artists), upload) for _, title, artists, upload in files]  # fail now
        table = self._connect()
        if _reaching(self._broker.do_qsize, QUEUE) >= self.settings.job_queue:
            raise Full()
        store = self.deployment.store
        jobs: list[Job] = []
        try:
            for meta, upload in checked:
                job = Job(
                    id=secrets.token_hex(16),
                    agency=agency,
                    title=meta.title,
                    artists=meta.artists,
                    watermark_id=Records.new_watermark_id(),
                    batch=batch_id,
                )
                store.put_if_absent(job.upload_key, upload)
                jobs.append(job)
                table.create(job)
            if batch_id is not None:
                table.create_batch(
                    batch_id, agency, [(name, job.id) for (name, *_), job in zip(files, jobs, strict=True)]
                )
        except BaseException:
            self._withdraw(jobs, batch_id)
            raise
        sent = 0
        try:
            for job in jobs:
                _reaching(self._actor.send, job.id)
                sent += 1
        except BaseException:
            # What was sent runs; what was not is withdrawn and the error goes to the client.
            self._withdraw(jobs[sent:], None)
            raise
        return jobs

    def _withdraw(self, jobs: list[Job], batch_id: str | None) -> None:
        for job in jobs:
            try:
                self.deployment.store.delete(job.upload_key)
                self._table.forget(job.id)
            except RealmarkError:
                pass
        if batch_id is not None:
            try:
                self._table.forget_batch(batch_id)
            except RealmarkError:
                pass

    def get(self, job_id: str) -> Job | None:
        if not self.ever_used:
            return None
        return self._connect().get(job_id)

    def get_batch(self, batch_id: str) -> Batch | None:
        """A batch with its files' jobs as they are now (a job gone after its retention: None)."""
        if not self.ever_used:
            return None
        table = self._connect()
        found = table.get_batch(batch_id)
        if found is None:
            return None
        agency, created, items = found
        jobs = table.get_many([job_id for _, job_id in items])
        return Batch(batch_id, agency, created, [(n, i, job) for (n, i), job in zip(items, jobs, strict=True)])

    # -- running -------------------------------------------------------------------------

    def run_worker(self) -> None:
        """Join the broker and run jobs on this process's threads until close() (`realmark
        worker`). The embedded broker is the service's: JobsUnavailable if it is not up."""
        self._owner = False
        self._connect()

    def _start_worker(self) -> None:
        worker = dramatiq.Worker(
            self._broker, queues={QUEUE, segments.QUEUE}, worker_threads=self.threads, worker_timeout=1000
        )
        worker.queue_prefetch = self.threads  # take a job only when a thread is free: others may be idle
        worker.start()
        self._worker = worker

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=STOP_TIMEOUT_MS)
            self._worker = None
        if self._broker is not None:
            self._broker.close()
        if self._embedded is not None:
            self._embedded.stop()
        with self._sources_lock:
            for path in self._sources.values():
                shutil.rmtree(path.parent, ignore_errors=True)
            self._sources.clear()

    def _run(self, job_id: str) -> None:
        """One run of a job (Dramatiq's actor: raising makes Dramatiq retry it later)."""
        table = self._table
        job = table.get(job_id)
        store = self.deployment.store
        if job is None or job.ended:  # delivered again after it ended, or expired: done already
            if job is not None:
                self._clean_up(job)
            return
        run = table.started(job_id)
        if run > self.settings.job_tries:
            self._fail(job, f"the job was interrupted {run - 1} times (the worker stopped or crashed); giving up")
            return
        folder = Path(tempfile.mkdtemp(prefix="realmark-job-"))
        try:
            source = folder / "upload"
            if not store.get_to_file(job.upload_key, source):
                self._fail(job, "the job's upload is no longer in the store")
                return
            signer = Signer(
                store, self.deployment.keyring.signing_key(job.agency), self.index, segments=self._segments_for(job)
            )
            result = signer.sign(
                source,
                folder / "signed",
                title=job.title,
                artists=job.artists,
                progress=ProgressWriter(table, job_id),
                watermark_id=job.watermark_id,
            )
        except PERMANENT as exc:
            self._fail(job, str(exc))
            return
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            if run >= self.settings.job_tries:
                self._fail(job, f"failed {run} times; the last error: {reason}")
                return
            log.warning("signing job %s failed (run %d), will retry: %s", job_id, run, reason)
            table.waiting_again(job_id, reason)
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        _once_reachable(lambda: table.done(job, result.manifest.manifest_id))
        self._clean_up(job)

    def _fail(self, job: Job, reason: str) -> None:
        _once_reachable(lambda: self._table.failed(job, reason))
        self._clean_up(job)

    def _clean_up(self, job: Job) -> None:
        """An ended job's scratch objects: its upload and its segments."""
        self.deployment.store.delete(job.upload_key)
        segments.forget(self.deployment.store, job.id)

    # -- long clips in segments ------------------------------------------------------------

    def _segments_for(self, job: Job):
        """Who signs a long clip's segments: every free worker in distributed mode (one
        message each), this machine's processes with the embedded broker."""
        settings = self.settings
        if not settings.broker_url:
            return ProcessPool(settings.sign_processes, settings.segment_seconds)
        workers = segments.live_workers(self._broker.client, settings.worker_lost_seconds)
        return segments.SharedSegments(
            self.deployment.store,
            segments.Claims(self._broker.client, settings.worker_lost_seconds),
            self._segment_actor.send,
            job.id,
            parallel=workers,
            segment_seconds=settings.segment_seconds,
        )

    def _run_segment(self, job_id: str, work: str) -> None:
        """Dramatiq's actor for one segment of a job's clip (segments.py)."""
        job = self._table.get(job_id)
        self._drop_sources()
        if job is None or job.ended:
            return
        segment = SegmentWork.from_json(work)
        store = self.deployment.store
        if segments.stored(store, job_id, segment) is not None:
            return
        folder = Path(tempfile.mkdtemp(prefix="realmark-segment-"))
        try:
            claims = segments.Claims(self._broker.client, self.settings.worker_lost_seconds)
            segments.sign_if_free(store, claims, job_id, lambda: self._source_of(job), segment, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _source_of(self, job: Job) -> Path:
        """The job's upload on this machine, fetched once for all the segments it signs."""
        with self._sources_lock:
            if job.id not in self._sources:
                folder = Path(tempfile.mkdtemp(prefix="realmark-source-"))
                if not self.deployment.store.get_to_file(job.upload_key, folder / "upload"):
                    shutil.rmtree(folder, ignore_errors=True)
                    raise RealmarkError(f"the upload of job {job.id} is no longer in the store")
                self._sources[job.id] = folder / "upload"
            return self._sources[job.id]

    def _drop_sources(self) -> None:
        """Forget the fetched uploads of jobs that ended."""
        with self._sources_lock:
            for job_id in list(self._sources):
                job = self._table.get(job_id)
                if job is None or job.ended:
                    shutil.rmtree(self._sources.pop(job_id).parent, ignore_errors=True)


def _reaching(call, *args):
    """call(*args) on the broker; JobsUnavailable (503) when it cannot be reached."""
    try:
        return call(*args)
    except redis.RedisError as exc:
        raise JobsUnavailable(f"the job broker cannot be reached ({exc})") from None


def _once_reachable(write) -> None:
    """A job's last write, retried through a broker outage of up to OUTAGE_SECONDS: the
    work is done and stored, and a message left unacknowledged by a live worker would
    wait for that worker's restart."""
    deadline = time.monotonic() + OUTAGE_SECONDS
    while True:
        try:
            return write()
        except JobsUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
