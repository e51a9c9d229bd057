"""Issue 3's cases through the `realmark` command, on a real 720p clip with AAC audio."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from bench import attacks
from bench.samples import videos
from realmark.store import Records
from tests.conftest import realmark_home

FIXED_ID = 0x2B7E151628AE


@pytest.fixture(scope="module")
def signed_clip(tmp_path_factory):
    """Big Buck Bunny (1280x720, 25 fps, 5.3 s, AAC) signed once for the whole module."""
    from cli import main

    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("clips")
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "HYBE"]) == 0
        out = work / "signed.mp4"
        # A fixed watermark id keeps these tests reproducible. Known weakness: where a
        # 4-frame insertion is located depends on the id's pattern (about 1 id in 3
        # reports the change elsewhere in the clip; the verdict is `altered` for all).
        with mock.patch.object(Records, "new_watermark_id", staticmethod(lambda: FIXED_ID)):
            assert (
                main(
                    [
                        "sign",
                        str(videos.real(videos.BUNNY)),
                        "-o",
                        str(out),
                        "--title",
                        "MV",
                        "--artist",
                        "NewJeans",
                        "--preset",
                        "veryfast",
                        "--json",
                    ]
                )
                == 0
            )
    return home, work, out


@pytest.fixture
def vcli(signed_clip, cli, monkeypatch):
    home, work, out = signed_clip
    monkeypatch.setenv("REALMARK_HOME", str(home))
    cli.home = home
    return cli, work, out


def test_signed_clip_is_authentic(vcli):
    cli, _, out = vcli
    code, body = cli.json("verify", out)
    assert (code, body["verdict"]) == (0, "authentic")
    assert body["evidence"]["content"]["exact_match"] is True
    media = body["manifest"]["media"]
    assert media["type"] == "video/mp4" and (media["width"], media["height"]) == (1280, 720)
    assert media["frame_rate"] == "25/1" and media["frames"] == 132
    assert len(body["manifest"]["timeline"]["fingerprints"]) == 21  # every 0.25 s, 0 to 5.0 (last frame at 5.24)


def test_signed_output_keeps_audio_packets_frames_and_timing(vcli):
    _, _, out = vcli
    src = videos.real(videos.BUNNY)
    assert videos.audio_packets(out) == videos.audio_packets(src)
    assert len(videos.audio_packets(out)) > 100
    assert videos.frame_count(out) == videos.frame_count(src) == 132
    a, b = videos.stream_facts(src), videos.stream_facts(out)
    assert a["rate"] == b["rate"] and a["size"] == b["size"]
    assert abs(a["duration"] - b["duration"]) < 0.05


@pytest.mark.parametrize("height", [720, 480])
def test_reencoded_crf28_copies_are_authentic(vcli, tmp_path, height):
    cli, _, out = vcli
    copy = tmp_path / f"copy{height}.mp4"
    attacks.reencode(out, copy, height=height, crf=28)
    code, body = cli.json("verify", copy)
    assert body["verdict"] == "authentic", body["evidence"]
    ranges = body["evidence"]["content"]["ranges"]
    assert len(ranges) == 1 and ranges[0]["kind"] == "official"
    assert abs(ranges[0]["original_start"]) < 0.2 and abs(ranges[0]["original_end"] - 5.28) < 0.2


def test_three_second_piece_from_the_middle_is_mapped_to_its_place(vcli, tmp_path):
    cli, _, out = vcli
    piece = tmp_path / "piece.mp4"
    attacks.trim(out, piece, 1.2, 4.2)
    code, body = cli.json("verify", piece)
    assert (code, body["verdict"]) == (0, "authentic"), body["evidence"]
    (r,) = body["evidence"]["content"]["ranges"]
    assert abs(r["original_start"] - 1.2) < 0.2 and abs(r["original_end"] - 4.2) < 0.2
    assert abs(r["clip_start"]) < 0.05 and abs(r["clip_end"] - 3.0) < 0.1
    assert "1.2" in body["message"] or "1.1" in body["message"] or "1.3" in body["message"]


def test_spliced_with_foreign_footage_is_altered_naming_the_foreign_range(vcli, tmp_path):
    cli, _, out = vcli
    fake = tmp_path / "spliced.mp4"
    attacks.splice([(out, 0.0, 2.0), (videos.real(videos.BIKES), 3.0, 5.0), (out, 3.0, 5.0)], fake)
    code, body = cli.json("verify", fake)
    assert (code, body["verdict"]) == (1, "altered"), body["evidence"]
    ranges = body["evidence"]["content"]["ranges"]
    foreign = [r for r in ranges if r["kind"] == "foreign"]
    assert len(foreign) == 1 and abs(foreign[0]["clip_start"] - 2.0) < 0.2 and abs(foreign[0]["clip_end"] - 4.0) < 0.2
    official = [r for r in ranges if r["kind"] == "official"]
    assert [round(r["original_start"]) for r in official] == [0, 3]
    assert "2.0" in body["message"] or "1.9" in body["message"] or "2.1" in body["message"]


def test_a_frame_grab_of_a_signed_clip_is_not_confirmed_and_its_clip_is_not_fetched(vcli, tmp_path, monkeypatch):
    """A still taken from an official clip carries the clip's mark: official pictures,
    but a photo cannot be laid on a clip's timeline. Not confirmed, and the published
    clip (up to gigabytes) is never fetched to compare pixels with it."""
    from PIL import Image

    from realmark.media.video import frames, open_video
    from realmark.store import Records

    cli, _, out = vcli
    with open_video(out) as container:
        first = next(frames(container))
    grab = tmp_path / "grab.png"
    Image.fromarray(first.to_ndarray(format="rgb24")).save(grab)
    fetched, fetch = [], Records.published_bytes
    monkeypatch.setattr(Records, "published_bytes", lambda self, *key: fetched.append(key) or fetch(self, *key))
    code, body = cli.json("verify", grab)
    assert (code, body["verdict"], body["reasons"]) == (1, "altered", ["content_not_comparable"]), body
    assert fetched == []


def test_unsigned_clip_is_unknown(vcli):
    cli, _, _ = vcli
    code, body = cli.json("verify", videos.real(videos.BIKES))
    assert (code, body["verdict"]) == (1, "unknown")
    assert "not prove" in body["message"]


def test_the_unmarked_master_of_a_signed_clip_is_only_likely_authentic(vcli):
    """The file the agency uploaded before signing carries no mark, but looks exactly
    like what was signed: matched by appearance, never `authentic`."""
    cli, _, _ = vcli
    code, body = cli.json("verify", videos.real(videos.BUNNY))
    assert (code, body["verdict"]) == (1, "likely_authentic")
    assert body["evidence"]["appearance"]["moments_matched"] == body["evidence"]["appearance"]["samples"]


def test_text_output_lists_ranges(vcli, tmp_path):
    cli, _, out = vcli
    piece = tmp_path / "piece.mp4"
    attacks.trim(out, piece, 2.0, 4.0)
    code, stdout, _ = cli("verify", piece)
    assert code == 0 and stdout.startswith("AUTHENTIC:") and "official = original 2.0-4.0 s" in stdout


class _Terminal:
    """A stand-in stderr that says it is a terminal and keeps what was written."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_on_a_terminal_but_never_with_json(vcli, monkeypatch, tmp_path):
    import sys

    cli, _, out = vcli
    piece = tmp_path / "piece.mp4"
    attacks.trim(out, piece, 0.0, 2.0)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli("verify", piece)[0] == 0
    assert "verifying [" in terminal.text and "%" in terminal.text
    terminal.text = ""
    assert cli("verify", piece, "--json")[0] == 0
    assert terminal.text == ""


