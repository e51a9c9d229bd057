"""Watermark speed benchmark: Realmark's codec against invisible-watermark, same photos,
same run.

    python -m bench.watermark [--photos N] [--markdown FILE]

For each 1080p photo and method: embed and extract time and luma PSNR, and whether the
payload reads back from the unattacked picture. What survives attacks is
bench.robustness."""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.baseline import PAYLOAD_BITS, Baseline
from bench.report import machine, publish
from bench.samples import photos
from realmark import watermark
from realmark.watermark.codec import luma


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Luma PSNR, the issue's measure (Realmark marks luma)."""
    return float(10 * np.log10(255.0**2 / np.mean((luma(a) - luma(b)) ** 2)))


def psnr_rgb(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR over R, G and B: fair to the baseline, which marks chroma, not luma."""
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)))


class Realmark:
    name = "realmark"

    def embed(self, rgb, payload):
        return watermark.embed(rgb, payload)

    def extract(self, rgb):
        return watermark.extract(rgb)


def run(n_photos: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    names = (photos.REAL * ((n_photos // len(photos.REAL)) + 1))[:n_photos]
    covers = []
    for i, name in enumerate(names):
        img = photos.hd(name)
        if i >= len(photos.REAL):  # more photos than sources: mirrored, shifted variants
            img = np.ascontiguousarray(np.roll(img[:, ::-1], int(rng.integers(1, 400)), axis=1))
        covers.append(img)
    methods = [Realmark(), Baseline("dwtDct"), Baseline("dwtDctSvd")]
    results = {}
    for method in methods:
        embed_ms, extract_ms, psnrs, psnrs_rgb = [], [], [], []
        recovered = 0
        for cover in covers:
            if isinstance(method, Realmark):
                payload = int(rng.integers(0, 2**48))
            else:
                payload = rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
            t = time.perf_counter()
            marked = method.embed(cover, payload)
            embed_ms.append((time.perf_counter() - t) * 1000)
            psnrs.append(psnr(cover, marked))
            psnrs_rgb.append(psnr_rgb(cover, marked))
            t = time.perf_counter()
            got = method.extract(marked)
            extract_ms.append((time.perf_counter() - t) * 1000)
            recovered += got.wm_id == payload if isinstance(method, Realmark) else bool((got == payload).all())
        results[method.name] = {
            "embed_ms": statistics.median(embed_ms),
            "extract_ms": statistics.median(extract_ms),
            "psnr_min": min(psnrs),
            "psnr_mean": statistics.mean(psnrs),
            "psnr_rgb_mean": statistics.mean(psnrs_rgb),
            "recovered": recovered / len(covers),
        }
    return {"photos": len(covers), "machine": machine(), "methods": results, "reading": reading_times(covers, rng)}


def reading_times(covers, rng) -> dict:
    """Realmark's extract() time (median ms) by what it is given: an unmarked photo (it
    must search everywhere before saying "no mark"), a marked copy as published, and
    marked copies that moved (the lattice search finds them)."""
    from bench import attacks

    kinds = {
        "unmarked photo": lambda cover, marked: attacks.jpeg(cover, 85),
        "marked copy, scale 1": lambda cover, marked: attacks.jpeg(marked, 85),
        "rotated 4 degrees": lambda cover, marked: attacks.jpeg(attacks.rotate_crop(marked, 4.0), 85),
        "in a post screenshot (half width)": lambda cover, marked: attacks.post_screenshot(marked, rng, share=0.5),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    found: dict[str, int] = {k: 0 for k in kinds}
    for cover in covers:
        payload = int(rng.integers(0, 2**48))
        marked = watermark.embed(cover, payload)
        for kind, make in kinds.items():
            picture = make(cover, marked)
            t = time.perf_counter()
            got = watermark.extract(picture)
            times[kind].append((time.perf_counter() - t) * 1000)
            found[kind] += got.wm_id == payload
    return {
        k: {"median_ms": statistics.median(v), "max_ms": max(v), "read": found[k] / len(covers)}
        for k, v in times.items()
    }


def markdown(report: dict) -> str:
    methods = report["methods"]
    lines = [
        f"Machine: {report['machine']}. {report['photos']} photos at 1920x1080 (scikit-image photos, resized).",
        "",
        "| method | embed ms | extract ms | embed+extract ms | luma PSNR dB (min / mean) | RGB PSNR dB (mean) "
        "| read back unattacked |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in methods.items():
        lines.append(
            f"| {name} | {r['embed_ms']:.1f} | {r['extract_ms']:.1f} | {r['embed_ms'] + r['extract_ms']:.1f} | "
            f"{r['psnr_min']:.2f} / {r['psnr_mean']:.2f} | {r['psnr_rgb_mean']:.2f} | {r['recovered']:.0%} |"
        )
    ours = methods["realmark"]["embed_ms"] + methods["realmark"]["extract_ms"]
    base = methods["dwtDct"]["embed_ms"] + methods["dwtDct"]["extract_ms"]
    lines += ["", f"Realmark embed+extract is {base / ours:.1f}x faster than invisible-watermark dwtDct."]
    reading = report.get("reading")
    if reading:
        lines += ["", "Realmark reading time by what it is given (extract() only, same photos):", ""]
        lines += ["| given | median ms | max ms | id read |", "|---|---|---|---|"]
        for kind, r in reading.items():
            lines.append(f"| {kind} | {r['median_ms']:.1f} | {r['max_ms']:.1f} | {r['read']:.0%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=len(photos.REAL), help="number of 1080p photos")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    publish(markdown(run(args.photos)), args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
