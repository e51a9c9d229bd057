"""Service benchmark: verify throughput for 1080p JPEG uploads over loopback.

    python -m bench.service [--requests N] [--concurrency 8]

Starts `realmark serve` as its own process (embedded store, rate limit off), signs a
1080p photo, then sends N verify requests from C client threads: a mix of the signed
photo, a re-encoded copy and an unsigned photo. Reports requests/s, latency p50/p99,
and the server's peak memory under load (VmHWM from /proc), its child processes' (the
watermark readers) apart."""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.report import machine, publish
from bench.samples import photos
from bench.samples.net import free_port
from realmark.keys import Keyring
from realmark.store import LocalStore
from signer import sign


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _memory_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on (the service's reader processes)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += [int(child), *_descendants(int(child))]
    return out


def run(requests: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        keyring = Keyring(home)
        keyring.create("Bench")
        original = photos.encode(photos.hd("astronaut"), quality=90)
        signed = sign(
            original, title="t", artists=["a"], key=keyring.signing_key("Bench"), store=LocalStore(home / "store")
        ).data
        copy = photos.encode(photos.decode(signed), quality=75)
        uploads = [_multipart(d) for d in (signed, copy, photos.encode(photos.hd("coffee"), quality=90))]

        port = free_port()
        env = {
            **os.environ,
            "REALMARK_HOME": str(home),
            # All clients share one address here: the per-address limit is off; every
            # other setting is the default (two heavy slots and their bounded queue).
            "REALMARK_VERIFY_PER_MINUTE": "0",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/.well-known/realmark/trust.json")
                    c.getresponse().read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("server did not start") from None
                    time.sleep(0.2)
            idle_kb = _memory_kb(server.pid, "VmRSS")
            local = threading.local()
            latencies: list[float] = []
            verdicts: dict[str, int] = {}
            lock = threading.Lock()

            def one(i: int) -> None:
                if not hasattr(local, "conn"):
                    local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                body, content_type = uploads[i % len(uploads)]
                start = time.perf_counter()
                local.conn.request("POST", "/v1/verify", body=body, headers={"Content-Type": content_type})
                response = local.conn.getresponse()
                payload = response.read()
                elapsed = time.perf_counter() - start
                verdict = (
                    str(response.status) if response.status != 200 else __import__("json").loads(payload)["verdict"]
                )
                with lock:
                    latencies.append(elapsed)
                    verdicts[verdict] = verdicts.get(verdict, 0) + 1

            for i in range(concurrency):  # warm-up: imports, first JIT-less paths
                one(i)
            latencies.clear()
            verdicts.clear()
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrency) as pool:
                list(pool.map(one, range(requests)))
            wall = time.perf_counter() - start
            peak_kb = _memory_kb(server.pid, "VmHWM")
            readers = _descendants(server.pid)
            readers_peak_kb = sum(_memory_kb(pid, "VmHWM") for pid in readers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies.sort()
    return {
        "machine": machine(),
        "requests": requests,
        "concurrency": concurrency,
        "throughput": requests / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "verdicts": verdicts,
        "idle_mb": idle_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "readers": len(readers),
        "readers_peak_mb": readers_peak_kb / 1024,
        "upload_kb": [len(u[0]) // 1024 for u in uploads],
    }


def markdown(r: dict) -> str:
    return "\n".join(
        [
            f"Machine: {r['machine']} (server and client share these {os.cpu_count()} cores). "
            f"{r['requests']} verify requests at concurrency {r['concurrency']}, "
            f"1920x1080 JPEG uploads of {', '.join(str(k) for k in r['upload_kb'])} KB over loopback.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| throughput | **{r['throughput']:.1f} requests/s** |",
            f"| latency p50 / p99 | {r['p50_ms']:.0f} ms / {r['p99_ms']:.0f} ms |",
            f"| server memory idle / peak under load | {r['idle_mb']:.0f} MB / {r['peak_mb']:.0f} MB |",
            f"| its {r['readers']} child processes (watermark readers, multiprocessing's tracker), peak (sum) | "
            f"{r['readers_peak_mb']:.0f} MB |",
            f"| answers | {', '.join(f'{k}: {v}' for k, v in sorted(r['verdicts'].items()))} |",
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=240)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--markdown")
    args = parser.parse_args(argv)
    publish(markdown(run(args.requests, args.concurrency)), args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
