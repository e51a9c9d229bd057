"""Copied marks (issue 14): the official mark lifted from a signed photo or clip and added
to a picture or footage that is not the agency's is `forged`, never `altered`, with its
own sentence, exit code 1, the agency named; and the soft-binding lookup does not offer it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench import attacks
from bench.samples import photos, videos
from tests.test_service import _photo, _sign, _verify, client, settings, tokens  # noqa: F401  (shared fixtures)


def _png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


def _jpeg(rgb: np.ndarray, quality: int = 88) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize("lifted", [True, False], ids=["lifted_from_noise", "exact_from_master"])
@pytest.mark.parametrize("target", ["chelsea", "rocket"])
def test_a_mark_copied_onto_another_photo_is_forged(agency_cli, tmp_path, lifted, target):
    master = photos.fit(photos.real("astronaut"), 1200, 800)
    src, out = tmp_path / "master.png", tmp_path / "signed.png"
    src.write_bytes(_png(master))
    assert agency_cli("sign", src, "-o", out, "--title", "Teaser", "--artist", "Lisa")[0] == 0
    signed = np.asarray(Image.open(out).convert("RGB"))
    other = photos.fit(photos.real(target), 1200, 800)
    forged = attacks.copy_mark(signed, other, np.random.default_rng(3), master=None if lifted else master)
    path = tmp_path / "forged.jpg"
    path.write_bytes(_jpeg(forged))
    code, body = agency_cli.json("verify", path)
    assert body["evidence"]["watermark"]["found"], "the attack must carry the mark for this test to mean anything"
    assert (code, body["verdict"], body["reasons"]) == (1, "forged", ["mark_copied"]), body["message"]
    assert body["message"].startswith("This is not official: the mark of YG has been copied")
    assert body["evidence"]["content"]["matching_share"] < 0.2


def test_half_a_photo_replaced_is_altered_not_forged(agency_cli, tmp_path):
    """The line between an edit and a copied mark: half of the signed picture is still there."""
    master = photos.fit(photos.real("coffee"), 1200, 800)
    src, out = tmp_path / "master.png", tmp_path / "signed.png"
    src.write_bytes(_png(master))
    assert agency_cli("sign", src, "-o", out, "--title", "Teaser", "--artist", "Lisa")[0] == 0
    edited = np.asarray(Image.open(out).convert("RGB")).copy()
    edited[:, 600:] = photos.fit(photos.real("chelsea"), 1200, 800)[:, 600:]
    path = tmp_path / "edited.png"
    path.write_bytes(_png(edited))
    code, body = agency_cli.json("verify", path)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]


def test_a_mark_copied_onto_other_footage_is_forged(agency_cli, tmp_path):
    src = tmp_path / "src.mp4"
    attacks.transform(videos.real(videos.BUNNY), src, crf=18, end=3.0)
    out = tmp_path / "signed.mp4"
    assert agency_cli("sign", src, "-o", out, "--title", "MV", "--artist", "Lisa", "--preset", "veryfast")[0] == 0
    foreign = tmp_path / "foreign.mp4"
    attacks.copy_mark_clip(out, videos.real(videos.BIKES), foreign, np.random.default_rng(4))
    code, body = agency_cli.json("verify", foreign)
    assert body["evidence"]["watermark"]["found"], "the attack must carry the mark for this test to mean anything"
    assert (code, body["verdict"], body["reasons"]) == (1, "forged", ["mark_copied"]), body["message"]
    # The line on the other side: the signed clip with subtitles burnt in is an edit.
    captioned = tmp_path / "captioned.mp4"
    attacks.transform(out, captioned, picture=attacks.burn_caption)
    code, body = agency_cli.json("verify", captioned)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]


def test_the_soft_binding_lookup_does_not_offer_a_forgery(client, tokens):
    signed = _sign(client, tokens["YG"], _photo(), title="Comeback teaser", artists=("Lisa",)).json()
    published = np.asarray(Image.open(io.BytesIO(client.get(signed["download"]).content)).convert("RGB"))
    h, w = published.shape[:2]
    forged = _jpeg(attacks.copy_mark(published, photos.fit(photos.real("chelsea"), w, h), np.random.default_rng(5)))
    verdict = _verify(client, forged).json()
    assert verdict["verdict"] == "forged", verdict["message"]
    found = client.post("/matches/byContent", content=forged, headers={"Content-Type": "image/jpeg"})
    assert found.status_code == 200 and found.json()["matches"] == []
