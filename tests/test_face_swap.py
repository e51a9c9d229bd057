"""Local changes in clips (issue 14): a face-sized patch of other footage laid over an
official clip for about a second is `altered`, with its time range and a box on it, at
1080p; genuine re-encodes (also at 720p) invent no change."""

from __future__ import annotations

import numpy as np
import pytest

from bench import attacks, forgeries
from bench.samples import videos
from cli import main
from tests.conftest import realmark_home


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A 1080p, 30 fps, 5.3 s repetitive clip with a voice, signed once."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("swap")
    src = forgeries._talking(work, "loop")
    out = work / "signed.mp4"
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "HYBE"]) == 0
        assert (
            main(["sign", str(src), "-o", str(out), "--title", "Stage", "--artist", "A", "--preset", "veryfast"]) == 0
        )
    return home, out


@pytest.fixture
def verify(signed, cli, monkeypatch):
    monkeypatch.setenv("REALMARK_HOME", str(signed[0]))
    return lambda path: cli.json("verify", path)


def _box_overlaps(box: dict, target) -> bool:
    left, top, right, bottom = target
    return box["x"] < right and left < box["x"] + box["width"] and box["y"] < bottom and top < box["y"] + box["height"]


# 720p after CRF 28 is caught on 2 clips of 3 in the bench (README): not yet a property to test.
# Two placements here (the bench tries many more): each costs about 20 s of CI.
@pytest.mark.parametrize("seed", [5, 7])
@pytest.mark.parametrize("height", [1080])
def test_a_face_swapped_in_for_a_second_is_altered_with_its_range_and_box(signed, verify, tmp_path, seed, height):
    raw, copy = tmp_path / "raw.mp4", tmp_path / "swap.mp4"
    (start, end), box = attacks.face_swap_clip(signed[1], raw, np.random.default_rng(seed), videos.real(videos.BIKES))
    if height == 720:
        attacks.transform(raw, copy, crf=28, size=(1280, 720))
    else:
        copy = raw
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"][0]) == (1, "altered", "pictures_changed"), body["message"]
    changed = [r for r in body["evidence"]["content"]["ranges"] if r["kind"] == "changed" and "box" in r]
    assert changed, body["evidence"]["content"]["ranges"]
    assert any(r["clip_start"] < end and start < r["clip_end"] and _box_overlaps(r["box"], box) for r in changed)


@pytest.mark.parametrize("options", [{"crf": 28}, {"crf": 28, "size": (1280, 720)}, {"fps": 24, "crf": 28}])
def test_genuine_re_encodes_invent_no_local_change(signed, verify, tmp_path, options):
    copy = tmp_path / "copy.mp4"
    attacks.transform(signed[1], copy, **options)
    code, body = verify(copy)
    assert (code, body["verdict"]) == (0, "authentic"), body["message"]
    assert [r["kind"] for r in body["evidence"]["content"]["ranges"]] == ["official"]
