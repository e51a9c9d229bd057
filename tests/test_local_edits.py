"""Local edits in photos (issue 14): an object removed by a blur fill, or text changed on
a sign, is `altered` with a box on it, found where the signed picture carried its mark and
the copy does not, where its fine detail was lost or added (realmark.watermark.presence),
and by the luma grid; an expression warped by a few pixels, where the copy's content is
pushed aside from the published file's (realmark.fingerprint.published); genuine
copies, however compressed, filtered, grainy, sharpened or trimmed, get no box."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bench import attacks

NAMES = ("astronaut", "coffee", "motorcycle_left")


@pytest.fixture(scope="module")
def signed_photos(tmp_path_factory):
    """Three real photos signed once (PNG masters, 1200x800)."""
    from tests.conftest import signed_photos

    home = tmp_path_factory.mktemp("home")
    return home, signed_photos(home, tmp_path_factory.mktemp("photos"), NAMES)


@pytest.fixture
def verify(signed_photos, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("REALMARK_HOME", str(signed_photos[0]))

    def run(rgb: np.ndarray, quality: int = 90):
        path = tmp_path / "copy.jpg"
        Image.fromarray(rgb).save(path, "JPEG", quality=quality)
        return cli.json("verify", path)

    return run


def _decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _overlaps(regions: list[dict], box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return any(
        r["x"] < right and left < r["x"] + r["width"] and r["y"] < bottom and top < r["y"] + r["height"]
        for r in regions
    )


@pytest.mark.parametrize(
    ("edit", "least_by_detail", "least_by_mark"),
    [(attacks.remove_object, 8, 2), (attacks.change_text, 6, 0)],
    ids=["blur_fill", "text"],
)
def test_local_edits_are_altered_with_a_box_on_them(signed_photos, verify, edit, least_by_detail, least_by_mark):
    """Twelve edits of each kind (three photos, four sizes and places each), all `altered`
    with a box on the edit (the bench: 44 of 44 on 22 photos). The detail map finds most by
    itself (a fill smooths, a panel with new words is flat or sharp where the sign was
    not), and the mark's evidence (blocks that carried it at signing and carry none in
    the copy) some of the fills (a sign's panel is often where the mark was faint)."""
    caught = by_detail = by_mark = 0
    for name in NAMES:
        for seed in (1, 2, 3, 4):
            edited, box = edit(signed_photos[1][name], np.random.default_rng(seed))
            code, body = verify(edited)
            content = body["evidence"]["content"]
            if (code, body["verdict"], body["reasons"]) == (1, "altered", ["regions_changed"]):
                caught += _overlaps(content["changed_regions"], box)
            by_detail += _overlaps(content["detail_regions"], box)
            by_mark += _overlaps(content["unmarked_regions"], box)
    assert caught == 12
    assert by_detail >= least_by_detail
    assert by_mark >= least_by_mark


def test_an_expression_warped_by_a_few_pixels_is_altered_with_a_box_on_it(signed_photos, verify):
    """Twelve warps (three photos, four places and strengths of 4-8 px), as saved (q90) and
    as a platform re-posts them (halved, q75): a warp keeps cell means and detail, and the
    mark but for a window or so (0 of 12 either way before the comparison with the
    published file; a window that lost its mark deeply, presence.DEEP_SIGMAS, now finds
    some first). At least ten of each twelve are `altered` with a region on the warp,
    most of them moved regions from that comparison (11 and 11 here, 8-11 and 11 of them
    moved; 85 of 88 on the bench photos)."""
    from bench.forgeries import REPOSTED_SCALE

    caught, moved = {"saved": 0, "reposted": 0}, {"saved": 0, "reposted": 0}
    for name in NAMES:
        for seed in (1, 2, 3, 4):
            warped, box = attacks.warp_region(signed_photos[1][name], np.random.default_rng(seed))
            for kind, rgb, quality in (("saved", warped, 90), ("reposted", attacks.scale(warped, REPOSTED_SCALE), 75)):
                code, body = verify(rgb, quality)
                content = body["evidence"]["content"]
                altered = (code, body["verdict"], body["reasons"]) == (1, "altered", ["regions_changed"])
                caught[kind] += altered and _overlaps(content["changed_regions"], box)
                moved[kind] += altered and _overlaps(content["moved_regions"] or [], box)
    assert caught["saved"] >= 10 and caught["reposted"] >= 10, caught
    assert moved["saved"] >= 6 and moved["reposted"] >= 6, moved  # 8-11 and 11 in four runs here


@pytest.mark.parametrize(
    ("name", "seeds"),
    [("retina", (15, 20, 22, 29)), ("coffee", (18,)), ("coffee", (7, 39)), ("astronaut", (8, 53))],
    ids=["faint_texture", "sharp_edge", "worn_coffee", "worn_astronaut"],
)
def test_a_warp_on_faint_texture_or_pushing_a_sharp_edge_is_found(name, seeds):
    """Warps the first rule missed, found now (picked from 60 draws on two 1080p photos,
    saved and re-posted: 120 copies, of which the first rule missed 35 and this one 21): a
    bump over faint texture (under 5 levels), or pushing a busy edge by a pixel at the
    analysis size (NCC 0.95 where it was, 1.0 a pixel away). Each is found, as saved and
    as re-posted. The `worn` ones (picked from 80 draws on each photo) were missed
    re-posted until groups of weakly moved blocks counted (published.WEAK_BLOCKS): halved
    and saved at q75, no block shows the warp on its own, but many agree on its shift."""
    from bench.forgeries import _jpeg, _reposted
    from bench.samples import photos
    from realmark.fingerprint.published import changes
    from realmark.watermark import codec

    published = codec.embed(photos.fit(photos.real(name), 1920, 1080), 12345)
    for seed in seeds:
        warped, box = attacks.warp_region(published, np.random.default_rng(seed))
        for data in (_jpeg(warped, 90), _reposted(warped)):
            moved = changes(published, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))).moved
            assert _overlaps([m.to_dict() for m in moved], box), (seed, moved)


