"""Video benchmark: signing cost, verification speed, and memory against clip length.

    python -m bench.video [--markdown FILE]
    python -m bench.video --split [--seconds 40] [--processes 2] [--segment-seconds 5]
    python -m bench.video --against-ffmpeg [--pairs 5]

- sign time vs a plain transcode of the same clip with the same encoder settings
  (libx264, CRF 18, preset medium, audio copied), both through the same FFmpeg
  libraries, median of 3 runs each;
- verify time as a fraction of clip duration, for the signed 720p clip, 720p / 480p
  CRF 28 re-encodes of it, a 1080p upscale, and the clip as a picture-in-picture window
  in a 1080p reaction video;
- peak memory (max RSS of a fresh process) signing a short clip and a 10x longer one.

--split: a long 1080p clip (Big Buck Bunny over and over, a key frame every 2 s, with its
sound) signed in one piece and in segments on N processes of this machine, in
interleaved pairs; and what cutting costs: the plan (reading every packet) and the
join (writing the file from the segments' packets and the source's audio).

--against-ffmpeg: `realmark sign` and the `ffmpeg` binary a user would run (imageio-ffmpeg's,
`-c:v libx264 -crf 18 -preset medium -c:a copy`) on the same 1080p clip, each a whole
process timed from outside, in interleaved pairs; the ratio is taken pair by pair.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av

from bench import attacks
from bench.report import machine, publish
from bench.samples import videos
from realmark.keys import Keyring
from realmark.media.video import probe
from realmark.store import LocalStore
from signer import EncoderSettings, InThisProcess, ProcessPool, Signer, sign
from signer.segments import Cut, SegmentWork, join, plan
from verifier import verify

RUNS = 3
PAIRS = 5  # plain and sign alternate, so both see the same machine load


def plain_transcode(src: Path, dst: Path, settings: EncoderSettings) -> None:
    """The baseline: decode -> libx264 encode with the same settings, audio copied."""
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as out:
        vin = source.streams.video[0]
        vin.thread_type = "AUTO"
        vout = out.add_stream(
            "libx264", rate=vin.average_rate, options={"crf": str(settings.crf), "preset": settings.preset}
        )
        vout.width, vout.height, vout.pix_fmt, vout.time_base = vin.width, vin.height, "yuv420p", vin.time_base
        audio = {a.index: out.add_stream_from_template(a) for a in source.streams.audio}
        for packet in source.demux(vin, *source.streams.audio):
            if packet.stream.type == "audio":
                if packet.dts is not None:
                    packet.stream = audio[packet.stream.index]
                    out.mux(packet)
                continue
            for frame in packet.decode():
                frame.pict_type = av.video.frame.PictureType.NONE
                for encoded in vout.encode(frame):
                    out.mux(encoded)
        for encoded in vout.encode():
            out.mux(encoded)


def remux(src: Path, dst: Path) -> None:
    """Copy the video packets into a new MP4 without metadata: what a platform that only
    strips tags does. The file's bytes change, the pictures do not."""
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as out:
        vin = source.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in source.demux(vin):
            if packet.dts is not None:
                packet.stream = vout
                out.mux(packet)