def test_reordered_official_parts_are_altered_with_each_part_mapped(vcli, tmp_path):
    cli, _, out = vcli
    edit = tmp_path / "reordered.mp4"
    attacks.splice([(out, 3.0, 5.0), (out, 0.0, 2.0)], edit)
    code, body = cli.json("verify", edit)
    assert (code, body["verdict"]) == (1, "altered")
    official = [r for r in body["evidence"]["content"]["ranges"] if r["kind"] == "official"]
    assert [round(r["original_start"]) for r in official] == [3, 0]
    assert "different places" in body["message"]


# Issue 5: a representative subset of the video robustness suite (bench.attacks.VIDEO_ROBUSTNESS).
@pytest.mark.parametrize(
    "attack, verdict",
    [("vp9_webm", "authentic"), ("hflip", "authentic"), ("h264_crf32", "authentic"), ("reframe_9_16", "altered")],
)
def test_platform_copies_are_traced_to_the_signed_clip(vcli, tmp_path, attack, verdict):
    cli, _, out = vcli
    signed_id = cli.json("verify", out)[1]["manifest"]["manifest_id"]
    copy = tmp_path / f"{attack}{attacks.VIDEO_SUFFIX.get(attack, '.mp4')}"
    attacks.VIDEO_ROBUSTNESS[attack][0](out, copy)
    code, body = cli.json("verify", copy)
    assert body["manifest"] is not None and body["manifest"]["manifest_id"] == signed_id, body["evidence"]
    assert body["verdict"] == verdict, body["message"]
    if attack == "reframe_9_16":
        assert "re-framed" in body["message"] and body["evidence"]["watermark"]["scale"] > 1.5


