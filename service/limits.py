"""Protecting the service: upload size, concurrent heavy work, per-client rate."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from contextlib import asynccontextmanager


class Busy(Exception):
    """All heavy-work slots are taken: answer 503 with Retry-After."""

    retry_after = 5


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


class HeavyWork:
    """At most `slots` sign/verify computations at once; up to `queue` more requests wait
    for a slot, each for at most `wait_seconds`. Past the queue's bound, or past the wait,
    503: a client told "busy, retry in 5 s" is better off than one whose request times
    out, but a short burst (eight fans at once against two slots) should simply wait its
    turn, not be refused. Waiters are served in the order they came (a slot freed is
    taken by the first in line, not by whichever poll wakes first: that gave a p99 of
    2.2-2.6 s at concurrency 8 against two slots).

    A slot is given back from whichever thread ran the work (a signing job's too), and
    requests wait on their event loop: a release wakes the first in line through its loop
    (waking on a 10 ms poll instead left a freed slot idle for 5 ms on average, while an
    uncached photo takes 30-80 ms); the waiter also looks every POLL_SECONDS, should a
    wake-up be lost. A waiter cancelled (the client left) holds nothing."""

    POLL_SECONDS = 0.05

    def __init__(self, slots: int, queue: int = 0, wait_seconds: float = 0.0):
        self._slots = threading.BoundedSemaphore(slots)
        self.queue, self.wait_seconds = queue, wait_seconds
        self._waiting: deque[_Waiter] = deque()  # first come first served
        self._lock = threading.Lock()

    async def acquire(self) -> None:
        """A slot, now or after a bounded wait in turn; Busy when there is none."""
        with self._lock:
            if not self._waiting and self._slots.acquire(blocking=False):
                return
            if len(self._waiting) >= self.queue:
                raise Busy()
            waiter = _Waiter(asyncio.get_running_loop())
            self._waiting.append(waiter)
        try:
            deadline = time.monotonic() + self.wait_seconds
            while True:
                with self._lock:
                    if self._waiting[0] is waiter and self._slots.acquire(blocking=False):
                        return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Busy()
                await waiter.woken(min(left, self.POLL_SECONDS))
        finally:
            with self._lock:
                self._waiting.remove(waiter)
                if self._waiting:  # the next in line looks at once (a slot may be free)
                    self._waiting[0].wake()

    def release(self) -> None:
        self._slots.release()
        with self._lock:
            if self._waiting:
                self._waiting[0].wake()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def slot(self):
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class _Waiter:
    """A request waiting for a slot, woken from any thread through its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop, self._event = loop, asyncio.Event()

    def wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # its loop has closed: nobody is waiting any more
            pass

    async def woken(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


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