def test_a_warp_pushed_further_than_the_search_reaches_is_found_where_its_blocks_no_longer_match():
    """A bump of 8 px on busy texture (coffee's spoon, 4:5) is 4 px at the analysis size,
    past the moved test's REACH: its best shift there matches at 0.6-0.8, too poorly to
    be moved and too well to be replaced. Its blocks still keep their texture but no
    longer match it in place (published.LOST_MATCH). Found as saved and as re-posted; a
    genuine copy of each kind gets no box."""
    from scipy import ndimage

    from bench.forgeries import _jpeg, _reposted
    from bench.samples import photos
    from realmark.fingerprint.published import Changes, changes

    published = photos.fit(photos.real("coffee"), 1080, 1350)
    left, top, right, bottom = box = (274, 999, 369, 1094)
    y, x = np.mgrid[top:bottom, left:right].astype(np.float64)
    radius = (right - left) / 2
    bump = np.clip(1 - ((x - (left + right) / 2) ** 2 + (y - (top + bottom) / 2) ** 2) / radius**2, 0, 1) ** 2
    warped = published.copy()
    for c in range(3):
        warped[top:bottom, left:right, c] = ndimage.map_coordinates(
            published[..., c].astype(np.float64), [y - 8 * bump, x + 4 * bump], order=1, mode="nearest"
        ).round()
    for save in (_jpeg, _reposted):
        found = changes(published, np.asarray(Image.open(io.BytesIO(save(warped))).convert("RGB")))
        assert _overlaps([b.to_dict() for b in found.moved + found.replaced], box), (save, found)
        assert changes(published, np.asarray(Image.open(io.BytesIO(save(published))).convert("RGB"))) == Changes()


