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


def free_ports(count: int) -> list[int]:
    """`count` free_port()s, none of them another's +10000 twin: SeaweedFS refuses a port
    that one of its services' gRPC ports takes (a CI run failed on one such pair)."""
    ports: list[int] = []
    taken: set[int] = set()
    for _ in range(100 * count):
        port = free_port()
        if port not in taken and port + 10000 not in taken:
            ports.append(port)
            taken |= {port, port + 10000}
            if len(ports) == count:
                return ports
    raise RuntimeError("no free set of ports")
