"""Every answer carries its reason codes: the cases a journalist cites, through the
`realmark verify --json` command, photo and clip, with the sentence in both languages."""

from __future__ import annotations

from bench import attacks
from bench.samples import photos, videos
from tests.test_cli_photo import signed  # noqa: F401  (shared fixtures)
from tests.test_cli_video import signed_clip, vcli  # noqa: F401
from verifier import wording


def _verify(cli, tmp_path, name: str, rgb) -> dict:
    path = tmp_path / name
    path.write_bytes(photos.encode(rgb, quality=85))
    return cli.json("verify", path)[1]


def test_photo_reasons(signed, tmp_path):
    cli, original, out, _ = signed
    rgb = photos.decode(out.read_bytes())
    h, w = rgb.shape[:2]
    cases = {
        "published": (cli.json("verify", out)[1], "authentic", ["published_file"]),
        "reencode": (
            _verify(cli, tmp_path, "q75.jpg", attacks.jpeg(attacks.scale(rgb, 0.5), 75)),
            "authentic",
            ["reencoded"],
        ),
        "mirror": (_verify(cli, tmp_path, "flip.jpg", attacks.hflip(rgb)), "authentic", ["reencoded", "mirrored"]),
        "crop": (
            _verify(cli, tmp_path, "crop.jpg", rgb[h // 10 : -h // 10, w // 10 : -w // 10]),
            "altered",
            ["cropped"],
        ),
        "pasted": (_verify(cli, tmp_path, "caption.jpg", attacks.caption(rgb)), "altered", ["regions_changed"]),
        "appearance": (cli.json("verify", original)[1], "likely_authentic", ["appearance_only"]),
    }
    for case, (body, verdict, reasons) in cases.items():
        assert (body["verdict"], body["reasons"]) == (verdict, reasons), (case, body["message"])
        # The sentence is the wording module's, for these codes, in every language.
        for lang in wording.LANGUAGES:
            text = wording.sentence(body["verdict"], body["reasons"], body["message_params"], lang)
            assert "{" not in text and "Press photo" in text and "Jisoo" in text, (case, lang, text)
        assert body["message"] == wording.sentence(body["verdict"], body["reasons"], body["message_params"])
    pasted = cases["pasted"][0]
    assert pasted["message_params"]["regions"] == len(pasted["evidence"]["content"]["changed_regions"]) > 0


def test_unmarked_photo_reasons(signed, tmp_path):
    cli, _, _, _ = signed
    body = _verify(cli, tmp_path, "other.jpg", photos.hd("coffee"))
    assert (body["verdict"], body["reasons"]) == ("unknown", ["no_mark"])
    assert "가짜라는 뜻은 아닙니다" in wording.sentence("unknown", body["reasons"], body["message_params"], "ko")


def test_revoked_key_reason(signed):
    cli, _, out, _ = signed
    key_id = cli.json("verify", out)[1]["manifest"]["key_id"]
    assert cli("keys", "revoke", key_id, "--reason", "laptop stolen")[0] == 0
    body = cli.json("verify", out)[1]
    assert (body["verdict"], body["reasons"]) == ("invalid", ["key_revoked"])
    assert "laptop stolen" in body["message"]


def test_clip_reasons(vcli, tmp_path):
    cli, _, out = vcli
    spliced = tmp_path / "spliced.mp4"
    attacks.splice([(out, 0.0, 2.0), (videos.real(videos.BIKES), 3.0, 5.0), (out, 3.0, 5.0)], spliced)
    piece = tmp_path / "piece.mp4"
    attacks.trim(out, piece, 1.0, 4.0, crf=28)
    cases = {
        "published": (out, "authentic", ["published_file"]),
        "trimmed": (piece, "authentic", ["official_footage", "reencoded", "trimmed"]),
        "spliced": (spliced, "altered", ["foreign_footage"]),
    }
    for case, (path, verdict, reasons) in cases.items():
        body = cli.json("verify", path)[1]
        assert (body["verdict"], body["reasons"]) == (verdict, reasons), (case, body["message"])
    assert abs(float(cli.json("verify", piece)[1]["message_params"]["start"]) - 1.0) <= 0.3
