"""Sound (issue 14): the print, and `realmark verify` on clips whose sound was replaced,
shifted or laid under with music, on genuine sound re-encodes, and on sound files cut
from a signed clip."""

from __future__ import annotations

import numpy as np
import pytest

from bench import attacks
from bench.samples import videos, voices
from cli import main
from realmark.fingerprint.audio import QUERY_HOP, SAMPLE_RATE, SoundPrint, bit_errors, sound_print
from realmark.media import detect
from realmark.media.formats import Kind
from realmark.media.sound import mono_samples
from realmark.media.video import open_sound
from tests.conftest import realmark_home


def _heard(path) -> np.ndarray:
    with open_sound(path) as container:
        return mono_samples(container)


def _best_error(original: SoundPrint, copy: SoundPrint) -> float:
    """The lowest mean bit error over the original's loud frames (silence has no shape)
    at offsets within half a second."""
    best = 1.0
    levels = original.levels.astype(float)
    k = np.flatnonzero(levels >= np.percentile(levels, 90) - 30)
    for d in range(-90, 90):
        j = k * 4 + d
        ok = (j >= 0) & (j < len(copy))
        if ok.sum() > len(k) // 2:
            best = min(best, float(bit_errors(original.bits[k[ok]], copy.bits[j[ok]]).mean() / 32))
    return best


@pytest.fixture(scope="module")
def speech():
    return voices.voice(6.0, 31)


@pytest.mark.parametrize(
    "suffix, options",
    [("m4a", {"bitrate": 64_000}), ("mp3", {"rate": 44_100}), ("ogg", {"bitrate": 32_000}), ("wav", {"rate": 16_000})],
)
def test_the_print_survives_sound_re_encodes(speech, tmp_path, suffix, options):
    original = sound_print(_resampled(speech, tmp_path))
    path = tmp_path / f"copy.{suffix}"
    attacks.write_sound(speech * 0.3, path, **options)  # quieter as well
    assert _best_error(original, sound_print(_heard(path), hop=QUERY_HOP)) < 0.12


def test_another_voice_has_another_print(speech, tmp_path):
    original = sound_print(_resampled(speech, tmp_path))
    other = sound_print(_resampled(voices.voice(6.0, 32), tmp_path), hop=QUERY_HOP)
    assert _best_error(original, other) > 0.35


def test_the_print_round_trips_through_its_text_form(speech, tmp_path):
    heard = sound_print(_resampled(speech, tmp_path))
    again = SoundPrint.decode(heard.encode())
    assert np.array_equal(again.bits, heard.bits) and np.array_equal(again.levels, heard.levels)
    assert len(heard) == pytest.approx(6.0 * SAMPLE_RATE / 128, abs=20)


def _resampled(x: np.ndarray, tmp_path) -> np.ndarray:
    """48 kHz samples as the print hears them: through FFmpeg, at SAMPLE_RATE."""
    path = tmp_path / "original.wav"
    attacks.write_sound(x, path, layout="mono")
    return _heard(path)


@pytest.mark.parametrize(
    "head, kind, container",
    [
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00", Kind.SOUND, "m4a"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", Kind.SOUND, "mp3"),
        (b"\xff\xfb\x90\x64\x00", Kind.SOUND, "mp3"),
        (b"\xff\xf1\x50\x80\x00", Kind.SOUND, "aac"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", Kind.SOUND, "wav"),
        (b"OggS\x00\x02", Kind.SOUND, "ogg"),
        (b"fLaC\x00\x00\x00\x22", Kind.SOUND, "flac"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", Kind.PHOTO, "jpeg"),
    ],
)
def test_sound_files_are_told_from_their_first_bytes(head, kind, container):
    media = detect(head)
    assert (media.kind, media.container) == (kind, container)


# --- through `realmark verify` -------------------------------------------------------------


@pytest.fixture(scope="module")
def talking(tmp_path_factory):
    """A signed clip in which someone speaks: Big Buck Bunny's pictures, a voice over its
    own sound."""
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("talk")
    speech = voices.voice(5.4, 41)
    src = work / "talk.mp4"
    attacks.transform(videos.real(videos.BUNNY), src, crf=18, sound=lambda s: 0.8 * speech[: len(s)] + 0.2 * s)
    out = work / "signed.mp4"
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "HYBE"]) == 0
        assert main(["sign", str(src), "-o", str(out), "--title", "Interview", "--artist", "NJ"]) == 0
    return home, work, out


@pytest.fixture
def verify(talking, cli, monkeypatch):
    """`realmark verify --json` against the talking clip's home: (exit code, answer)."""
    monkeypatch.setenv("REALMARK_HOME", str(talking[0]))
    return lambda path: cli.json("verify", path)


def _overlaps(ranges, spans) -> bool:
    return any(r["clip_start"] < b and a < r["clip_end"] for r in ranges for a, b in spans)


