"""Appearance search benchmark: the fingerprint index at 1,000,000 and 10,000,000 entries.

    python -m bench.search [--sizes 1000000 10000000] [--queries 1000] [--markdown FILE]

For each size: build the index (five fingerprints per manifest, as a photo's own plus its
four crop variants), then time searches of single fingerprints (half near copies of
stored ones, 0-31 bits apart; half strangers) and of a photo verify's 8 orientations at
once. Memory per fingerprint is the process's resident growth while the index is built,
divided by its size. Fingerprints are random 256-bit strings: PDQ bits are balanced by
construction (each bit is "above the median"), which is what the index's buckets need.
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from bench.report import machine, publish
from realmark.index import FingerprintIndex

PER_MANIFEST = 5


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _near(bits: bytes, n: int, rng) -> bytes:
    unpacked = np.unpackbits(np.frombuffer(bits, np.uint8))
    unpacked[rng.choice(256, n, replace=False)] ^= 1
    return np.packbits(unpacked).tobytes()


def run_size(size: int, queries: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    data = rng.integers(0, 2**63, (size, 4), dtype=np.uint64)
    raw = data.tobytes()
    del data
    index = FingerprintIndex()
    index.add_many(
        (
            f"rm-{m:024d}",
            [raw[(m * PER_MANIFEST + k) * 32 : (m * PER_MANIFEST + k + 1) * 32] for k in range(PER_MANIFEST)],
            None,
        )
        for m in range(size // PER_MANIFEST)
    )
    del raw
    gc.collect()
    build_s = time.perf_counter() - started
    grown = _rss_mb() - before
    stored = index._bits  # the benchmark picks near copies of stored entries
    single, batch, found = [], [], 0
    for i in range(queries):
        if i % 2 == 0:
            target = int(rng.integers(len(stored)))
            q = _near(stored[target].tobytes(), int(rng.integers(0, 32)), rng)
        else:
            q = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()
        t = time.perf_counter()
        hits = index.search([q])
        single.append(time.perf_counter() - t)
        found += bool(hits) and i % 2 == 0
        eight = [q] + [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(7)]
        t = time.perf_counter()
        index.search(eight)
        batch.append(time.perf_counter() - t)
    ms = lambda xs, p: float(np.percentile(xs, p) * 1000)  # noqa: E731
    return {
        "size": size,
        "build_s": build_s,
        "mb": grown,
        "bytes_per_fingerprint": grown * 2**20 / size,
        "single_p50_ms": ms(single, 50),
        "single_p99_ms": ms(single, 99),
        "eight_p50_ms": ms(batch, 50),
        "eight_p99_ms": ms(batch, 99),
        "near_found": found / (queries // 2 + queries % 2),
    }


def markdown(rows: list[dict], queries: int) -> str:
    lines = [
        f"Machine: {machine()}. {queries} searches per size "
        "(half near copies 0-31 bits from a stored fingerprint, half strangers); "
        f"{PER_MANIFEST} fingerprints per manifest.",
        "",
        "| fingerprints | build | memory | per fingerprint | one fingerprint p50 / p99 "
        "| a photo's 8 orientations p50 / p99 | near copies found |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['build_s']:.1f} s | {r['mb']:.0f} MB | {r['bytes_per_fingerprint']:.0f} B | "
            f"{r['single_p50_ms']:.2f} / **{r['single_p99_ms']:.2f} ms** | "
            f"{r['eight_p50_ms']:.2f} / {r['eight_p99_ms']:.2f} ms | {r['near_found']:.0%} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        rows.append(run_size(size, args.queries))
        gc.collect()
    publish(markdown(rows, args.queries), args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