def _mark_loss(published: np.ndarray, wm_id: int, copy: np.ndarray):
    """presence.MarkLoss of a copy (RGB) against the picture it was signed as (RGB)."""
    from realmark.media.image import luma8
    from realmark.watermark import extract
    from realmark.watermark.presence import Detail, MarkLoss, Presence, masking, working

    height, width = published.shape[:2]
    signed_work, luma = working(luma8(published)), luma8(copy)
    work, reading = working(luma, (width, height)), extract(luma)
    assert reading.wm_id == wm_id
    noise = masking(Detail.of(signed_work), Detail.of(work))
    return MarkLoss.of(
        Presence.of(signed_work, wm_id), Presence.of(work, wm_id, reading.offset), width, height, None, noise
    )


def test_a_warp_over_faint_texture_is_found_where_stirred_blocks_and_a_faded_mark_agree():
    """A warp on the astronaut's faint suit and dark surround (these draws) moves too few
    blocks of the published file's comparison for a group, and fades the mark there by
    too little to call it lost. Together, in one presence window, they find it
    (presence.FADED_SIGMAS); genuine copies, as saved and as re-posted, get no box."""
    from bench.forgeries import _jpeg, _reposted
    from bench.samples import photos
    from realmark.fingerprint.published import changes
    from realmark.watermark import codec

    published = codec.embed(photos.fit(photos.real("astronaut"), 1920, 1080), 4242)

    def judged(data: bytes):
        copy = _decoded(data)
        found = changes(published, copy)
        return found, _mark_loss(published, 4242, copy).fading().regions_with(found.stirred)

    for save in (_jpeg, _reposted):
        found, corroborated = judged(save(published))
        assert (found.moved, found.replaced, corroborated) == ((), (), [])
    for seed, saves in ((8, (_jpeg, _reposted)), (25, (_reposted,))):
        warped, box = attacks.warp_region(published, np.random.default_rng(seed), any_direction=True)
        for save in saves:
            found, corroborated = judged(save(warped))
            assert not _overlaps([b.to_dict() for b in found.moved + found.replaced], box), (seed, save)
            assert _overlaps([b.to_dict() for b in corroborated], box), (seed, save, corroborated)


def test_points_are_counted_in_the_window_they_fall_in_whatever_the_ragged_edge():
    """Fading.regions_with places a point by the map's own block size (BLOCK working
    cells: 33.8 px wide at 1920 px, where 1920 px over the map's 56 columns would be
    34.3, a block off at the right). A window counts the points of its 2x2 blocks."""
    from realmark.watermark.presence import Fading, block_pixels, blocks_of

    width, height = 1920, 1080
    rows, cols = blocks_of(width, height)
    cell_x, cell_y = block_pixels(width, height)
    faded = np.zeros((rows, cols), bool)
    faded[10, 50] = True  # window (10, 50): blocks 9-10 x 49-50
    inside = [((c + 0.5) * cell_x, (r + 0.5) * cell_y) for r, c in ((9, 49), (10, 50), (10, 49))]
    found = Fading(faded, width, height).regions_with(tuple(inside))
    assert len(found) == 1
    assert all(b.x <= x < b.x + b.width and b.y <= y < b.y + b.height for b in found for x, y in inside)
    assert Fading(faded, width, height).regions_with(tuple(inside[:2])) == []  # two points: not enough
    beside = tuple((x + 2 * cell_x, y) for x, y in inside)  # blocks 51-52: another window
    assert Fading(faded, width, height).regions_with(beside) == []


def test_a_warp_that_takes_the_mark_from_one_window_deeply_is_a_lost_region():
    """A warp of a few pixels moves an eye-sized region's mark out of register, often in a
    single presence window: one window 5 sigmas short or more (presence.DEEP_SIGMAS) is
    a lost region by itself, where three were needed. These draws lost one window each;
    genuine copies, as saved and as re-posted, lose none."""
    from bench.forgeries import _jpeg, _reposted
    from bench.samples import photos
    from realmark.watermark import codec

    for name, size, seed, save in (("retina", (1080, 1350), 1, _jpeg), ("astronaut", (1920, 1080), 4, _reposted)):
        published = codec.embed(photos.fit(photos.real(name), *size), 4242)
        for genuine in (_jpeg(published), _reposted(published)):
            assert _mark_loss(published, 4242, _decoded(genuine)).lost_regions() == []
        warped, box = attacks.warp_region(published, np.random.default_rng(seed), any_direction=True)
        found = _mark_loss(published, 4242, _decoded(save(warped))).lost_regions()
        assert len(found) == 1 and _overlaps([found[0].to_dict()], box), (name, found)