def median_time(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sign_once(src: Path, work: Path, settings: EncoderSettings) -> None:
    """Sign into a fresh store (so nothing is found already signed)."""
    home = Path(tempfile.mkdtemp(dir=work))
    keyring = Keyring(home)
    keyring.create("Bench")
    sign(
        src,
        home / "signed.mp4",
        title="t",
        artists=["a"],
        key=keyring.signing_key("Bench"),
        store=LocalStore(home / "store"),
        encoder=settings,
    )


def peak_rss_mb(src: Path, work: Path) -> float:
    """Max RSS of a fresh process that signs src, reported by that process itself."""
    code = (
        "import sys, resource; from pathlib import Path; from bench.video import _sign_once; "
        "from signer import EncoderSettings;"
        "_sign_once(Path(sys.argv[1]), Path(sys.argv[2]), EncoderSettings());"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(src), str(work)], check=True, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024


def run() -> dict:
    settings = EncoderSettings()
    src = videos.real(videos.BUNNY)
    with av.open(str(src)) as c:
        duration = float(c.streams.video[0].duration * c.streams.video[0].time_base)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plains, signs = [], []
        for _ in range(PAIRS):
            start = time.perf_counter()
            plain_transcode(src, work / "plain.mp4", settings)
            plains.append(time.perf_counter() - start)
            start = time.perf_counter()
            _sign_once(src, work, settings)
            signs.append(time.perf_counter() - start)
        ratios = sorted(s / p for s, p in zip(signs, plains, strict=True))

        home = work / "verify-home"
        keyring = Keyring(home)
        keyring.create("Bench")
        store = LocalStore(home / "store")
        signed = work / "signed.mp4"
        sign(src, signed, title="t", artists=["a"], key=keyring.signing_key("Bench"), store=store, encoder=settings)
        remuxed = work / "remuxed.mp4"  # metadata stripped by re-muxing: same high-bitrate stream, new file
        remux(signed, remuxed)
        copies = {"signed 720p (CRF 18), byte-identical": signed, "signed 720p (CRF 18), re-muxed": remuxed}
        for height in (720, 480):
            copies[f"re-encoded {height}p CRF 28"] = work / f"copy{height}.mp4"
            attacks.reencode(signed, copies[f"re-encoded {height}p CRF 28"], height=height, crf=28)
        # 1080p: a platform's upscale, and the picture moved inside a 1080p frame (the
        # lattice search, the region's warp back and the timeline all run)
        copies["re-encoded 1080p CRF 23 (upscaled)"] = work / "copy1080.mp4"
        attacks.reencode(signed, copies["re-encoded 1080p CRF 23 (upscaled)"], height=1080, crf=23)
        copies["picture-in-picture in a 1920x1080 reaction video"] = work / "pip.mp4"
        attacks.VIDEO_PLACEMENT["picture_in_picture (1)"][0](
            signed, copies["picture-in-picture in a 1920x1080 reaction video"]
        )
        verified = {}
        for label, path in copies.items():
            verdicts = set()

            def check(path=path, verdicts=verdicts):
                verdicts.add(verify(path, store=store, trust=keyring.trust()).verdict.value)

            seconds = median_time(check)
            verified[label] = {
                "seconds": seconds,
                "fraction_of_duration": seconds / duration,
                "verdicts": sorted(verdicts),
            }

        long_clip = work / "long.mp4"  # the same clip ten times over, with its audio dropped
        attacks.splice([(src, 0.0, None)] * 10, long_clip, crf=18)
        with av.open(str(long_clip)) as c:
            long_duration = float(c.streams.video[0].duration * c.streams.video[0].time_base)
        short_mb = peak_rss_mb(src, work)
        long_mb = peak_rss_mb(long_clip, work)
    return {
        "machine": machine(),
        "clip": f"{src.name}: 1280x720, 25 fps, {duration:.2f} s, H.264 + AAC",
        "encoder": f"libx264 CRF {settings.crf}, preset {settings.preset}",
        "plain_transcode_s": statistics.median(plains),
        "sign_s": statistics.median(signs),
        "sign_ratio": statistics.median(ratios),
        "sign_ratio_range": (ratios[0], ratios[-1]),
        "verify": verified,
        "memory": {
            "short_s": duration,
            "short_mb": short_mb,
            "long_s": long_duration,
            "long_mb": long_mb,
            "ratio": long_mb / short_mb,
        },
    }


def split_run(seconds: float, processes: int, segment_seconds: float, pairs: int) -> dict:
    settings = EncoderSettings()
    bunny = videos.real(videos.BUNNY)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "concert.mp4"
        loops = max(1, round(seconds / 5.28))
        attacks.splice([(bunny, 0.0, None)] * loops, src, crf=18, size=(1920, 1080), key_every=50)
        info = probe(src)
        pool = ProcessPool(processes, segment_seconds)
        whole, split = [], []
        for _ in range(pairs):
            for times, segments in ((whole, InThisProcess()), (split, pool)):
                home = Path(tempfile.mkdtemp(dir=work))
                keyring = Keyring(home)
                keyring.create("Bench")
                signer = Signer(
                    LocalStore(home / "store"), keyring.signing_key("Bench"), encoder=settings, segments=segments
                )
                start = time.perf_counter()
                signer.sign(src, home / "signed.mp4", title="t", artists=["a"])
                times.append(time.perf_counter() - start)
        speedups = sorted(w / s for w, s in zip(whole, split, strict=True))
        start = time.perf_counter()
        cuts = plan(src, segment_seconds, 4 * processes)
        plan_s = time.perf_counter() - start
        # The join on its own: the segments' packets signed once more, here, then joined.
        folder = work / "join"
        folder.mkdir()
        parts = InThisProcess().sign(src, [SegmentWork(info, settings, 1, cut) for cut in cuts], folder, None)
        start = time.perf_counter()
        join(src, parts, work / "joined.mp4", info, settings)
        join_s = time.perf_counter() - start
        one = InThisProcess().sign(src, [SegmentWork(info, settings, 1, Cut(0))], work, None)
        start = time.perf_counter()
        join(src, one, work / "joined-one.mp4", info, settings)
        join_one_s = time.perf_counter() - start
    return {
        "machine": machine(),
        "clip": f"Big Buck Bunny x{loops}: 1920x1080, 25 fps, {info.duration_s:.1f} s, a key frame every 2 s, AAC",
        "encoder": f"libx264 CRF {settings.crf}, preset {settings.preset}",
        "processes": processes,
        "segments": len(cuts),
        "segment_seconds": segment_seconds,
        "whole_s": statistics.median(whole),
        "split_s": statistics.median(split),
        "speedup": statistics.median(speedups),
        "speedup_range": (speedups[0], speedups[-1]),
        "pairs": pairs,
        "plan_s": plan_s,
        "join_s": join_s,
        "join_one_s": join_one_s,
        "segment_s": [segment.seconds for segment, _ in parts],
    }


def against_ffmpeg(pairs: int) -> dict:
    import imageio_ffmpeg  # the bench extra: a static ffmpeg build from PyPI

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "clip1080.mp4"  # the 5.3 s clip upscaled to 1080p, a CRF 16 master with AAC
        attacks.splice([(videos.real(videos.BUNNY), 0.0, None)], src, crf=16, size=(1920, 1080))
        Keyring(work / "home").create("Bench")
        sign_cmd = [sys.executable, "-m", "cli", "sign", str(src), "-o", str(work / "s.mp4"), "--title", "T"]
        sign_cmd += ["--artist", "A"]
        ffmpeg_cmd = [ffmpeg, "-y", "-loglevel", "error", "-i", str(src), "-c:v", "libx264", "-crf", "18"]
        ffmpeg_cmd += ["-preset", "medium", "-c:a", "copy", str(work / "f.mp4")]

        def timed(cmd, env=None) -> float:
            start = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, capture_output=True)
            return time.perf_counter() - start

        signs, plains = [], []
        for run in range(pairs + 1):  # the first pair warms the caches and is not counted
            home = work / f"home-{run}"
            subprocess.run(["cp", "-r", str(work / "home"), str(home)], check=True)
            took = timed(sign_cmd, {**os.environ, "REALMARK_HOME": str(home)})
            plain = timed(ffmpeg_cmd)
            if run:
                signs.append(took)
                plains.append(plain)
        ratios = sorted(a / b for a, b in zip(signs, plains, strict=True))
    return {
        "machine": machine(),
        "ffmpeg": Path(ffmpeg).name,
        "sign_s": statistics.median(signs),
        "ffmpeg_s": statistics.median(plains),
        "ratio": statistics.median(ratios),
        "ratio_range": (ratios[0], ratios[-1]),
        "pairs": pairs,
    }


