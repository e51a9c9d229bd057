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
def hd_photos(tmp_path_factory):
    """The astronaut (a white suit) and the two motorcycle photos (saturated reds), where
    filters clip most, signed at 1920x1080, and the motorcycles also as 1080x1350
    portraits (a keyring and a local store, verified in-process)."""
    from bench.forgeries import _deployment, _jpeg
    from bench.samples import photos
    from signer import sign

    keyring, store = _deployment(tmp_path_factory.mktemp("hd"))
    published = {}
    framed = [(name, name, (1920, 1080)) for name in ("astronaut", "motorcycle_left", "motorcycle_right")]
    framed += [(f"{name} 4:5", name, (1080, 1350)) for name in ("motorcycle_left", "motorcycle_right")]
    for key, name, size in framed:
        master = _jpeg(photos.fit(photos.real(name), *size), 95)
        signed = sign(master, title=key, artists=["A"], key=keyring.signing_key("Bench"), store=store)
        published[key] = np.asarray(Image.open(io.BytesIO(signed.data)).convert("RGB"))
    return keyring, store, published


@pytest.mark.parametrize(
    ("name", "look"),
    [
        ("motorcycle_left", attacks.colour_boosted),
        ("motorcycle_right", attacks.colour_boosted),
        ("astronaut", lambda x: attacks.enhance(x, "Brightness", 1.35)),
        ("astronaut", lambda x: attacks.enhance(x, "Contrast", 1.4)),
        ("motorcycle_left 4:5", lambda x: attacks.enhance(x, "Color", 1.8)),
        ("motorcycle_right 4:5", lambda x: attacks.enhance(x, "Color", 1.8)),
    ],
    ids=[
        "colour_boosted_left",
        "colour_boosted_right",
        "brightened_1.35",
        "contrast_1.4",
        "colour_1.8_left",
        "colour_1.8_right",
    ],
)
def test_a_filter_that_clips_changes_no_region(hd_photos, name, look):
    """Filters that clip, each once read `altered` with an invented region:
    - a colour boost clips a saturated red's channel where the luma does not, flattening
      the luma's texture there (compared with the published file: smoothed away, until
      published.NEWLY_CLIPPED);
    - a brightening or a strong contrast leaves the edge of a clipped plateau where the
      signed picture crossed the clipping level, which at the analysis size is not where
      the signed plane's edge is (moved, as a warp, until the published picture was put
      through the copy's tone curves at its own size: published._toned);
    - colour 1.8 takes a red's blue channel to black where its red was white already, a
      clipped channel a mask of either end did not count as new, and mixes the channels,
      which no curve per channel follows: the paint's blocks matched their signed selves
      at NCC 0.3-0.5 (replaced, until published._newly_clipped took each end on its own
      and _toned put the published picture through the copy's colour map first)."""
    from bench.forgeries import _jpeg
    from verifier import verify

    keyring, store, published = hd_photos
    result = verify(_jpeg(look(published[name]), 85), store=store, trust=keyring.trust())
    assert [result.verdict.value] + [r.value for r in result.reasons] == ["authentic", "filtered"], result.message()
    assert not result.evidence.content.changed_regions


