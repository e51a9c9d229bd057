"""Robustness benchmark: what survives platforms and re-uploaders, Realmark against
invisible-watermark's dwtDct and dwtDctSvd on the same inputs.

    python -m bench.robustness [--photos N] [--videos N] [--unmarked N] [--markdown FILE]

- Photos (bench.samples.photos.robustness_set: 22 real photos over 1 MP, landscape and
  portrait, published at 1080 px, or at 4K with --short-side 2160): each method marks
  every photo, every attack in bench.attacks.ROBUSTNESS and every placement family in
  bench.attacks.PLACEMENT (screenshots, collages, bars, rotations, crops anywhere,
  stretches, keystone, perspective warps on a flat fill, each also mirrored; sizes,
  positions and angles drawn per photo) is applied, and the method reads its payload
  back.
  Realmark reads with the same extract() the verifier uses.
- Videos (1920x1080, 30 fps, over 5 s: animation, camera footage, a pan over a photo):
  Realmark signs each with the real signer and `verifier.verify` reads each attacked copy
  (bench.attacks.VIDEO_ROBUSTNESS, and VIDEO_PLACEMENT: letterbox reposts, screen
  recordings, crops mirrored, picture-in-picture, rotations, two draws each); the
  baselines mark every frame and read a majority vote over sampled frames.
- Unmarked: Realmark's extract() on N unmarked photos and video frames, randomly
  cropped, resized, flipped and JPEG-compressed, 30 % of them put through a placement
  family instead (an unmarked screenshot, collage, ...): any id at all is a false
  positive.

"Recovered" means the exact payload: Realmark's 48-bit id (checked by its 40-bit code),
the baseline's 64 bits. Bit accuracy is raw: Realmark's 282 coded bits before error
correction, the baseline's 64 payload bits (0.5 = chance). Work runs in one process per
core; the whole run takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from bench import attacks, forgeries
from bench.baseline import PAYLOAD_BITS, Baseline
from bench.report import machine, publish
from bench.samples import photos
from bench.watermark import psnr
from realmark.watermark import codec
from realmark.watermark.reader import Reader, extract

BASELINES = ("dwtDct", "dwtDctSvd")
METHODS = ("realmark",) + BASELINES
VIDEO_SECONDS = 5.3
VIDEO_FPS = 30
VIDEO_SIZE = (1920, 1080)
BASELINE_VIDEO_SAMPLES = 9  # frames the baseline reads per clip (its reader is slow)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(codec.luma(a), codec.luma(b), data_range=255.0))


def _bit_accuracy(bits, truth) -> float:
    return float(np.mean(np.asarray(bits) == truth)) if bits is not None else 0.5


# --- photos ------------------------------------------------------------------------------


def _photo_job(args) -> dict:
    """Every method and attack (or the `only` ones) on one photo (runs in a worker process)."""
    index, cover, methods, only = args
    rng = np.random.default_rng(1000 + index)
    out = {"quality": {}, "attacks": {}}
    for method in methods:
        if method == "realmark":
            payload = int(rng.integers(0, 2**48))
            truth = codec.coded_bits_for(payload)
            marked = codec.embed(cover, payload)
        else:
            baseline = Baseline(method)
            payload = rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
            truth = payload
            marked = baseline.embed(cover, payload)
        out["quality"][method] = {"psnr": psnr(cover, marked), "ssim": ssim(cover, marked)}
        cases = [(name, attack) for name, (attack, _) in attacks.ROBUSTNESS.items()]
        cases += [
            (name, functools.partial(_placed, attack, np.random.default_rng(zlib.crc32(f"{index} {name}".encode()))))
            for name, (attack, _) in attacks.PLACEMENT.items()
        ]
        for name, attack in cases:
            if only and name not in only:
                continue
            attacked = attack(marked)
            if method == "realmark":
                reading = extract(attacked)
                ok, wrong, bits = reading.wm_id == payload, reading.wm_id not in (None, payload), reading.raw_bits
            else:
                bits = baseline.extract(attacked)
                ok, wrong = bool((bits == truth).all()), False
            out["attacks"].setdefault(name, {})[method] = {"ok": ok, "wrong": wrong, "bits": _bit_accuracy(bits, truth)}
    return out


def _placed(attack, rng, rgb):
    """A placement attack with its own generator: the same copies every run."""
    return attack(rgb, rng)


def photo_robustness(covers, pool, methods=METHODS, only: tuple[str, ...] = ()) -> dict:
    per_photo = list(pool.map(_photo_job, [(i, cover, methods, only) for i, cover in enumerate(covers)]))
    table = {}
    for name in list(attacks.ROBUSTNESS) + list(attacks.PLACEMENT):
        if only and name not in only:
            continue
        table[name] = {
            m: {
                "recovered": statistics.mean(p["attacks"][name][m]["ok"] for p in per_photo),
                "wrong": sum(p["attacks"][name][m]["wrong"] for p in per_photo),
                "bit_accuracy": statistics.mean(p["attacks"][name][m]["bits"] for p in per_photo),
            }
            for m in methods
        }
    quality = {
        m: {
            k: (min(p["quality"][m][k] for p in per_photo), statistics.mean(p["quality"][m][k] for p in per_photo))
            for k in ("psnr", "ssim")
        }
        for m in methods
    }
    sizes = sorted({f"{c.shape[1]}x{c.shape[0]}" for c in covers}, key=lambda size: -int(size.split("x")[0]))
    return {"count": len(covers), "sizes": sizes, "attacks": table, "quality": quality}


# --- videos ------------------------------------------------------------------------------


def _sources(work: Path, count: int) -> list[Path]:
    """The official clips, written as a studio master would be (CRF 16)."""
    from bench.samples import videos

    frames = round(VIDEO_SECONDS * VIDEO_FPS)

    def retimed(path):  # any clip, fitted to 1080p and re-timed to 30 fps by repeating frames
        source = list(attacks._video_frames(path))
        rate = attacks.clip_rate(path)
        for k in range(frames):
            t = k / VIDEO_FPS
            _, rgb = source[min(len(source) - 1, int(t * rate + 1e-6))]
            yield photos.fit(rgb, *VIDEO_SIZE)

    makers = {
        "animation (Big Buck Bunny)": lambda: retimed(videos.real(videos.BUNNY)),
        "camera (bikes)": lambda: retimed(videos.real(videos.BIKES)),
        "pan over a photo (motorcycle)": lambda: videos.pan(
            photos.fit(photos.real("motorcycle_left"), 2400, 1350), frames, VIDEO_SIZE
        ),
        "pan over a photo (astronaut)": lambda: videos.pan(
            photos.fit(photos.real("astronaut"), 2400, 1350), frames, VIDEO_SIZE
        ),
    }
    out = []
    for i, (label, make) in enumerate(list(makers.items())[:count]):
        path = work / f"source{i}.mp4"
        attacks.write_clip(make(), path, VIDEO_FPS, crf=16, preset="veryfast")
        out.append((label, path))
    return out


def _video_job(args) -> dict:
    """Mark one clip with one method, attack it every way, read it back."""
    method, label, src, work = args
    from realmark.keys import Keyring
    from realmark.store import LocalStore
    from signer import sign
    from verifier import verify

    work = Path(tempfile.mkdtemp(dir=work))
    rng = np.random.default_rng(zlib.crc32(f"{method} {label}".encode()))  # the same payloads every run
    marked = work / "marked.mp4"
    results = {}
    if method == "realmark":
        keyring = Keyring(work / "home")
        keyring.create("Bench")
        store = LocalStore(work / "store")
        signed = sign(src, marked, title=label, artists=["bench"], key=keyring.signing_key("Bench"), store=store)
        wm_id = signed.manifest.watermark_id
    else:
        baseline = Baseline(method)
        payload = rng.integers(0, 2, PAYLOAD_BITS).astype(np.uint8)
        attacks.transform(src, marked, picture=lambda rgb: baseline.embed(rgb, payload), crf=18)
    for name, (attack, _) in list(attacks.VIDEO_ROBUSTNESS.items()) + list(attacks.VIDEO_PLACEMENT.items()):
        copy = work / f"{name.replace(' ', '_')}{attacks.VIDEO_SUFFIX.get(name, '.mp4')}"
        attack(marked, copy)
        if method == "realmark":
            result = verify(copy, store=store, trust=keyring.trust())
            found = result.evidence.watermark.id
            truth = codec.coded_bits_for(int(wm_id, 16))
            results[name] = {
                "ok": found == wm_id,
                "wrong": found not in (None, wm_id),
                "bits": _bit_accuracy(_clip_bits(copy), truth),
                "verdict": result.verdict.value,
            }
        else:
            votes = [baseline.extract(rgb) for rgb in _sampled_frames(copy, BASELINE_VIDEO_SAMPLES)]
            bits = (np.mean(votes, axis=0) > 0.5).astype(np.uint8)
            results[name] = {"ok": bool((bits == payload).all()), "wrong": False, "bits": _bit_accuracy(bits, payload)}
        copy.unlink()
    return {"method": method, "clip": label, "attacks": results}


def _clip_bits(path: Path):
    """Realmark's raw coded bits from a whole clip (for bit accuracy)."""
    from realmark.errors import BadInput
    from realmark.media.video import SmallLuma, frames, open_checked

    container, info = open_checked(path)
    if info is None:
        container.close()
        raise BadInput("the file has no video stream")
    shrink = SmallLuma(codec.working_size(info.width, info.height))
    reader = Reader()
    with container:
        for frame in frames(container):
            reader.add(shrink(frame))
    return reader.read(search=True).raw_bits