def test_a_4k_copy_is_compared_at_twice_the_size_and_an_enlarged_one_as_its_original():
    """A 4K photo's warp of a few pixels, as saved, was under a pixel or two at 512 px and
    missed (these draws); compared at 1024 (published.ANALYSIS_PER) it is found, and a
    genuine copy gets no box. A 1080 px photo's copy enlarged to 4K is compared at 512:
    it holds no more detail than the photo."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.published import Changes, _analysis_size, changes
    from realmark.watermark import codec

    for name, seeds in (("coffee", (1, 6)), ("astronaut", (8,))):
        published = codec.embed(photos.fit(photos.real(name), 3840, 2160), 4242)
        for seed in seeds:
            warped, box = attacks.warp_region(published, np.random.default_rng(seed))
            found = changes(published, _decoded(_jpeg(warped, 90)))
            assert _overlaps([b.to_dict() for b in found.moved + found.replaced], box), (name, seed, found)
        assert changes(published, _decoded(_jpeg(published, 90))) == Changes()
    assert _analysis_size(np.zeros((2160, 3840)), (2160, 3840)) == (1820, 1024)
    assert _analysis_size(np.zeros((2160, 3840)), (1080, 1920)) == (910, 512)


def test_a_4k_copy_trimmed_along_its_long_side_is_registered_and_judged():
    """A 4K copy with 90 px cut off one side is still compared at 1024, where that trim is
    twice the offset the registration's reach and limits were set for at 512: it is
    registered on half-size planes first (a warp in it was missed before). A genuine
    copy trimmed the same way gets no box."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.published import Changes, changes
    from realmark.watermark import codec

    published = _decoded(_jpeg(codec.embed(photos.fit(photos.real("coffee"), 3840, 2160), 77), 95))
    warped, box = attacks.warp_region(published, np.random.default_rng(3))
    found = changes(published, _decoded(_jpeg(warped[:, 90:], 90)))
    assert _overlaps([b.to_dict() for b in found.moved + found.replaced], box), found
    assert changes(published, _decoded(_jpeg(published[:, 90:], 90))) == Changes()