def test_a_replaced_voice_is_altered_with_its_seconds(talking, verify, tmp_path):
    _, _, out = talking
    copy = tmp_path / "voice.mp4"
    spans = []

    def forge(sound):
        forged, changed = attacks.replace_voice(sound, np.random.default_rng(5))
        spans.extend(changed)
        return forged

    attacks.transform(out, copy, crf=28, sound=forge)
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"][0]) == (1, "altered", "sound_changed"), body["message"]
    changed = [r for r in body["evidence"]["sound"]["ranges"] if r["kind"] == "changed"]
    assert changed and _overlaps(changed, spans)
    # The rest of the sound is the published sound, and the pictures are all official.
    assert any(r["kind"] == "official" for r in body["evidence"]["sound"]["ranges"])
    assert {r["kind"] for r in body["evidence"]["content"]["ranges"]} == {"official"}
    assert "Only the pictures are checked" not in body["message"]


@pytest.mark.parametrize("forgery", ["music_under", "sound_shifted", "words_cut", "words_reordered"])
def test_sound_edits_over_official_pictures_are_altered(talking, verify, tmp_path, forgery):
    _, _, out = talking
    copy = tmp_path / f"{forgery}.mp4"
    spans = []

    def forge(sound):
        forged, changed = attacks.SOUND_FORGERIES[forgery](sound, np.random.default_rng(7))
        spans.extend(changed)
        return forged

    attacks.transform(out, copy, crf=28, sound=forge)
    code, body = verify(copy)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]
    assert "sound_changed" in body["reasons"]
    assert _overlaps([r for r in body["evidence"]["sound"]["ranges"] if r["kind"] == "changed"], spans)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_music_laid_under_is_altered_down_to_14_db_below(talking, verify, tmp_path, seed):
    """Another music 8-14 dB under the sound moves its bits no more than a 64 kbit/s AAC
    does; the energy it adds where the original had little is what gives it away."""
    _, _, out = talking
    copy = tmp_path / "music.mp4"
    attacks.transform(out, copy, crf=28, sound=lambda s: attacks.music_under(s, np.random.default_rng(seed))[0])
    code, body = verify(copy)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]
    assert "sound_changed" in body["reasons"]


@pytest.mark.parametrize("reencode", ["aac_64k", "opus_webm", "mp3_128k", "loudness_normalised", "mono_22k"])
def test_genuine_sound_re_encodes_stay_official(talking, verify, tmp_path, reencode):
    _, _, out = talking
    copy = tmp_path / f"{reencode}{attacks.SOUND_REENCODE_SUFFIX.get(reencode, '.mp4')}"
    attacks.transform(out, copy, **{"crf": 28, **attacks.SOUND_REENCODES[reencode]})
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["official_footage", "reencoded"]), body[
        "message"
    ]
    assert body["evidence"]["sound"]["status"] == "matches"
    assert "sound is the published sound" in body["message"]


def test_a_muted_copy_is_judged_on_its_pictures(talking, verify, tmp_path):
    _, _, out = talking
    copy = tmp_path / "muted.mp4"
    attacks.transform(out, copy, crf=28, sound=lambda s: s * 0)
    code, body = verify(copy)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["official_footage", "reencoded", "no_sound"])


@pytest.mark.parametrize("suffix", ["m4a", "mp3", "wav", "ogg", "opus"])
def test_a_sound_file_cut_from_a_signed_clip_is_traced_to_its_seconds(talking, verify, tmp_path, suffix):
    _, _, out = talking
    cut = tmp_path / f"cut.{suffix}"
    attacks.write_sound(attacks.sound_of(out, 1.2, 4.4), cut, rate=16_000 if suffix == "wav" else 48_000)
    code, body = verify(cut)
    assert (code, body["verdict"], body["reasons"]) == (1, "likely_authentic", ["sound_only"]), body["message"]
    assert body["manifest"]["title"] == "Interview"
    (heard,) = body["evidence"]["sound"]["ranges"]
    assert abs(heard["original_start"] - 1.2) <= 0.05 and abs(heard["original_end"] - 4.4) <= 0.6
    assert "seconds 1.2 to" in body["message"]


def test_a_sound_file_with_a_replaced_voice_is_altered(talking, verify, tmp_path):
    _, _, out = talking
    sound = attacks.sound_of(out, 0.5, 5.0)
    forged, spans = attacks.replace_voice(sound, np.random.default_rng(9))
    path = tmp_path / "forged.m4a"
    attacks.write_sound(forged, path)
    code, body = verify(path)
    assert (code, body["verdict"], body["reasons"]) == (1, "altered", ["sound_only", "sound_changed"]), body["message"]
    assert _overlaps([r for r in body["evidence"]["sound"]["ranges"] if r["kind"] == "changed"], spans)


def test_a_sound_file_from_nothing_signed_is_unknown(talking, verify, tmp_path):
    path = tmp_path / "other.mp3"
    attacks.write_sound(voices.voice(4.0, 77), path)
    code, body = verify(path)
    assert (code, body["verdict"], body["reasons"]) == (1, "unknown", ["sound_unknown"])


def test_sound_files_are_not_signed(talking, verify, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("REALMARK_HOME", str(talking[0]))
    path = tmp_path / "song.m4a"
    attacks.write_sound(voices.voice(2.0, 3), path)
    stored = sorted(p for p in (talking[0] / "store").rglob("*") if p.is_file())
    code, _, err = cli("sign", path, "-o", tmp_path / "x.m4a", "--title", "T", "--artist", "A")
    assert code != 0 and "sound file, not a video" in err
    assert not (tmp_path / "x.m4a").exists()
    assert sorted(p for p in (talking[0] / "store").rglob("*") if p.is_file()) == stored
