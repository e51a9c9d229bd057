"""Loopback ports for the servers benchmarks and tests start."""

from __future__ import annotations

import socket
from contextlib import closing


def free_port() -> int:
    """A free TCP port on loopback whose +10000 twin (SeaweedFS's gRPC port) is free too."""
    for _ in range(200):
        with closing(socket.socket()) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            with closing(socket.socket()) as t:
                try:
                    t.bind(("127.0.0.1", port + 10000))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free port pair")
