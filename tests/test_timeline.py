"""The clip timeline (issue 14): genuine re-encodes of repetitive footage (a loop, a
static shot, frames repeated for a frame-rate change) stay one official stretch after
HEVC, AV1, frame-rate conversions, variable frame rates and trims, while re-edits are
still caught."""

from __future__ import annotations

import numpy as np
import pytest

from bench import attacks
from bench.samples import photos, videos
from cli import main
from realmark.fingerprint import BYTES
from realmark.manifest.model import TIMELINE_STEP_S as STEP
from tests.conftest import racing_clip, realmark_home
from verifier import alignment

# --- the path, on fingerprints alone -------------------------------------------------------


def _noisy(rows: np.ndarray, rng: np.random.Generator, bits: int) -> np.ndarray:
    """Each fingerprint with `bits` random bits flipped (a re-encode)."""
    out = np.unpackbits(rows, axis=1)
    for row in out:
        row[rng.choice(out.shape[1], bits, replace=False)] ^= 1
    return np.packbits(out, axis=1)


def test_a_looping_original_is_one_stretch_not_a_jumble():
    rng = np.random.default_rng(1)
    shots = rng.integers(0, 256, (8, BYTES), dtype=np.uint8)  # 2 s of distinct moments ...
    original = np.concatenate([shots, shots, shots])  # ... played three times: 6 s
    times = np.arange(0, 6.0, 1 / 30)
    query = _noisy(original[np.minimum((times / STEP).astype(int), len(original) - 1)], rng, 12)
    (segment,) = alignment.path(times, original, query)
    # Frames within a quarter second are the same here, so the offset is known to a quarter second.
    assert (segment.start, segment.end) == (0, len(times)) and abs(segment.offset) < STEP


def test_a_re_edit_is_still_seen():
    rng = np.random.default_rng(2)
    original = rng.integers(0, 256, (24, BYTES), dtype=np.uint8)  # 6 s, every moment distinct
    times = np.arange(0, 6.0, 1 / 30)
    order = np.minimum((times / STEP).astype(int), 23)
    order = np.where(times < 3.0, order + 12, order - 12)  # the second half first
    segments = alignment.path(times, original, _noisy(original[order], rng, 10))
    assert [round(s.offset) for s in segments] == [3, -3]
    assert abs(times[segments[1].start] - 3.0) <= 1 / 30


# --- through `realmark verify` ---------------------------------------------------------------


@pytest.fixture(scope="module")
def looped(tmp_path_factory):
    """A signed 6 s clip that repeats itself: 2 s of animation played twice, then 2 s of a
    still (960x540, 30 fps, frames repeated from 25 fps)."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("loop")
    frames = [photos.fit(rgb, 960, 540) for _, rgb in attacks._video_frames(videos.real(videos.BUNNY), 0, 2)]
    moving = [frames[min(len(frames) - 1, int(k * 25 / 30))] for k in range(60)]
    still = photos.fit(photos.real("astronaut"), 960, 540)
    src = work / "loop.mp4"
    attacks.write_clip(moving + moving + [still] * 60, src, 30, crf=16)
    out = work / "signed.mp4"
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "HYBE"]) == 0
        assert main(["sign", str(src), "-o", str(out), "--title", "Loop", "--artist", "A", "--preset", "veryfast"]) == 0
    return home, out


@pytest.fixture
def verify(looped, cli, monkeypatch):
    monkeypatch.setenv("REALMARK_HOME", str(looped[0]))
    return lambda path: cli.json("verify", path)


GENUINE = {
    "hevc": lambda s, d: attacks.transform(s, d, codec="libx265", crf=28),
    "av1": lambda s, d: attacks.transform(s, d, codec="libsvtav1", crf=35),
    "29.97fps": lambda s, d: attacks.transform(s, d, fps=30000 / 1001, crf=28),
    "25fps": lambda s, d: attacks.transform(s, d, fps=25, crf=28),
    "60fps": lambda s, d: attacks.transform(s, d, fps=60, crf=28),
    "variable_rate": lambda s, d: attacks.variable_rate(s, d, np.random.default_rng(3), crf=28),
}


@pytest.mark.parametrize("name", list(GENUINE))
def test_genuine_re_encodes_of_repetitive_footage_are_one_official_stretch(looped, verify, tmp_path, name):
    copy = tmp_path / f"{name}.mp4"
    GENUINE[name](looped[1], copy)
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"][:2]) == (0, "authentic", ["official_footage", "reencoded"]), body[
        "message"
    ]
    (official,) = body["evidence"]["content"]["ranges"]
    assert official["kind"] == "official" and abs(official["original_start"]) <= 0.1
    assert abs(official["original_end"] - 6.0) <= 0.2
    assert "seconds 0.0 to" in body["message"], body["message"]


def test_a_trimmed_piece_of_repetitive_footage_is_mapped_to_its_place(looped, verify, tmp_path):
    copy = tmp_path / "piece.mp4"
    attacks.transform(looped[1], copy, start=1.0, end=4.0, crf=28)
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["official_footage", "reencoded", "trimmed"])
    (official,) = body["evidence"]["content"]["ranges"]
    assert abs(official["original_start"] - 1.0) <= 0.1 and abs(official["original_end"] - 4.0) <= 0.1


def test_re_ordered_parts_of_repetitive_footage_are_still_altered(looped, verify, tmp_path):
    copy = tmp_path / "reordered.mp4"
    attacks.splice([(looped[1], 4.0, 6.0), (looped[1], 0.0, 4.0)], copy)
    code, body = verify(copy)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]
    assert "order_changed" in body["reasons"]


# --- fast camera footage: every frame differs ------------------------------------------------


@pytest.fixture(scope="module")
def racing(tmp_path_factory):
    """A signed 5 s clip of fast camera footage (bikes racing past, 960x540, 30 fps from
    25 fps by repeating frames): one frame is 30-120 fingerprint bits from the next."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("racing")
    src = racing_clip(work)
    out = work / "signed.mp4"
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "HYBE"]) == 0
        assert main(["sign", str(src), "-o", str(out), "--title", "Race", "--artist", "A", "--preset", "veryfast"]) == 0
    return home, out