def _sampled_frames(path: Path, count: int):
    """`count` RGB frames spread evenly over the clip (only those are kept in memory)."""
    from bench.samples import videos

    picks = set(np.linspace(0, videos.frame_count(path) - 1, count).round().astype(int).tolist())
    return [rgb for i, (_, rgb) in enumerate(attacks._video_frames(path)) if i in picks]


def video_robustness(work: Path, count: int, pool) -> dict:
    sources = _sources(work, count)
    jobs = [(m, label, src, work) for label, src in sources for m in METHODS]
    per_clip = list(pool.map(_video_job, jobs))
    table = {}
    for name in list(attacks.VIDEO_ROBUSTNESS) + list(attacks.VIDEO_PLACEMENT):
        table[name] = {}
        for m in METHODS:
            rows = [c["attacks"][name] for c in per_clip if c["method"] == m]
            table[name][m] = {
                "recovered": statistics.mean(r["ok"] for r in rows),
                "wrong": sum(r["wrong"] for r in rows),
                "bit_accuracy": statistics.mean(r["bits"] for r in rows),
            }
            if m == "realmark":
                table[name][m]["verdicts"] = sorted({r["verdict"] for r in rows})
    return {"count": len(sources), "clips": [label for label, _ in sources], "attacks": table}


# --- unmarked ------------------------------------------------------------------------------


