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
