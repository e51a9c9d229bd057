"""Service benchmark: verify throughput for 1080p JPEG uploads over loopback.

    python -m bench.service [--requests N] [--concurrency 8] [--mix distinct|viral] [--soak MINUTES]

Starts `realmark serve` as its own process (embedded store, rate limit off), signs a
1080p photo, then sends N verify requests from C client threads, built from three
pictures: the signed photo, a re-encoded copy and an unsigned photo.
- `distinct`: every request is a file not seen before (a unique JPEG comment makes the
  bytes differ, the pictures are the same): nothing comes from the verify cache.
- `viral` (the default): four requests in five repeat one of 20 files, as when a fake
  goes viral (each is new the first time it comes); the fifth is unique.
Reports requests/s, latency p50/p99, cache hits, the server's peak memory under load
(VmHWM from /proc), its child processes' (the photo workers) apart, and the latency
of a repeated upload sent alone (an upper bound of its server time)."""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
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


def _unique(jpeg: bytes, n: int) -> bytes:
    """The same JPEG with a comment segment naming n: other bytes, the same picture."""
    text = f"request {n}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


VIRAL_FILES = 20  # the viral mix: 80 % of requests repeat 20 files
# The viral mix is measured long enough to be the mix: each viral file's first sight is
# verified afresh, so in 240 requests the 20 first sights make new uploads 29 % of the
# requests instead of the mix's 20 % (171 of 240 answered from the cache); in 2,400
# they are 21 % (1,899 of 2,400), as in a viral moment, where thousands of requests
# follow the first sight of a file. Every upload of the distinct mix is new.
VIRAL_REQUESTS = 2400
DISTINCT_REQUESTS = 240