def against_ffmpeg_markdown(r: dict) -> str:
    return "\n".join(
        [
            f"Machine: {r['machine']}. Big Buck Bunny (5.3 s) upscaled to 1920x1080, CRF 16 master, AAC; "
            f"{r['pairs']} interleaved pairs, whole processes.",
            "",
            "| command | wall (median) |",
            "|---|---|",
            f"| `realmark sign clip.mp4 -o signed.mp4` (fresh home) | {r['sign_s']:.1f} s |",
            f"| `{r['ffmpeg']} -i clip.mp4 -c:v libx264 -crf 18 -preset medium -c:a copy` | {r['ffmpeg_s']:.1f} s |",
            f"| sign / ffmpeg (median of paired ratios; range) | **{r['ratio']:.2f}x** "
            f"({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}) |",
        ]
    )


def split_markdown(r: dict) -> str:
    return "\n".join(
        [
            f"Machine: {r['machine']}. Clip: {r['clip']}. Encoder: {r['encoder']}. {r['pairs']} interleaved pairs.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| signed in one piece (median) | {r['whole_s']:.1f} s |",
            f"| signed in {r['segments']} segments (>= {r['segment_seconds']:g} s) on {r['processes']} processes "
            f"(median) | {r['split_s']:.1f} s |",
            f"| speedup (median of paired ratios; range) | **{r['speedup']:.2f}x** "
            f"({r['speedup_range'][0]:.2f}-{r['speedup_range'][1]:.2f}) |",
            f"| plan: reading every packet for key frames | {r['plan_s']:.2f} s |",
            f"| join of {r['segments']} segments (video packets + source audio) | {r['join_s']:.2f} s |",
            f"| join of one segment (what one-piece signing also does) | {r['join_one_s']:.2f} s |",
            f"| one segment's signing, in this process (min-max) | "
            f"{min(r['segment_s']):.1f}-{max(r['segment_s']):.1f} s |",
        ]
    )


