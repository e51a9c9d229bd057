"""Content Credentials benchmark: what the C2PA step adds to signing.

    python -m bench.credentials [--markdown FILE]

The C2PA step is `realmark.credentials.embed`: build the manifest, hash the original as
the parent ingredient, hash the watermarked file, sign with the agency key, write the
file with the manifest embedded, and let c2pa-rs validate what it wrote. Measured:
- photos: 1920x1080 JPEG, PNG and WebP, median per photo, beside the whole `sign` call;
- video: a one-minute 1280x720 H.264 clip (Big Buck Bunny looped, no audio), MP4 and MOV, median
  of 3, beside signing that same minute.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import av

from bench import attacks
from bench.report import machine, publish
from bench.samples import photos, videos
from bench.video import median_time
from realmark.credentials import Claim, embed
from realmark.keys import Keyring
from realmark.store import LocalStore
from signer import sign

PHOTO_RUNS = 5
VIDEO_RUNS = 3
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime"}


def _claim(mime: str) -> Claim:
    return Claim(
        manifest_id="rm-" + "a" * 24,
        agency="YG",
        title="Benchmark",
        artists=("Jisoo",),
        published_at="2026-11-21T00:00:00Z",
        watermark_id=0x2B7E151628AE,
        mime=mime,
    )


def photo_rows(key, home: Path, n_photos: int = 4) -> list[dict]:
    rows = []
    names = photos.REAL[:n_photos]
    for fmt in ("JPEG", "PNG", "WEBP"):
        files = [photos.encode(photos.hd(name), fmt) for name in names]
        c2pa_s = statistics.median(
            median_time(
                lambda data=data, fmt=fmt: embed(
                    _claim(MIME[fmt]), key, io.BytesIO(data), io.BytesIO(data), io.BytesIO()
                ),
                PHOTO_RUNS,
            )
            for data in files
        )
        sign_s = [
            # A fresh store each run: signing the same input twice would only fetch the first result.
            median_time(
                lambda data=data: sign(
                    data,
                    title="Benchmark",
                    artists=["Jisoo"],
                    key=key,
                    store=LocalStore(home / f"s-{time.perf_counter_ns()}"),
                ),
                3,
            )
            for data in files
        ]
        rows.append(
            {
                "format": fmt,
                "c2pa_ms": c2pa_s * 1000,
                "sign_ms": statistics.median(sign_s) * 1000,
                "bytes": statistics.median(len(d) for d in files),
            }
        )
    return rows


def minute_clip(folder: Path, container: str) -> Path:
    """60 s of 1280x720 H.264 (Big Buck Bunny looped, 5.28 s a loop), in MP4 or MOV."""
    bunny = videos.real(videos.BUNNY)
    mp4 = folder / "minute.mp4"
    if not mp4.exists():
        attacks.splice([(bunny, 0.0, None)] * 11 + [(bunny, 0.0, 60 - 11 * 5.28)], mp4, crf=20)
    if container == "mp4":
        return mp4
    mov = folder / "minute.mov"
    with av.open(str(mp4)) as src, av.open(str(mov), "w", format="mov") as out:  # same stream, MOV box layout
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return mov


def video_rows(key, home: Path, folder: Path) -> list[dict]:
    rows = []
    for container in ("mp4", "mov"):
        clip = minute_clip(folder, container)
        mime = MIME[container]

        def c2pa_step(clip=clip, container=container, mime=mime):
            with (
                open(clip, "rb") as original,
                open(clip, "rb") as marked,
                open(folder / f"out.{container}", "w+b") as out,
            ):
                embed(_claim(mime), key, original, marked, out)

        c2pa_s = median_time(c2pa_step, VIDEO_RUNS)
        start = time.perf_counter()
        sign(
            clip,
            folder / f"signed.{container}",
            title="Benchmark",
            artists=["Jisoo"],
            key=key,
            store=LocalStore(home / f"video-{container}"),
        )
        rows.append(
            {
                "format": container.upper(),
                "seconds": 60,
                "megabytes": clip.stat().st_size / 1e6,
                "c2pa_s": c2pa_s,
                "sign_s": time.perf_counter() - start,
            }
        )
    return rows


def markdown(photo: list[dict], video: list[dict]) -> str:
    lines = [
        f"Machine: {machine()}. c2pa-python 0.38.1 (c2pa-rs 0.91.3), Ed25519, no thumbnail, no time-stamp authority.",
        "",
        "| asset | C2PA step | whole signing | C2PA share |",
        "|---|---|---|---|",
    ]
    for r in photo:
        lines.append(
            f"| photo 1920x1080 {r['format']} ({r['bytes'] / 1e6:.1f} MB) | {r['c2pa_ms']:.0f} ms | "
            f"{r['sign_ms']:.0f} ms | {100 * r['c2pa_ms'] / r['sign_ms']:.0f} % |"
        )
    for r in video:
        lines.append(
            f"| one minute of 720p video, {r['format']} ({r['megabytes']:.0f} MB) | {r['c2pa_s']:.2f} s | "
            f"{r['sign_s']:.1f} s | {100 * r['c2pa_s'] / r['sign_s']:.1f} % |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        Keyring(home).create("YG")
        key = Keyring(home).signing_key("YG")
        folder = Path(tmp) / "clips"
        folder.mkdir()
        text = markdown(photo_rows(key, home), video_rows(key, home, folder))
    publish(text, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