def test_a_clip_whose_watermark_is_gone_is_found_by_appearance(vcli, tmp_path):
    """Issue 6: a 180p, heavily compressed piece loses the mark; its frames still line up
    with the signed clip's timeline fingerprints."""
    cli, _, out = vcli
    copy = tmp_path / "tiny.mp4"
    attacks.transform(out, copy, crf=38, start=1.0, end=4.0, size=attacks._height(out, 180))
    code, body = cli.json("verify", copy)
    assert body["evidence"]["watermark"]["found"] is False
    assert (code, body["verdict"]) == (1, "likely_authentic")
    found = body["evidence"]["appearance"]
    assert found["moments_matched"] >= found["samples"] // 2
    assert abs(found["original_start"] - 1.0) <= 0.3 and abs(found["original_end"] - 3.75) <= 0.3


def _animation(src: Path, dst: Path, start: float, end: float, fps: float, width: int) -> int:
    """Frames of a clip as an animated GIF (256 colours, dithered) or WebP, as fans make
    them: shorter, smaller, fewer frames a second."""
    import av
    from PIL import Image

    frames, due = [], start
    with av.open(str(src)) as container:
        for frame in container.decode(video=0):
            if frame.time < due:
                continue
            if frame.time > end:
                break
            picture = frame.to_image()
            frames.append(picture.resize((width, round(picture.height * width / picture.width)), Image.LANCZOS))
            due += 1 / fps
    if dst.suffix == ".gif":
        frames = [f.quantize(256, dither=Image.Dither.FLOYDSTEINBERG) for f in frames]
    frames[0].save(dst, save_all=True, append_images=frames[1:], duration=round(1000 / fps), loop=0)
    return len(frames)


@pytest.mark.parametrize(
    "name, start, end, fps, width",
    [
        ("fan.gif", 1.0, 3.5, 10, 480),
        ("small.gif", 2.0, 4.0, 12.5, 320),
        ("fan.webp", 0.5, 3.0, 15, 640),
        ("fan.avif", 1.5, 3.5, 12, 640),
    ],
)
def test_a_gif_of_official_frames_is_official_footage_at_its_seconds(vcli, name, start, end, fps, width):
    cli, work, out = vcli
    frames = _animation(out, work / name, start, end, fps, width)
    assert frames >= 20
    code, body = cli.json("verify", work / name)
    assert (code, body["verdict"]) == (0, "authentic"), body["reasons"]
    assert "no_sound" in body["reasons"]  # a GIF has none: its pictures are what is checked
    (official,) = body["evidence"]["content"]["ranges"]
    assert official["kind"] == "official" and abs(official["original_start"] - start) <= 0.3


def test_a_gif_of_other_frames_is_unknown_and_a_bad_one_is_refused(vcli, tmp_path):
    import numpy as np
    from PIL import Image

    cli, work, _ = vcli
    rng = np.random.default_rng(0)
    frames = [Image.fromarray((rng.random((120, 160, 3)) * 255).astype("uint8")) for _ in range(6)]
    frames[0].save(tmp_path / "noise.gif", save_all=True, append_images=frames[1:], duration=100)
    assert cli.json("verify", tmp_path / "noise.gif")[1]["verdict"] == "unknown"
    (tmp_path / "cut.gif").write_bytes((tmp_path / "noise.gif").read_bytes()[:3000])
    code, _, err = cli("verify", tmp_path / "cut.gif")
    assert code == 2 and "damaged or truncated" in err
    tiny = [Image.fromarray((rng.random((8, 8, 3)) * 255).astype("uint8")) for _ in range(3001)]  # all distinct
    tiny[0].save(tmp_path / "long.gif", save_all=True, append_images=tiny[1:], duration=40)
    code, _, err = cli("verify", tmp_path / "long.gif")
    assert code == 2 and "3001 frames; the limit is 3000" in err
    code, _, err = cli("sign", tmp_path / "noise.gif", "-o", tmp_path / "x.gif", "--title", "T", "--artist", "A")
    assert code == 2 and "never signed" in err
    bomb = bytearray((tmp_path / "noise.gif").read_bytes())
    bomb[6:10] = (12000).to_bytes(2, "little") * 2  # a header claiming 144 MP
    (tmp_path / "bomb.gif").write_bytes(bomb)
    code, _, err = cli("verify", tmp_path / "bomb.gif")
    assert code == 2 and "decompression bomb" in err, err
