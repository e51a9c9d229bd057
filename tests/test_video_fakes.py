"""Fake clips that must never come out "authentic" (found in review; each once did)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from bench import attacks
from bench.samples import videos
from realmark.watermark.codec import VIDEO_TARGET_PSNR_DB, Embedder
from tests.test_cli_video import signed_clip, vcli  # noqa: F401  (shared module fixtures)


def _frames(path, start=0.0, end=None):
    return [rgb for _, rgb in attacks._video_frames(path, start, end)]


def _foreign(n, size):
    return [
        np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(f).resize(size))
        for f in _frames(videos.real(videos.BIKES), 1.0)[:n]
    ]


def _verdict(cli, path):
    code, body = cli.json("verify", path)
    return body["verdict"], body


def test_official_mark_stamped_onto_foreign_footage_in_the_middle(vcli, tmp_path):
    cli, _, out = vcli
    with av.open(str(out)) as c:
        info = c.streams.video[0]
        size = (info.width, info.height)
    _, body = _verdict(cli, out)
    wm_id = int(body["manifest"]["watermark"]["id"], 16)
    stamp = Embedder(size[0], size[1], wm_id, psnr_db=VIDEO_TARGET_PSNR_DB)
    official = _frames(out)
    forged = [stamp.mark_rgb(f) for f in _foreign(50, size)]
    fake = tmp_path / "stamped.mp4"
    attacks.write_clip(official[:38] + forged + official[88:], fake, 25, crf=20, size=size)
    verdict, body = _verdict(cli, fake)
    assert verdict == "altered", body["evidence"]["content"]["ranges"]
    assert any(
        r["kind"] == "changed" and r["clip_start"] < 3.0 and r["clip_end"] > 2.0
        for r in body["evidence"]["content"]["ranges"]
    )


def test_interleaved_foreign_frames(vcli, tmp_path):
    cli, _, out = vcli
    official = _frames(out)
    size = (official[0].shape[1], official[0].shape[0])
    foreign = _foreign(len(official), size)
    mixed = [official[i] if i % 3 == 0 else foreign[i] for i in range(len(official))]
    fake = tmp_path / "interleaved.mp4"
    attacks.write_clip(mixed, fake, 25, crf=20)
    assert _verdict(cli, fake)[0] == "altered"


@pytest.mark.parametrize("fps", [18.75, 31.25])
def test_slowed_down_or_sped_up(vcli, tmp_path, fps):
    cli, _, out = vcli
    fake = tmp_path / "speed.mp4"
    attacks.write_clip(_frames(out), fake, Fraction(fps).limit_denominator(100), crf=20)
    assert _verdict(cli, fake)[0] == "altered"


def test_four_foreign_frames_inserted(vcli, tmp_path):
    cli, _, out = vcli
    official = _frames(out)
    size = (official[0].shape[1], official[0].shape[0])
    fake = tmp_path / "flash.mp4"
    attacks.write_clip(official[:62] + _foreign(4, size) + official[62:], fake, 25, crf=20)
    verdict, body = _verdict(cli, fake)
    assert verdict == "altered"
    suspect = [r for r in body["evidence"]["content"]["ranges"] if r["kind"] in ("foreign", "changed")]
    assert any(r["clip_start"] <= 2.5 and r["clip_end"] >= 2.6 for r in suspect), body["evidence"]["content"]["ranges"]


def test_long_foreign_opening_needs_a_second_pass(vcli, tmp_path, monkeypatch):
    from verifier import video

    monkeypatch.setattr(video, "MAX_BUFFERED", 20)  # the id is read only after the buffer filled
    cli, _, out = vcli
    official = _frames(out)
    size = (official[0].shape[1], official[0].shape[0])
    fake = tmp_path / "opening.mp4"
    attacks.write_clip(_foreign(100, size) + official, fake, 25, crf=20)
    verdict, body = _verdict(cli, fake)
    assert verdict == "altered"
    ranges = body["evidence"]["content"]["ranges"]
    assert ranges[0]["kind"] == "foreign" and abs(ranges[0]["clip_end"] - 4.0) < 0.2
    assert all(r.get("original_start", 0) > -0.3 for r in ranges)


def test_photo_mark_on_a_video_is_altered_not_a_crash(agency_cli, tmp_path):
    from bench.samples import photos

    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 1280, 720)))
    code, body = agency_cli.json("sign", src, "-o", tmp_path / "s.jpg", "--title", "t", "--artist", "a")
    wm_id = int(body["manifest"]["watermark"]["id"], 16)
    stamp = Embedder(1280, 720, wm_id, psnr_db=VIDEO_TARGET_PSNR_DB)
    clip = tmp_path / "stamped.mp4"
    attacks.write_clip([stamp.mark_rgb(f) for f in _foreign(30, (1280, 720))], clip, 25, crf=18)
    code, body = agency_cli.json("verify", clip)
    assert (code, body["verdict"]) == (1, "altered") and "photo" in body["message"]
