"""Long clips signed in segments (issue 15): cut at the source's key frames, signed side
by side in processes of this machine, joined into the file one pass would write."""

from __future__ import annotations

import av
import pytest

from bench.samples import videos
from realmark.deployment import Deployment
from realmark.settings import Settings
from signer import InThisProcess, ProcessPool, Signer
from signer.segments import EncoderSettings, plan
from verifier import Verifier

FIXED_ID = 0x2B7E151628AE


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """Four seconds with a key frame every second, B-frames, AAC, a display rotation and tags."""
    path = tmp_path_factory.mktemp("clip") / "concert.mp4"
    return videos.synthetic(
        path,
        seconds=4,
        fps=30,
        size=(640, 360),
        key_every=30,
        preset="veryfast",
        rotation=90,
        metadata={"title": "Concert", "artist": "IVE"},
    )


def _sign(home, clip, segments, out):
    deployment = Deployment(Settings(home=home))
    deployment.keyring.create("IVE")
    signer = Signer(
        deployment.store,
        deployment.keyring.signing_key("IVE"),
        encoder=EncoderSettings(preset="veryfast"),
        segments=segments,
    )
    result = signer.sign(clip, out, title="Concert", artists=["IVE"], watermark_id=FIXED_ID)
    return deployment, result.manifest


@pytest.fixture(scope="module")
def signed(long_clip, tmp_path_factory):
    """The clip signed in one piece and in one-second segments on two processes,
    each into its own deployment (the same input signs to the same manifest id)."""
    work = tmp_path_factory.mktemp("signed")
    whole = _sign(work / "home-one", long_clip, InThisProcess(), work / "one.mp4")
    split = _sign(work / "home-split", long_clip, ProcessPool(2, 1), work / "split.mp4")
    return {"one": (work / "one.mp4", *whole), "split": (work / "split.mp4", *split)}


def _packets(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]


def test_the_plan_cuts_at_key_frames_into_segments_of_the_length_asked(long_clip):
    with av.open(str(long_clip)) as container:
        base = container.streams.video[0].time_base
    keys = {pts for pts, key in _packets(long_clip) if key}
    cuts = plan(long_clip, 1.0, 2)  # two parts wanted: about two seconds each
    assert [c.start_pts for c in cuts] == [None, 2 / base]
    assert [c.start_pts for c in plan(long_clip, 1.0, 4)] == [None, 1 / base, 2 / base, 3 / base]
    assert cuts[-1].end_pts is None
    for before, after in zip(cuts, cuts[1:], strict=False):
        assert after.start_pts in keys and before.end_pts == after.start_pts
        assert after.after_s == pytest.approx(float(after.start_pts * base) - 1 / 30)  # the frame before the cut
    # A last segment under half the length asked is not cut off: 3 s parts of 4 s are one.
    assert len(plan(long_clip, 3.0, 4)) == 1


def test_a_clip_with_one_key_frame_is_one_piece(tmp_path):
    clip = videos.synthetic(tmp_path / "short.mp4", seconds=3, size=(320, 240), audio=False)
    assert len(plan(clip, 1.0, 4)) == 1


def test_a_clip_signed_in_segments_keeps_every_frame_timestamp_sound_and_tag(long_clip, signed):
    one, split = signed["one"][0], signed["split"][0]
    source_times = sorted(pts for pts, _ in _packets(long_clip))
    for path in (one, split):
        assert sorted(pts for pts, _ in _packets(path)) == source_times
        assert videos.audio_packets(path) == videos.audio_packets(long_clip)
        facts = videos.stream_facts(path)
        assert facts["rotation"] == 90 and facts["metadata"]["title"] == "Concert"
    # x264 starts afresh in each segment: each starts with a key frame of its own.
    assert sum(key for _, key in _packets(split)) > sum(key for _, key in _packets(one))


def test_a_clip_signed_in_segments_has_the_manifest_one_pass_gives(signed):
    one, split = signed["one"][2], signed["split"][2]
    assert split.watermark_id == one.watermark_id == f"{FIXED_ID:012x}"
    assert split.timeline == one.timeline and len(one.timeline) == 16  # one position every 0.25 s
    assert split.timeline_regions == one.timeline_regions
    assert split.fingerprint_hash == one.fingerprint_hash
    assert split.media.frames == one.media.frames == 120
    assert split.media.duration_ms == one.media.duration_ms


def test_a_clip_signed_in_segments_verifies_as_one_pass_does(signed):
    answers = {}
    for name, (path, deployment, manifest) in signed.items():
        result = Verifier(deployment.store, deployment.trust).verify(path)
        assert result.verdict.value == "authentic", result.to_dict()
        assert result.manifest.manifest_id == manifest.manifest_id
        ranges = [(r.kind, round(r.clip_start, 2), round(r.clip_end, 2)) for r in result.evidence.content.ranges]
        answers[name] = (result.reasons, ranges)
    assert answers["split"] == answers["one"]
    assert len(answers["one"][1]) == 1  # one official stretch, nothing invented at the cuts
