"""Colour filters (issue 14): a look over the whole picture changes no content, so a
filtered copy of a signed photo is `authentic` with reason `filtered`; a plain re-encode
stays `reencoded`, and an edit under a filter is still `altered`."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench import attacks


@pytest.fixture(scope="module")
def signed_photos(tmp_path_factory):
    """Three real photos signed once (PNG masters, 1200x800)."""
    from tests.conftest import signed_photos

    home = tmp_path_factory.mktemp("home")
    return home, signed_photos(home, tmp_path_factory.mktemp("photos"), ("astronaut", "coffee", "motorcycle_left"))


@pytest.fixture
def verify(signed_photos, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("REALMARK_HOME", str(signed_photos[0]))

    def run(rgb: np.ndarray, quality: int = 85):
        path = tmp_path / "copy.jpg"
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
        path.write_bytes(buf.getvalue())
        return cli.json("verify", path)

    return run


@pytest.mark.parametrize("name", ["astronaut", "coffee", "motorcycle_left"])
@pytest.mark.parametrize("look", list(attacks.FILTERS))
def test_a_filtered_copy_is_authentic_and_filtered(signed_photos, verify, name, look):
    code, body = verify(attacks.FILTERS[look](signed_photos[1][name]))
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["filtered"]), body["message"]
    assert "colour filter" in body["message"]


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_a_plain_re_encode_is_not_called_filtered(signed_photos, verify, name):
    small = np.asarray(Image.fromarray(signed_photos[1][name]).resize((600, 400), Image.LANCZOS))
    code, body = verify(small, quality=70)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["reencoded"])


@pytest.mark.parametrize("look", ["sepia_vignette", "faded_warm", "brightened", "punchy"])
def test_an_edit_under_a_filter_is_still_altered(signed_photos, verify, look):
    edited = attacks.FILTERS[look](attacks.caption(signed_photos[1]["coffee"], area=0.06))
    code, body = verify(edited)
    assert (code, body["verdict"]) == (1, "altered"), body["message"]


@pytest.fixture(scope="module")
def hd_motorcycles(tmp_path_factory):
    """The two motorcycle photos (saturated reds) signed at 1920x1080 (a keyring and a
    local store, verified in-process)."""
    from bench.forgeries import _deployment, _jpeg
    from bench.samples import photos
    from signer import sign

    keyring, store = _deployment(tmp_path_factory.mktemp("hd"))
    published = {}
    for name in ("motorcycle_left", "motorcycle_right"):
        master = _jpeg(photos.fit(photos.real(name), 1920, 1080), 95)
        signed = sign(master, title=name, artists=["A"], key=keyring.signing_key("Bench"), store=store)
        published[name] = np.asarray(Image.open(io.BytesIO(signed.data)).convert("RGB"))
    return keyring, store, published


@pytest.mark.parametrize("name", ["motorcycle_left", "motorcycle_right"])
def test_a_colour_boost_that_clips_a_channel_changes_no_region(hd_motorcycles, name):
    """A colour boost (contrast 1.2, colour 1.35, as Instagram's "Clarendon") clips a
    saturated red's channel where the luma does not, and flattens the luma's texture there
    as a clipped luma's. Compared with the published file, such blocks read as smoothed
    away (a replaced box, `altered`) until clipping counted per channel
    (published.NEWLY_CLIPPED)."""
    from bench.forgeries import _jpeg
    from verifier import verify

    keyring, store, published = hd_motorcycles
    result = verify(_jpeg(attacks.colour_boosted(published[name]), 85), store=store, trust=keyring.trust())
    assert [result.verdict.value] + [r.value for r in result.reasons] == ["authentic", "filtered"], result.message()
    assert not result.evidence.content.changed_regions