def pick(i: int, mix: str) -> tuple[int, int]:
    """Request i's upload: which base picture (0 signed, 1 its copy, 2 unsigned) and a tag
    that makes its bytes unique to it, or shared with the other requests of a viral file."""
    if mix == "viral" and i % 5 != 4:
        viral = (i // 5 * 4 + i % 5) % VIRAL_FILES
        return viral % 3, 1_000_000 + viral
    return i % 3, i


def _memory_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def _descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on (the service's photo workers)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += [int(child), *_descendants(int(child))]
    return out


SOAK_SAMPLE_SECONDS = 10
SOAK_WARM_UP_SECONDS = 60  # memory samples before this are the warm-up (caches, pools filling)


def _rss_kb(pid: int) -> tuple[int, int]:
    """The server's resident memory, and its children's (the photo workers)."""
    return _memory_kb(pid, "VmRSS"), sum(_memory_kb(child, "VmRSS") for child in _descendants(pid))


def run(requests: int, concurrency: int, mix: str = "viral", soak_seconds: float = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        keyring = Keyring(home)
        keyring.create("Bench")
        original = photos.encode(photos.hd("astronaut"), quality=90)
        signed = sign(
            original, title="t", artists=["a"], key=keyring.signing_key("Bench"), store=LocalStore(home / "store")
        ).data
        copy = photos.encode(photos.decode(signed), quality=75)
        bases = (signed, copy, photos.encode(photos.hd("coffee"), quality=90))
        uploads = [_multipart(_unique(bases[base], tag)) for base, tag in map(lambda i: pick(i, mix), range(requests))]
        warm_up = [_multipart(_unique(bases[i % 3], -1 - i)) for i in range(concurrency)]

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
            hits = [0]
            lock = threading.Lock()

            server_ms: list[float] = []

            def one(upload: tuple[bytes, str]) -> float:
                if not hasattr(local, "conn"):
                    local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                body, content_type = upload
                start = time.perf_counter()
                hit = False
                try:
                    local.conn.request("POST", "/v1/verify", body=body, headers={"Content-Type": content_type})
                    response = local.conn.getresponse()
                    payload = response.read()
                    verdict = str(response.status) if response.status != 200 else json.loads(payload)["verdict"]
                    hit = response.getheader("X-Realmark-Cache") == "hit"
                    timing = response.getheader("Server-Timing") or ""
                    if timing.startswith("app;dur="):
                        server_ms.append(float(timing.split("=")[1]))
                except (OSError, http.client.HTTPException) as exc:  # a timeout, a reset: counted, never hidden
                    verdict = f"error {type(exc).__name__}"
                    local.conn.close()
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    verdicts[verdict] = verdicts.get(verdict, 0) + 1
                    hits[0] += hit
                return elapsed

            for upload in warm_up:  # imports, first paths; unique files, so nothing is cached for the run
                one(upload)
            latencies.clear()
            verdicts.clear()
            hits[0] = 0
            start = time.perf_counter()
            memory: list[tuple[float, int, int]] = []
            if soak_seconds:  # as many requests as fit in the time, memory sampled as they run
                counter, until = itertools.count(), time.monotonic() + soak_seconds

                def client() -> None:
                    while time.monotonic() < until:
                        base, tag = pick(next(counter), mix)
                        one(_multipart(_unique(bases[base], tag)))

                with ThreadPoolExecutor(max_workers=concurrency) as pool:
                    clients = [pool.submit(client) for _ in range(concurrency)]
                    while not all(c.done() for c in clients):
                        memory.append((time.perf_counter() - start, *_rss_kb(server.pid)))
                        time.sleep(SOAK_SAMPLE_SECONDS)
                requests = len(latencies)
            else:
                with ThreadPoolExecutor(max_workers=concurrency) as pool:
                    list(pool.map(one, uploads))
            wall = time.perf_counter() - start
            load_latencies, load_verdicts, load_hits = sorted(latencies), dict(verdicts), hits[0]
            # A repeated upload alone: client time bounds the server's.
            repeat = _multipart(_unique(bases[0], -1000))
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)  # the warm-up's went idle
            one(repeat)
            server_ms.clear()
            repeated = sorted(one(repeat) for _ in range(50))
            repeated_server = sorted(server_ms)
            peak_kb = _memory_kb(server.pid, "VmHWM")
            workers = _descendants(server.pid)
            workers_peak_kb = sum(_memory_kb(pid, "VmHWM") for pid in workers)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "machine": machine(),
        "requests": requests,
        "concurrency": concurrency,
        "mix": mix,
        "throughput": requests / wall,
        "p50_ms": statistics.median(load_latencies) * 1000,
        "p99_ms": load_latencies[min(len(load_latencies) - 1, int(len(load_latencies) * 0.99))] * 1000,
        "verdicts": load_verdicts,
        "cache_hits": load_hits,
        "repeated_p50_ms": statistics.median(repeated) * 1000,
        "repeated_max_ms": repeated[-1] * 1000,
        "repeated_server_p50_ms": statistics.median(repeated_server),
        "repeated_server_max_ms": repeated_server[-1],
        "idle_mb": idle_kb / 1024,
        "peak_mb": peak_kb / 1024,
        "workers": len(workers),
        "workers_peak_mb": workers_peak_kb / 1024,
        "upload_kb": [len(b) // 1024 for b in bases],
        "soak_seconds": soak_seconds,
        "memory_mb": [(round(t), (server_kb + workers_kb) / 1024) for t, server_kb, workers_kb in memory],
        "server_memory_mb": [(round(t), server_kb / 1024) for t, server_kb, _ in memory],
    }


def markdown(r: dict) -> str:
    return "\n".join(
        [
            f"Machine: {r['machine']} (server and client share these {os.cpu_count()} cores). "
            f"{r['requests']} verify requests at concurrency {r['concurrency']}, mix `{r['mix']}`, "
            f"1920x1080 JPEG uploads of {', '.join(str(k) for k in r['upload_kb'])} KB over loopback.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| throughput | **{r['throughput']:.1f} requests/s** |",
            f"| latency p50 / p99 | {r['p50_ms']:.0f} ms / {r['p99_ms']:.0f} ms |",
            f"| server memory idle / peak under load | {r['idle_mb']:.0f} MB / {r['peak_mb']:.0f} MB |",
            f"| its {r['workers']} child processes (photo workers, multiprocessing's tracker), peak (sum) | "
            f"{r['workers_peak_mb']:.0f} MB |",
            f"| answers | {', '.join(f'{k}: {v}' for k, v in sorted(r['verdicts'].items()))} |",
            f"| answered from the verify cache | {r['cache_hits']} of {r['requests']} |",
            f"| a repeated upload alone, p50 / max of 50: at the client | {r['repeated_p50_ms']:.1f} ms / "
            f"{r['repeated_max_ms']:.1f} ms |",
            f"| the same, server time (Server-Timing: arrival to answer, upload read included) | "
            f"{r['repeated_server_p50_ms']:.1f} ms / {r['repeated_server_max_ms']:.1f} ms |",
            *_soak_rows(r),
        ]
    )


def _soak_rows(r: dict) -> list[str]:
    after = [mb for t, mb in r["memory_mb"] if t >= SOAK_WARM_UP_SECONDS]
    if not r["soak_seconds"] or not after:
        return []
    server = [mb for t, mb in r["server_memory_mb"] if t >= SOAK_WARM_UP_SECONDS]
    return [
        f"| soak: {r['soak_seconds'] / 60:.0f} min, memory (server and workers, RSS) every "
        f"{SOAK_SAMPLE_SECONDS} s after {SOAK_WARM_UP_SECONDS} s | {_spread(after)} |",
        f"| of which the server process alone | {_spread(server)} |",
        f"| soak memory, first and last sample after warm-up | {after[0]:.0f} MB, {after[-1]:.0f} MB |",
    ]


def _spread(samples: list[float]) -> str:
    mean = statistics.mean(samples)
    return (
        f"min {min(samples):.0f} MB, max {max(samples):.0f} MB, mean {mean:.0f} MB: "
        f"within {max(mean - min(samples), max(samples) - mean) / mean:+.1%}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, help=f"default {VIRAL_REQUESTS} viral, {DISTINCT_REQUESTS} distinct")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--mix", choices=("distinct", "viral"), default="viral")
    parser.add_argument("--soak", type=float, default=0, help="minutes: send requests for this long instead")
    parser.add_argument("--markdown")
    args = parser.parse_args(argv)
    requests = args.requests or (VIRAL_REQUESTS if args.mix == "viral" else DISTINCT_REQUESTS)
    publish(markdown(run(requests, args.concurrency, args.mix, args.soak * 60)), args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
