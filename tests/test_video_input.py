"""Video input: what signing keeps, and what it refuses (exit 2, nothing stored)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from bench.samples import videos


def _sign(cli, src, out, *extra):
    return cli("sign", src, "-o", out, "--title", "Teaser", "--artist", "IVE", "--preset", "ultrafast", *extra)


def test_rotation_metadata_and_audio_are_kept(agency_cli, tmp_path):
    src = videos.synthetic(
        tmp_path / "phone.mp4", rotation=90, metadata={"title": "Teaser", "comment": "shot on set", "copyright": "YG"}
    )
    out = tmp_path / "signed.mp4"
    assert _sign(agency_cli, src, out)[0] == 0
    before, after = videos.stream_facts(src), videos.stream_facts(out)
    assert after["rotation"] == 90
    for tag in ("title", "comment", "copyright"):
        assert after["metadata"].get(tag) == before["metadata"][tag]
    assert videos.audio_packets(out) == videos.audio_packets(src)
    assert videos.frame_count(out) == videos.frame_count(src) == 60
    assert after["rate"] == before["rate"]
    code, body = agency_cli.json("verify", out)
    assert body["verdict"] == "authentic" and body["manifest"]["media"]["rotation"] == 90


def test_webm_is_signed_to_matroska_keeping_opus_packets(agency_cli, tmp_path):
    src = videos.synthetic(tmp_path / "clip.webm", container="webm", seconds=1.5, fps=24)
    out = tmp_path / "signed.mkv"
    assert _sign(agency_cli, src, out)[0] == 0
    with av.open(str(out)) as c:
        assert c.format.name.startswith("matroska") and c.streams.video[0].codec_context.name == "h264"
    assert videos.audio_packets(out) == videos.audio_packets(src)
    code, body = agency_cli.json("verify", out)
    assert body["verdict"] == "authentic" and body["manifest"]["media"]["type"] == "video/x-matroska"


def test_crf_and_preset_are_validated(agency_cli, tmp_path):
    src = videos.synthetic(tmp_path / "c.mp4", seconds=1)
    assert _sign(agency_cli, src, tmp_path / "o.mp4", "--crf", "99")[0] == 2
    code, _, err = agency_cli(
        "sign", src, "-o", tmp_path / "o.mp4", "--title", "t", "--artist", "a", "--preset", "warp"
    )
    assert code == 2 and "preset" in err
    assert agency_cli.stored_files() == {}


def _audio_only(path):
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=48000)
        s.layout = "stereo"
        for i in range(10):
            f = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            f.sample_rate, f.pts, f.time_base = 48000, i * 1024, Fraction(1, 48000)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _no_frames(path):
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 640, 360, "yuv420p"
        out.start_encoding()  # header and an empty track, no frames
    return path


def _frames_of(path, size, codec="libx264", fmt="mp4", n=2):
    with av.open(str(path), "w", format=fmt) as out:
        s = out.add_stream(codec, rate=25)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        if codec == "libvpx-vp9":
            s.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.full((size[1], size[0], 3), 100 + i, np.uint8), format="rgb24")
            f.pts, f.time_base = i, Fraction(1, 25)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _mpegts(path):
    return _frames_of(path, (640, 360), fmt="mpegts")


def _bytes(content: bytes):
    def make(path):
        path.write_bytes(content)
        return path

    return make


BAD = {
    "hls_playlist": (
        _bytes(b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/x.ts\n"),
        "not a supported photo or video",
    ),
    "concat_list": (_bytes(b"ffconcat version 1.0\nfile '/etc/passwd'\n"), "not a supported photo or video"),
    "sdp": (_bytes(b"v=0\no=- 0 0 IN IP4 127.0.0.1\nm=video 9 RTP/AVP 96\n"), "not a supported photo or video"),
    "ftyp_then_playlist": (
        _bytes(b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom#EXTM3U\nhttp://127.0.0.1:9/a.ts\n"),
        "damaged or truncated",
    ),
    "mpegts_demuxer": (_mpegts, "not a supported photo or video"),
    "audio_only": (_audio_only, ("no video stream", "sound is too short")),  # verify hears sound-only files
    "zero_frames": (_no_frames, ("decodable frames", "no video stream")),  # FFmpeg drops empty MP4 tracks
    "truncated": (_bytes(videos.real(videos.BUNNY).read_bytes()[:400_000]), "damaged or truncated"),
    "absurd_dimensions": (lambda p: _frames_of(p, (96, 8200), n=1), "limit is 8192"),
    "too_small": (lambda p: _frames_of(p, (64, 64)), "too small"),
    "odd_dimensions": (
        lambda p: _frames_of(p.with_suffix(".webm"), (513, 289), codec="libvpx-vp9", fmt="webm"),
        "even dimensions",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_video_input_is_refused_and_stores_nothing(agency_cli, tmp_path, name):
    make, expected = BAD[name]
    src = make(tmp_path / f"{name}.mp4")
    out = tmp_path / "out.mp4"
    code, _, err = _sign(agency_cli, src, out)
    assert code == 2, err
    expected = (expected,) if isinstance(expected, str) else expected
    assert any(e in err for e in expected) and err.count("\n") == 1
    assert agency_cli.stored_files() == {}
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    if name not in ("too_small", "odd_dimensions"):
        code, _, err = agency_cli("verify", src)
        assert code == 2 and any(e in err for e in expected)


def test_frames_decoded_ahead_stop_early_and_hand_over_errors(tmp_path):
    """Ahead (verification's decoding thread): every frame once and in order; a caller
    that stops early stops the thread before the container closes; an error raised while
    decoding reaches the caller."""
    from realmark.errors import BadInput
    from realmark.media.video import Ahead, SmallLuma, frames, open_video

    src = videos.synthetic(tmp_path / "clip.mp4", seconds=1.0, fps=24)
    shrink = SmallLuma((64, 36))
    with open_video(src) as container, Ahead(frames(container), shrink) as decoded:
        seen = [(frame.pts, small.shape) for frame, small in decoded]
        assert list(decoded) == []  # iterated once: a second pass ends at once
    assert len(seen) == videos.frame_count(src) and [p for p, _ in seen] == sorted(p for p, _ in seen)
    assert {shape for _, shape in seen} == {(36, 64)}

    with open_video(src) as container:
        ahead = Ahead(frames(container), shrink, depth=2)
        with ahead as decoded:
            for count, _ in enumerate(decoded, start=1):
                if count == 3:
                    break
        assert not ahead._thread.is_alive()

    def damaged():
        with open_video(src) as container:
            for count, frame in enumerate(frames(container)):
                if count == 5:
                    raise BadInput("the video is damaged or truncated (test)")
                yield frame

    with pytest.raises(BadInput, match="damaged"), Ahead(damaged(), shrink) as decoded:
        for _ in decoded:
            pass