@functools.cache
def _unmarked_pool() -> list[np.ndarray]:
    """Unmarked pictures to draw from: the photos and every frame of the shipped clips."""
    from bench.samples import videos

    pool = [rgb for _, rgb in photos.robustness_set()]
    for name in (videos.BUNNY, videos.BIKES, "carphone_pristine"):
        pool += [rgb for _, rgb in attacks._video_frames(videos.real(name))]
    return pool


PLACED_SHARE = 0.3  # unmarked pictures put through a placement attack (screenshot, collage, ...)


def _unmarked_job(args) -> tuple[int, int, float, int]:
    """(pictures read, ids found, seconds spent reading, how many were placement attacks)
    for one chunk."""
    start, count = args
    pictures = _unmarked_pool()
    rng = np.random.default_rng(start)
    found, seconds, read, placed = 0, 0.0, 0, 0
    while read < count:
        rgb = pictures[int(rng.integers(len(pictures)))]
        h, w = rgb.shape[:2]
        ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        pic = rgb[top : top + ch, left : left + cw]
        pic = attacks.scale(pic, rng.uniform(0.5, 1.5))
        if rng.random() < 0.5:
            pic = attacks.hflip(pic)
        if rng.random() < PLACED_SHARE:  # a screenshot, collage, bar, rotation ... of an unmarked picture
            names = list(attacks.PLACEMENT)
            pic = attacks.PLACEMENT[names[int(rng.integers(len(names)))]][0](pic, rng)
            placed += 1
        else:
            pic = attacks.jpeg(pic, int(rng.integers(50, 96)))
        if min(pic.shape[:2]) < codec.MIN_EXTRACT_SHORT_SIDE:
            continue  # too small to read at all: draw another
        t = time.perf_counter()
        found += extract(pic).wm_id is not None
        seconds += time.perf_counter() - t
        read += 1
    return read, found, seconds, placed


def unmarked(total: int, pool) -> dict:
    chunk = 250
    jobs = [(start, min(chunk, total - start)) for start in range(0, total, chunk)]
    parts = list(pool.map(_unmarked_job, jobs))
    read = sum(p[0] for p in parts)
    return {
        "read": read,
        "placed": sum(p[3] for p in parts),
        "ids_found": sum(p[1] for p in parts),
        "seconds_per_picture": sum(p[2] for p in parts) / max(1, read),
    }


# --- report ------------------------------------------------------------------------------


def _cell(v: dict) -> str:
    return f"{v['recovered']:.0%} / {v['bit_accuracy']:.2f}"


def _rows(table: dict, targets: dict) -> list[str]:
    lines = [
        "| attack | target | realmark | " + " | ".join(BASELINES) + " | holds |",
        "|---|---|---|" + "---|" * len(BASELINES) + "---|",
    ]
    for name, row in table.items():
        target = attacks.TARGETS.get(targets[name])
        ours = row["realmark"]
        extra = f" ({', '.join(ours['verdicts'])})" if "verdicts" in ours else ""
        holds = "" if target is None else ("yes" if ours["recovered"] >= target and ours["wrong"] == 0 else "**no**")
        if ours["wrong"]:
            extra += f" **{ours['wrong']} wrong ids**"
        lines.append(
            f"| {name} | {'-' if target is None else f'>= {target:.0%}'} | {_cell(ours)}{extra} | "
            + " | ".join(_cell(row[b]) if b in row else "not run" for b in BASELINES)
            + f" | {holds} |"
        )
    return lines