@pytest.mark.parametrize("name", ["25fps", "variable_rate", "29.97fps"])
def test_fewer_frames_of_fast_footage_are_one_official_stretch(racing, cli, monkeypatch, tmp_path, name):
    """A conversion to fewer frames a second drops some positions' own frames; their
    neighbours show other moments of the race, which is not a change."""
    monkeypatch.setenv("REALMARK_HOME", str(racing[0]))
    copy = tmp_path / f"{name}.mp4"
    GENUINE[name](racing[1], copy)
    code, body = cli.json("verify", copy)
    assert (code, body["verdict"]) == (0, "authentic"), body["message"]
    (official,) = body["evidence"]["content"]["ranges"]
    assert official["kind"] == "official" and abs(official["original_end"] - 5.0) <= 0.2


def test_other_pictures_with_the_mark_for_half_a_second_in_fewer_frames_are_still_caught(
    racing, cli, monkeypatch, tmp_path
):
    """The mark copied onto other footage for 0.75 s, then the whole converted to 25 fps:
    the replaced stretch spans several positions, so it fails however frames were dropped."""
    monkeypatch.setenv("REALMARK_HOME", str(racing[0]))
    forged = tmp_path / "forged.mp4"
    attacks.copy_mark_clip(racing[1], videos.real(videos.BUNNY), forged, np.random.default_rng(5))
    spliced = tmp_path / "spliced.mp4"
    attacks.splice([(racing[1], 0.0, 2.0), (forged, 2.0, 2.75), (racing[1], 2.75, 5.0)], spliced, crf=18)
    copy = tmp_path / "copy.mp4"
    attacks.transform(spliced, copy, fps=25, crf=28)
    code, body = cli.json("verify", copy)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]
    others = [r for r in body["evidence"]["content"]["ranges"] if r["kind"] != "official"]
    assert any(r["clip_start"] < 2.75 and 2.0 < r["clip_end"] for r in others)


def test_a_marked_sliver_too_short_to_place_joins_the_official_part_beside_it():
    from verifier.timeline import Range, _joined

    placed = Range("official", 4.0, 5.9, 3.0, 4.9)
    sliver = Range("official", 5.9, 6.0)  # the last frames: marked, no timeline position in them
    assert _joined([Range("foreign", 2.0, 4.0), placed, sliver]) == [
        Range("foreign", 2.0, 4.0),
        Range("official", 4.0, 6.0, 3.0, 5.0),
    ]
    assert _joined([Range("official", 0.0, 0.1), Range("official", 0.1, 2.0, 0.6, 2.5)]) == [
        Range("official", 0.0, 2.0, 0.5, 2.5)
    ]
    # Two placed parts on different offsets stay two: that is a cut to another moment.
    cut = [Range("official", 0.0, 2.0, 0.0, 2.0), Range("official", 2.0, 4.0, 5.0, 7.0)]
    assert _joined(cut) == cut


def test_a_weak_marks_dip_of_a_frame_in_fast_footage_stays_official_but_an_unmarked_frame_does_not():
    """Fast footage (every frame another picture, so no continuity to judge by), weakly
    marked: a frame between timeline positions whose window of seven dips under
    MARK_PRESENT while the frame itself shows the mark is official; the same frame below
    MARK_SINGLE is foreign."""
    from verifier import timeline

    rng = np.random.default_rng(5)
    times = np.arange(0, 2.0, 1 / 30)
    frames = rng.integers(0, 256, (len(times), BYTES), dtype=np.uint8)  # every frame its own picture
    original = frames[np.searchsorted(times, np.arange(0, 2.0, STEP) - 1e-9)]  # the original's positions
    query = _noisy(frames, rng, 8)
    presence = np.full(len(times), 3.5)
    # Frames 8-14 lie between the positions at 0.25 s and 0.5 s; only frame 11's window
    # (8-14) stays under 3.0, the strong frames 7 and 15 lift its neighbours' windows.
    presence[7:16] = [6.0, 2.9, 2.9, 2.9, 2.9, 2.9, 2.9, 2.9, 6.0]

    def ranges(presence):
        found, _ = timeline.match(times, presence, original, query, 2.0, 1 / 30)
        return [(r.kind, round(r.clip_start, 2), round(r.clip_end, 2)) for r in found]

    assert ranges(presence) == [("official", 0.0, 2.0)]
    presence[11] = 1.5
    assert ("foreign", 0.35, 0.38) in ranges(presence)
