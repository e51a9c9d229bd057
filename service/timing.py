"""Server-Timing on every answer: the time from the request's arrival to its answer's
first byte, upload reading included. Clients and benchmarks see the server's own share
of a request's latency (RFC: W3C Server Timing)."""

from __future__ import annotations

import time


class ServerTiming:
    """ASGI middleware adding `Server-Timing: app;dur=<ms>`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", f"app;dur={ms:.1f}".encode())],
                }
            await send(message)

        await self.app(scope, receive, timed_send)