def markdown(r: dict) -> str:
    lines = [
        f"Machine: {r['machine']}. Cells: recovered (exact payload) / raw bit accuracy. "
        f"Run time {r['minutes']:.0f} min.",
        "",
    ]
    if "photos" in r:
        p = r["photos"]
        lines += [f"**Photos**: {p['count']} real photos over 1 MP ({' and '.join(p['sizes'])}).", ""]
        lines += ["| method | luma PSNR dB (min / mean) | luma SSIM (min / mean) |", "|---|---|---|"]
        for m, q in p["quality"].items():
            lines.append(f"| {m} | {q['psnr'][0]:.2f} / {q['psnr'][1]:.2f} | {q['ssim'][0]:.4f} / {q['ssim'][1]:.4f} |")
        targets = {k: v[1] for k, v in list(attacks.ROBUSTNESS.items()) + list(attacks.PLACEMENT.items())}
        lines += [""] + _rows(p["attacks"], targets) + [""]
    if "videos" in r:
        v = r["videos"]
        lines += [
            f"**Videos**: {v['count']} clips, 1920x1080, 30 fps, {VIDEO_SECONDS} s: {'; '.join(v['clips'])}. "
            "Realmark: the real signer, then `verifier.verify` (its verdicts in brackets); "
            f"baselines: every frame marked, majority vote over {BASELINE_VIDEO_SAMPLES} frames.",
            "",
        ]
        targets = {k: t for k, (_, t) in list(attacks.VIDEO_ROBUSTNESS.items()) + list(attacks.VIDEO_PLACEMENT.items())}
        lines += _rows(v["attacks"], targets) + [""]
    if "forgeries" in r:
        lines += forgeries.markdown(r["forgeries"])
    if "unmarked" in r:
        u = r["unmarked"]
        lines.append(
            f"**Unmarked**: {u['read']} unmarked photos and video frames "
            "(random crops 50-100 %, resized x0.5-1.5, half mirrored; "
            f"{u.get('placed', 0)} of them then put through a placement attack (screenshot, collage, bar, "
            "rotation, stretch, keystone, warp), the others JPEG q50-95): "
            f"**{u['ids_found']} ids found** "
            f'({u["seconds_per_picture"] * 1000:.0f} ms per picture to answer "no mark").'
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=None, help="photos to use (default: all 22)")
    parser.add_argument("--videos", type=int, default=3, help="clips to use (up to 4; 0 skips videos)")
    parser.add_argument("--forgeries", type=int, default=3, help="clips for the forgery rows (up to 3; 0 skips)")
    parser.add_argument("--unmarked", type=int, default=10_000, help="unmarked pictures to read (0 skips)")
    parser.add_argument(
        "--no-photo-table", action="store_true", help="skip the photo watermark table (photo forgery rows still run)"
    )
    parser.add_argument(
        "--attacks",
        default="",
        help="comma-separated photo attacks to run alone (e.g. keystone,keystone_mirrored); "
        "skips the photo forgery rows",
    )
    parser.add_argument(
        "--draw",
        type=int,
        default=0,
        help="place, size and time the edits afresh (0: the draw the detectors were measured against)",
    )
    parser.add_argument(
        "--short-side",
        type=int,
        default=1080,
        help="the photos' short side as published: 1080 (1920x1080, 1080x1350), or 2160 for 4K",
    )
    parser.add_argument(
        "--no-baselines", action="store_true", help="Realmark alone in the photo table (the baselines' cells: not run)"
    )
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    only = tuple(a for a in args.attacks.split(",") if a)
    unknown = set(only) - set(attacks.ROBUSTNESS) - set(attacks.PLACEMENT)
    if unknown:
        parser.error(f"unknown attacks: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    report = {"machine": machine()}
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool, tempfile.TemporaryDirectory() as tmp:
        covers = [rgb for _, rgb in photos.robustness_set(args.short_side)][: args.photos]
        if covers and not args.no_photo_table:
            methods = ("realmark",) if args.no_baselines else METHODS
            report["photos"] = photo_robustness(covers, pool, methods, only)
        if args.videos:
            report["videos"] = video_robustness(Path(tmp), args.videos, pool)
        if covers and not only:
            report.setdefault("forgeries", {})["photos"] = forgeries.photo_forgeries(covers, pool, args.draw)
        if args.forgeries:
            report.setdefault("forgeries", {})["clips"] = forgeries.clip_forgeries(
                Path(tmp), args.forgeries, pool, args.draw
            )
        if args.unmarked:
            report["unmarked"] = unmarked(args.unmarked, pool)
    report["minutes"] = (time.perf_counter() - started) / 60
    publish(markdown(report), args.markdown)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