def test_a_colour_boost_lets_clipping_explain_the_grid_cells_it_moved():
    """Colour 1.8 on the motorcycles' reds clips the red and blue channels while the luma
    curve clips nothing, so a grid cell comes out 26 levels from the filtered signed grid
    (a changed region, past MAX_CELL_DIFFERENCE). Given the colourfulness the copy gained
    (grid.COLOUR_BOOST), the filter is known to clip, and clipping explains the cell."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.grid import MAX_CELL_DIFFERENCE, clipping, colourfulness, fit, grid
    from realmark.media.image import luma8

    signed = photos.fit(photos.real("motorcycle_left"), 1920, 1080)
    copy = np.asarray(Image.open(io.BytesIO(_jpeg(attacks.enhance(signed, "Color", 1.8), 85))).convert("RGB"))
    filtered = fit(grid(luma8(signed)), grid(luma8(copy)))
    colour = (colourfulness(signed), colourfulness(copy))
    assert filtered.clips() == (False, False)
    assert filtered.differences(clipping(copy)).max() > MAX_CELL_DIFFERENCE
    assert filtered.clips(colour) == (True, True)
    assert filtered.differences(clipping(copy), colour).max() <= MAX_CELL_DIFFERENCE
    re_encoded = np.asarray(Image.open(io.BytesIO(_jpeg(signed, 60))).convert("RGB"))
    assert fit(grid(luma8(signed)), grid(luma8(re_encoded))).clips((colour[0], colourfulness(re_encoded))) == (
        False,
        False,
    )


@pytest.mark.parametrize(
    ("name", "look", "trim"),
    [
        ("astronaut", lambda x: attacks.enhance(x, "Contrast", 1.4), (30, 12, 5, 20)),
        ("motorcycle_left", attacks.colour_boosted, (30, 12, 5, 20)),
        ("coffee", lambda x: attacks.enhance(x, "Contrast", 1.4), (8, 8, 8, 8)),
    ],
    ids=["contrast_astronaut", "colour_boosted_motorcycle", "contrast_coffee"],
)
def test_a_trimmed_copy_under_a_clipping_filter_is_toned_after_it_is_registered(name, look, trim):
    """The published picture is put through the copy's tone curves (published._toned) fitted
    on the two pictures registered: fitted on the unregistered ones, a copy trimmed by a few
    pixels paired each level with its neighbour's, and a moved or replaced box appeared
    on each of these genuine copies."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.published import changes_from_file
    from realmark.watermark import codec

    published = codec.embed(photos.fit(photos.real(name), 1920, 1080), 777)
    buffer = io.BytesIO()
    Image.fromarray(published).save(buffer, "PNG")
    left, top, right, bottom = trim
    copy = _jpeg(look(published)[top : 1080 - bottom, left : 1920 - right], 85)
    rgb = np.asarray(Image.open(io.BytesIO(copy)).convert("RGB"))
    found = changes_from_file(buffer.getvalue(), f"{name} {trim}", rgb, None, filter_clips=True)
    assert not found.moved and not found.replaced, found


def test_a_colour_map_fitted_on_grey_pixels_leaves_the_colours_it_never_saw():
    """The colour map is fitted where neither picture clips and applied everywhere. On a
    picture whose fitted pixels are all grey, least squares alone is free along the
    colours they lack and turned a red shirt grey (85, 85, 85 + the brightening); pulled
    towards the identity there (published.COLOUR_MAP_PRIOR), red stays red, and the grey
    pixels are mapped as they were fitted."""
    from realmark.fingerprint.published import colour_map

    grey = np.repeat(np.random.default_rng(1).uniform(20, 230, (5000, 1)), 3, axis=1)
    brightened = 1.2 * grey + 5
    fitted = colour_map(grey, brightened)
    assert np.allclose(fitted[:, :3] @ grey[:10].T + fitted[:, 3:], brightened[:10].T, atol=0.01)
    red = fitted[:, :3] @ np.array([255.0, 0.0, 0.0]) + fitted[:, 3]
    assert red[0] - red[1] > 200 and abs(red[1] - red[2]) < 1

    # Where the pixels span every colour, the map is the least-squares one.
    rng = np.random.default_rng(2)
    colours = rng.uniform(0, 255, (20000, 3))
    boost = np.array([[1.3, -0.2, -0.1, 4.0], [-0.1, 1.25, -0.15, -3.0], [-0.05, -0.3, 1.35, 2.0]])
    target = colours @ boost[:, :3].T + boost[:, 3] + rng.normal(0, 2, colours.shape)
    fitted = colour_map(colours, target)
    assert np.allclose(fitted[:, :3], boost[:, :3], atol=0.005) and np.allclose(fitted[:, 3], boost[:, 3], atol=0.3)


def test_a_colour_boosted_copy_trimmed_a_little_is_cropped_not_changed(hd_photos):
    """A copy made more colourful and trimmed: the colour map is fitted through the
    registration (not the identity), and the trim is measured (measure.fitted), so the
    verdict is `cropped`, with no region called changed."""
    from bench.forgeries import _jpeg
    from verifier import verify

    keyring, store, published = hd_photos
    for name in ("motorcycle_left 4:5", "astronaut"):
        copy = attacks.enhance(published[name][12:], "Color", 1.8)
        result = verify(_jpeg(copy, 85), store=store, trust=keyring.trust())
        assert [r.value for r in result.reasons] == ["cropped"], result.message()