def test_a_4k_copy_under_sepia_gets_no_moved_box_on_a_highlight_s_edge():
    """Compared at 1024, a sepia with a vignette moved the edge of the cup's highlight
    (coffee at 4K) by a pixel or two: a moved group, on a genuine copy. Blocks that are
    almost all highlight are not judged moved at that size (LARGE_MOVED_TONAL)."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.published import changes
    from realmark.watermark import codec

    published = _decoded(_jpeg(codec.embed(photos.fit(photos.real("coffee"), 3840, 2160), 11), 95))
    assert changes(published, _decoded(_jpeg(attacks.FILTERS["sepia_vignette"](published)))).moved == ()


def test_a_warp_that_moves_blocks_alone_is_found_at_full_size():
    """Warps over smooth shading that move one or two blocks past the moved test at 512 px
    (picked from 120 draws on three 1080p photos, saved at q90: these three differed), too
    few for a group: compared with the published file, the full-size look around those
    blocks (published.FINE_REACH) finds a moved group there that agrees with their shift.
    A genuine copy saved the same way gets no box."""
    from bench.forgeries import _jpeg
    from bench.samples import photos
    from realmark.fingerprint.published import Changes, changes, changes_from_file
    from realmark.watermark import codec

    for name, seed in (("coffee", 6), ("coffee", 14), ("retina", 1)):
        published = codec.embed(photos.fit(photos.real(name), 1920, 1080), 777)
        buffer = io.BytesIO()
        Image.fromarray(published).save(buffer, "PNG")
        warped, box = attacks.warp_region(published, np.random.default_rng(seed))
        copy = _decoded(_jpeg(warped, 90))
        at_analysis_size = changes(published, copy)
        assert not _overlaps([b.to_dict() for b in at_analysis_size.moved + at_analysis_size.replaced], box)
        found = changes_from_file(buffer.getvalue(), f"{name} {seed}", copy)
        assert _overlaps([b.to_dict() for b in found.moved], box), (name, seed, found)
        assert changes_from_file(buffer.getvalue(), f"{name} {seed}", _decoded(_jpeg(published, 90))) == Changes()


def test_an_object_blurred_away_is_found_where_its_detail_is_gone():
    """Blur fills over soft animation content (picked from 40 draws on one 1080p frame,
    where the replaced test alone missed 7 of 40 as saved and 8 re-posted, and the bench
    found one fill `authentic` on a draw of its edits the limits were not fitted to): the
    fill keeps its surroundings' colour and leaves blocks too faint to be matched, but the
    signed picture's textured blocks there lost most of their texture. Each gets a
    replaced box on the fill, as saved and as re-posted."""
    from bench.forgeries import _jpeg, _reposted
    from bench.samples import photos
    from realmark.fingerprint.published import changes
    from realmark.watermark import codec

    published = codec.embed(photos.fit(photos.bunny_frame(2.0), 1920, 1080), 12345)
    for seed in (2, 7, 8):
        filled, box = attacks.remove_object(published, np.random.default_rng(seed))
        for data in (_jpeg(filled, 90), _reposted(filled)):
            replaced = changes(published, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))).replaced
            assert _overlaps([r.to_dict() for r in replaced], box), (seed, replaced)


def test_a_small_face_pasted_in_is_altered_with_a_replaced_box_on_it(signed_photos, verify):
    """Twelve small patches of another photo (1/16 to 1/12 of the short side, 50-67 px),
    feathered in, as saved (q90). Such a patch can move the grid's cells less than its
    limit and sit where the mark is faint; compared with the published file, its
    textured blocks match nothing within 2 px. At least ten are `altered` with a box on
    the paste, three or more of them by replaced blocks (7 of 12 without the comparison,
    none by replaced blocks)."""
    caught = replaced = 0
    for n, name in enumerate(NAMES):
        other = signed_photos[1][NAMES[(n + 1) % len(NAMES)]]
        for seed in (1, 2, 3, 4):
            pasted, box = attacks.paste_face(signed_photos[1][name], np.random.default_rng(seed), other, 1 / 16, 1 / 12)
            code, body = verify(pasted)
            content = body["evidence"]["content"]
            caught += body["verdict"] == "altered" and _overlaps(content["changed_regions"], box)
            replaced += _overlaps(content.get("replaced_regions") or [], box)
    assert caught >= 10 and replaced >= 3, (caught, replaced)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "trim",
    [(2, 0, 0, 0, 1.0), (0, 1, 0, 1, 0.7), (6, 0, 0, 4, 1.0), (0, 0, 8, 6, 0.5), (4, 3, 4, 3, 0.8), (12, 0, 0, 0, 1.0)],
    ids=["2px_left", "2px_resized", "0.5pc_two_sides", "1pc_two_sides_halved", "4px_round", "1pc_left"],
)
def test_a_genuine_copy_trimmed_at_its_edges_gets_no_moved_box(signed_photos, verify, name, trim):
    """A platform trims a few pixels, or up to 3 % of a side, and placement still calls the
    picture whole: the copy and the published file are then offset everywhere, by more
    at one edge than the other. Registered first, nothing in them moved."""
    left, top, right, bottom, scale = trim
    rgb = signed_photos[1][name]
    h, w = rgb.shape[:2]
    copy = attacks.scale(np.ascontiguousarray(rgb[top : h - bottom, left : w - right]), scale)
    code, body = verify(copy, 85)
    content = body["evidence"].get("content") or {}
    assert not content.get("moved_regions") and not content.get("replaced_regions"), body["message"]
    if body["verdict"] == "authentic":  # a trim that placement calls cropped is judged as one
        assert content["changed_regions"] == []


def test_a_copy_trimmed_unevenly_and_resized_is_registered_before_it_is_judged():
    """A copy trimmed by 55 x 42 px, unevenly, resized 0.988x and saved at q72: one
    fine level of registration left it half a pixel off at its bottom, where sharp edges
    then read as moved (three boxes, for every watermark id tried); two leave nothing."""
    from bench.samples import photos
    from realmark.fingerprint.published import changes
    from realmark.watermark import codec

    published = codec.embed(photos.fit(photos.real("coffee"), 1920, 1080), 1080)
    trimmed = attacks.scale(np.ascontiguousarray(published[18:-24, 21:-34]), 0.988)
    found = changes(published, attacks.jpeg(trimmed, 72))
    assert not found.moved and not found.replaced, found


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "copy",
    [
        lambda x: (x, 30),
        lambda x: (x, 50),
        lambda x: (np.asarray(Image.fromarray(x).resize((720, 480), Image.LANCZOS)), 75),
        lambda x: (attacks.enhance(x, "Contrast", 0.7), 85),
        lambda x: (attacks.FILTERS["sepia_vignette"](x), 85),
        lambda x: (attacks.grain(x), 85),
        lambda x: (attacks.sharpen(x), 85),
        lambda x: (attacks.colour_boosted(x), 85),
    ],
    ids=[
        "jpeg_q30",
        "jpeg_q50",
        "720px_q75",
        "contrast_q85",
        "sepia_vignette_q85",
        "grain_q85",
        "sharpened_q85",
        "colour_boosted_q85",
    ],
)
def test_a_genuine_copy_gets_no_box(signed_photos, verify, name, copy):
    rgb, quality = copy(signed_photos[1][name])
    code, body = verify(rgb, quality)
    assert (code, body["verdict"]) == (0, "authentic"), body["message"]
    assert body["evidence"]["content"]["changed_regions"] == []
    assert body["evidence"]["content"]["unmarked_regions"] == []
    assert body["evidence"]["content"]["detail_regions"] == []
    assert body["evidence"]["content"]["moved_regions"] == []
    assert body["evidence"]["content"]["replaced_regions"] == []


def test_without_its_published_file_a_copy_keeps_the_maps_answer_and_says_it_was_not_compared(
    signed_photos, verify, tmp_path
):
    """The store's published file damaged (its bytes no longer have the signed hash): a
    warped copy cannot be compared with it, and gets the maps' answer (`authentic`), with
    `moved_regions` null, not an empty list, so a reader knows the comparison did not run;
    nothing is written to the store. With the file back, the warp is found again."""
    name = "coffee"
    home = signed_photos[0]
    store = home / "store"
    published = [p for p in (store / "published").iterdir() if p.is_file()]
    warped, box = attacks.warp_region(signed_photos[1][name], np.random.default_rng(3))
    code, body = verify(warped)
    assert body["verdict"] == "altered" and _overlaps(body["evidence"]["content"]["moved_regions"], box)
    target = next(p for p in published if p.name == body["manifest"]["media"]["sha256"])
    kept = target.read_bytes()
    before = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
    try:
        target.write_bytes(kept[: len(kept) // 2])  # a half-written or damaged object
        code, body = verify(warped)
        content = body["evidence"]["content"]
        assert (code, body["verdict"]) == (0, "authentic")
        assert content["moved_regions"] is None and content["replaced_regions"] is None
        after = sorted(p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file())
        assert after == before
    finally:
        target.write_bytes(kept)
    code, body = verify(warped)
    assert body["verdict"] == "altered"
