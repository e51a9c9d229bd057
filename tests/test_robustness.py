"""Issue 5: a representative subset of the robustness suite (bench.attacks.ROBUSTNESS),
through `realmark verify` on a signed 1080p photo. The full table is
`python -m bench.robustness`."""

from __future__ import annotations

import pytest

from bench import attacks
from bench.samples import photos

# attack -> the verdict a fan should see for that copy
EXPECTED = {
    "jpeg_q50": "authentic",  # heavy platform compression
    "long_side_480": "authentic",  # a thumbnail-sized re-post
    "brightness_-25": "authentic",  # a filter changes tones, not content
    "saturation_x1.5": "authentic",
    "hflip": "authentic",  # a mirrored re-post shows the same picture
    "caption_10": "altered",  # a sticker covers part of the picture
    "crop_10_bottom": "altered",  # cropped: the rest cannot be confirmed
    "reframe_9_16": "altered",
    "pad_square": "altered",  # the picture inside a larger one
    "screenshot": "altered",
    "chain_720p_q75_crop5": "altered",
}


@pytest.fixture
def signed(agency_cli, tmp_path):
    original = tmp_path / "official.jpg"
    original.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 1080, 1350)))
    out = tmp_path / "signed.jpg"
    code, body = agency_cli.json("sign", original, "-o", out, "--title", "Teaser photo", "--artist", "Yena")
    assert code == 0, body
    return agency_cli, out, body["manifest_id"]


@pytest.mark.parametrize("attack", sorted(EXPECTED))
def test_attacked_copies_are_traced_to_the_official_photo(signed, tmp_path, attack):
    cli, out, manifest_id = signed
    attacked, _ = attacks.ROBUSTNESS[attack]
    copy = tmp_path / f"{attack}.png"  # lossless, so only the attack itself is tested
    copy.write_bytes(photos.encode(attacked(photos.decode(out.read_bytes())), "PNG"))
    code, body = cli.json("verify", copy)
    assert body["manifest"] is not None and body["manifest"]["manifest_id"] == manifest_id, body["evidence"]
    assert body["verdict"] == EXPECTED[attack], body["message"]
    assert code == (0 if EXPECTED[attack] == "authentic" else 1)


def test_screenshots_of_landscape_photos_are_named_as_such(agency_cli, tmp_path):
    """A landscape photo in a phone screenshot sits inside a taller picture: the mark is
    found at a smaller scale, and the answer says what happened."""
    original = tmp_path / "wide.jpg"
    original.write_bytes(photos.encode(photos.hd("motorcycle_left")))
    out = tmp_path / "signed.jpg"
    assert agency_cli.json("sign", original, "-o", out, "--title", "Concert", "--artist", "Yena")[0] == 0
    copy = tmp_path / "shot.png"
    copy.write_bytes(photos.encode(attacks.screenshot(photos.decode(out.read_bytes())), "PNG"))
    body = agency_cli.json("verify", copy)[1]
    assert body["verdict"] == "altered"
    assert body["reasons"][0] == "embedded"
    assert "inside a larger picture" in body["message"]
    assert body["evidence"]["watermark"]["scale"] < 1
    # where the photo sits: the screen's width, below the status bar
    left, top, right, bottom = body["evidence"]["watermark"]["region"]
    # (to a few pixels: the lattice gives the size to about 0.3 %, and the id is random)
    assert left <= 3 and right >= 1077 and 50 < top < 100 and 640 < bottom < 720


def test_unmarked_attacked_photos_are_unknown(agency_cli, tmp_path):
    """The scale search below 1 and the flips look harder for a mark: unmarked copies
    must still come back unknown."""
    original = photos.fit(photos.real("chelsea"), 1920, 1080)
    for name in ("pad_square", "screenshot", "reframe_9_16", "hflip"):
        path = tmp_path / f"{name}.png"
        path.write_bytes(photos.encode(attacks.ROBUSTNESS[name][0](original), "PNG"))
        assert agency_cli.json("verify", path)[1]["verdict"] == "unknown", name
