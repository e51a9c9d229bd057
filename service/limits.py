"""Protecting the service: upload size, concurrent heavy work, per-client rate."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager


class Busy(Exception):
    """All heavy-work slots are taken: answer 503 with Retry-After."""

    retry_after = 5


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class HeavyWork:
    """At most `slots` sign/verify computations at once. Refuses rather than queues:
    a client told "503, retry in 5 s" is better off than one whose request times out."""

    def __init__(self, slots: int):
        self._slots = threading.BoundedSemaphore(slots)

    def acquire(self) -> None:
        if not self._slots.acquire(blocking=False):
            raise Busy()

    def release(self) -> None:
        self._slots.release()

    @contextmanager
    def slot(self):
        self.acquire()
        try:
            yield
        finally:
            self.release()


class RateLimit:
    """A token bucket per client IP: `per_minute` requests, refilled continuously."""

    MAX_CLIENTS = 100_000  # beyond this the oldest buckets are dropped

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                raise RateLimited(max(1, int((1.0 - tokens) / rate + 0.999)))
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_CLIENTS:
                for key in list(self._buckets)[: self.MAX_CLIENTS // 10]:
                    del self._buckets[key]


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: refuse request bodies over max_bytes with 413, whether the
    client declares Content-Length or streams chunks, before the body is parsed."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        seen = 0
        exceeded = False
        replaced = False  # the app's own response is being swapped for our 413

        async def counted_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            # Frameworks turn errors raised while parsing a body into their own 400;
            # once the limit was crossed, whatever the app answers becomes our 413.
            nonlocal replaced
            if exceeded:
                if message["type"] == "http.response.start" and not replaced:
                    replaced = True
                    await self._refuse(send)
                return
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _TooLarge:
            if not replaced:
                await self._refuse(send)

    async def _refuse(self, send):
        body = json.dumps(
            {"error": f"the upload is larger than the {self.max_bytes // (1024 * 1024)} MB limit"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