def markdown(r: dict) -> str:
    lines = [
        f"Machine: {r['machine']}. Clip: {r['clip']}. Encoder: {r['encoder']}. "
        f"Signing: median of {PAIRS} interleaved plain/sign pairs; verification: median of {RUNS} runs.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| plain transcode (decode, encode, audio copy) | {r['plain_transcode_s']:.2f} s |",
        f"| realmark sign (probe, hash, mark, encode, read-back check, store) | {r['sign_s']:.2f} s |",
        f"| sign / plain transcode (median of paired ratios; range) | **{r['sign_ratio']:.2f}x** "
        f"({r['sign_ratio_range'][0]:.2f}-{r['sign_ratio_range'][1]:.2f}) |",
    ]
    for label, v in r["verify"].items():
        lines.append(
            f"| verify {label} | {v['seconds']:.2f} s = **{v['fraction_of_duration']:.3f}x** duration "
            f"({', '.join(v['verdicts'])}) |"
        )
    m = r["memory"]
    lines.append(f"| peak memory signing {m['short_s']:.1f} s clip | {m['short_mb']:.0f} MB |")
    lines.append(f"| peak memory signing {m['long_s']:.1f} s clip | {m['long_mb']:.0f} MB (**{m['ratio']:.2f}x**) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON too")
    parser.add_argument("--split", action="store_true", help="a long clip in one piece against in segments")
    parser.add_argument("--seconds", type=float, default=40.0, help="--split: the long clip's length")
    parser.add_argument("--processes", type=int, default=2, help="--split: processes signing segments")
    parser.add_argument("--segment-seconds", type=float, default=5.0, help="--split: the shortest segment")
    parser.add_argument("--pairs", type=int, default=2, help="--split, --against-ffmpeg: interleaved pairs")
    parser.add_argument("--against-ffmpeg", action="store_true", help="realmark sign against the ffmpeg binary")
    args = parser.parse_args(argv)
    if args.against_ffmpeg:
        report = against_ffmpeg(args.pairs)
        publish(against_ffmpeg_markdown(report), args.markdown)
        if args.json:
            print(json.dumps(report, indent=2))
        return 0
    if args.split:
        report = split_run(args.seconds, args.processes, args.segment_seconds, args.pairs)
        publish(split_markdown(report), args.markdown)
        if args.json:
            print(json.dumps(report, indent=2))
        return 0
    report = run()
    publish(markdown(report), args.markdown)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
