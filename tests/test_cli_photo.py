"""The issue's acceptance cases, through the `realmark` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench import attacks
from bench.samples import photos


@pytest.fixture
def signed(agency_cli, tmp_path):
    """A 1080p official photo signed by YG: (cli, original path, signed path, manifest id)."""
    original = tmp_path / "official.jpg"
    original.write_bytes(photos.encode(photos.hd("astronaut")))
    out = tmp_path / "signed.jpg"
    code, body = agency_cli.json(
        "sign", original, "-o", out, "--title", "Press photo", "--artist", "Jisoo", "--artist", "Jennie"
    )
    assert code == 0, body
    return agency_cli, original, out, body["manifest_id"]


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_signed_photo_is_authentic_with_citable_json(signed):
    cli, _, out, manifest_id = signed
    code, body = cli.json("verify", out)
    assert code == 0
    assert body["verdict"] == "authentic"
    assert set(body) == {"verdict", "reasons", "message", "message_params", "manifest", "evidence", "credentials"}
    assert body["reasons"] == ["published_file"]
    assert body["manifest"]["manifest_id"] == manifest_id
    assert body["manifest"]["artists"] == ["Jisoo", "Jennie"]
    assert body["evidence"]["content"]["exact_match"] is True
    # The published file itself: known by its hash, so its mark is not read (the id is its record's).
    mark = body["evidence"]["watermark"]
    assert mark["found"] is None and mark["id"] == body["manifest"]["watermark"]["id"]
    assert "byte-identical" in mark["note"]
    assert body["evidence"]["signature"]["valid"] is True
    assert body["message"].count(".") >= 1 and "\n" not in body["message"]


def _without_metadata(jpeg: bytes) -> bytes:
    """The JPEG with its APP1-APP15 and comment segments dropped (EXIF, XMP, its C2PA
    manifest), the coded picture untouched: what a metadata stripper leaves."""
    out, at = bytearray(jpeg[:2]), 2
    while jpeg[at + 1] != 0xDA:  # up to the start of scan
        marker, length = jpeg[at + 1], int.from_bytes(jpeg[at + 2 : at + 4], "big")
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += jpeg[at : at + 2 + length]
        at += 2 + length
    return bytes(out + jpeg[at:])


def test_the_published_pixels_in_another_file_are_authentic_without_being_compared(signed, tmp_path):
    """Metadata stripped, or the same pixels saved as PNG: the very picture that was
    signed. A single pixel changed, the picture mirrored, made partly transparent or
    given another colour profile is not: those go the usual way."""
    from PIL import Image, ImageCms

    cli, _, out, manifest_id = signed
    stripped = _without_metadata(out.read_bytes())
    assert len(stripped) < len(out.read_bytes())
    rgb = photos.decode(out.read_bytes())
    for name, data in (("stripped.jpg", stripped), ("same.png", photos.encode(rgb, fmt="PNG"))):
        code, body = cli.json("verify", _write(tmp_path, name, data))
        assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["published_pixels"]), (name, body)
        assert body["manifest"]["manifest_id"] == manifest_id
        assert body["evidence"]["content"] == {"exact_match": False, "same_pixels": True, "changed_regions": []}
        assert "pixel for pixel" in body["message"]
    touched = rgb.copy()
    touched[500, 900] = 255 - touched[500, 900]
    see_through = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    see_through[:, : rgb.shape[1] // 2, 3] = 0
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    others = {
        "touched.png": photos.encode(touched, fmt="PNG"),
        "mirrored.png": photos.encode(np.ascontiguousarray(rgb[:, ::-1]), fmt="PNG"),
        "transparent.png": photos.encode(see_through, fmt="PNG"),
        "profiled.png": photos.encode(rgb, fmt="PNG", icc_profile=profile),
    }
    for name, data in others.items():
        code, body = cli.json("verify", _write(tmp_path, name, data))
        assert "published_pixels" not in body["reasons"], (name, body)
        assert "same_pixels" not in body["evidence"]["content"], (name, body)
    assert Image.open(tmp_path / "profiled.png").info.get("icc_profile") == profile


def test_signed_output_keeps_format_and_size(signed):
    from PIL import Image

    _, original, out, _ = signed
    a, b = Image.open(original), Image.open(out)
    assert (b.format, b.size) == (a.format, a.size)


def test_unsigned_photo_is_unknown_and_says_it_is_not_proof_of_fake(signed, tmp_path):
    cli, _, _, _ = signed
    code, body = cli.json("verify", _write(tmp_path, "other.jpg", photos.encode(photos.hd("coffee"))))
    assert code == 1
    assert body["verdict"] == "unknown"
    assert body["manifest"] is None
    assert "not prove" in body["message"]


def test_the_unmarked_original_is_only_likely_authentic(signed):
    """The file before signing has no mark but looks exactly like the signed one: found
    by appearance (issue 6), and never called authentic."""
    cli, original, _, manifest_id = signed
    code, body = cli.json("verify", original)
    assert (code, body["verdict"]) == (1, "likely_authentic")
    assert body["manifest"]["manifest_id"] == manifest_id
    assert body["evidence"]["appearance"]["distance"] <= 2


@pytest.mark.parametrize("attack", ["jpeg_q75", "scale_50", "scale_25", "upscale_150", "scale_50_jpeg_q75"])
def test_reencoded_and_resized_copies_are_authentic(signed, tmp_path, attack):
    cli, _, out, manifest_id = signed
    copy = attacks.PHOTO_ATTACKS[attack](photos.decode(out.read_bytes()))
    # A platform strips metadata and re-encodes: write the copy as a fresh file.
    path = _write(
        tmp_path,
        f"{attack}.jpg",
        photos.encode(copy, quality=95) if attack != "jpeg_q75" else photos.encode(copy, quality=75),
    )
    code, body = cli.json("verify", path)
    assert body["verdict"] == "authentic", body
    assert code == 0
    assert body["manifest"]["manifest_id"] == manifest_id
    assert body["evidence"]["content"]["exact_match"] is False
    assert body["evidence"]["content"]["fingerprint_distance"] <= body["evidence"]["content"]["max_distance"]


def test_png_copy_of_jpeg_is_authentic(signed, tmp_path):
    cli, _, out, _ = signed
    path = _write(tmp_path, "copy.png", photos.encode(photos.decode(out.read_bytes()), "PNG"))
    assert cli.json("verify", path)[1]["verdict"] == "authentic"


@pytest.mark.parametrize("width", [1920, 960, 480])
def test_a_still_gif_is_a_photo_and_its_dithering_no_change(signed, tmp_path, width):
    from PIL import Image

    cli, _, out, manifest_id = signed
    picture = Image.open(out).convert("RGB")
    picture = picture.resize((width, round(picture.height * width / picture.width)), Image.LANCZOS)
    genuine = tmp_path / "copy.gif"
    picture.quantize(256, dither=Image.Dither.FLOYDSTEINBERG).save(genuine)
    code, body = cli.json("verify", genuine)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["reencoded"])
    fake = attacks.replace_quarter(photos.decode(out.read_bytes()), photos.hd("coffee"))
    Image.fromarray(fake).resize(picture.size, Image.LANCZOS).quantize(256).save(tmp_path / "fake.gif")
    code, body = cli.json("verify", tmp_path / "fake.gif")
    assert (code, body["verdict"], body["manifest"]["manifest_id"]) == (1, "altered", manifest_id)


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"\x00\x00\x00\x1cftypavis\x00\x00\x00\x00avismsf1miaf", "avif"),  # animated
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),  # generic brand first
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heif"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "mov"),
        (b"\x00\x00\x00\x00ftypmif1\x00\x00\x00\x00mif1heic", "heif"),  # size 0: to the end of the file
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf", None),  # no codec named (JPEG in HEIF)
        (b"\x00\x00\x00\x08ftypmif1", None),
    ],
)
def test_iso_media_files_are_told_apart_by_their_brands(head, container):
    from realmark.errors import UnsupportedMedia
    from realmark.media.formats import detect

    if container is None:
        with pytest.raises(UnsupportedMedia):
            detect(head)
    else:
        assert detect(head).container == container


@pytest.mark.parametrize(("suffix", "brand"), [("avif", b"avif"), ("heic", b"heic")])
def test_an_avif_or_heic_copy_is_verified_as_a_photo_and_never_signed(signed, tmp_path, suffix, brand):
    """A picture saved from the web is often AVIF, and an iPhone's camera writes HEIC: both
    ISO-BMFF files like MP4. An AVIF copy of an official photo was taken for a clip (and
    called `altered`: "official pictures do not move"); both are photos. A truncated one
    is a clear error, and neither is signed."""
    from PIL import Image

    if suffix == "heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    cli, _, out, manifest_id = signed
    copy = tmp_path / f"copy.{suffix}"
    Image.open(out).convert("RGB").resize((1280, 720), Image.LANCZOS).save(copy, quality=60)
    assert copy.read_bytes()[8:12] == brand
    code, body = cli.json("verify", copy)
    assert (code, body["verdict"], body["reasons"]) == (0, "authentic", ["reencoded"]), body["message"]
    assert body["manifest"]["manifest_id"] == manifest_id
    data = copy.read_bytes()
    cut, damaged = tmp_path / f"cut.{suffix}", tmp_path / f"damaged.{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    at = data.index(b"iloc") + 12  # where the picture's data lies, damaged (libavif: a RuntimeError)
    damaged.write_bytes(data[:at] + bytes([data[at] ^ 0x7F]) + data[at + 1 :])
    for bad in (cut, damaged):
        code, _, err = cli("verify", bad)
        assert code == 2 and "damaged or truncated" in err, err
    code, _, err = cli("sign", copy, "-o", tmp_path / f"x.{suffix}", "--title", "T", "--artist", "A")
    assert code == 2 and "never signed" in err


def test_a_gif_whose_palette_took_the_mark_off_a_dark_edge_is_not_altered(tmp_path, monkeypatch):
    """The case the test above met once in 846 copies (282 random watermark ids): with this id,
    the 960 px GIF's palette drew the dark edge at the astronaut's top right with a few
    colours and its dither replaced the mark there (100 px with no mark). The signing is
    in-process to choose the id; the copy must stay authentic."""
    from PIL import Image

    from realmark.deployment import Deployment
    from realmark.settings import Settings
    from realmark.store.records import Records
    from signer import Signer
    from verifier import Verifier

    monkeypatch.setattr(Records, "new_watermark_id", staticmethod(lambda: 0xFDAEEF2BCAAB))
    deployment = Deployment(Settings(home=tmp_path / "home"))
    deployment.keyring.create("YG", rotate=False)
    original, out = _write(tmp_path, "official.jpg", photos.encode(photos.hd("astronaut"))), tmp_path / "signed.jpg"
    Signer(deployment.store, deployment.keyring.signing_key("YG")).sign(original, out, title="t", artists=["a"])
    picture = Image.open(out).convert("RGB")
    picture.resize((960, round(picture.height * 960 / picture.width)), Image.LANCZOS).quantize(
        256, dither=Image.Dither.FLOYDSTEINBERG
    ).save(tmp_path / "copy.gif")
    result = Verifier(deployment.store, deployment.trust, deployment.index).verify(tmp_path / "copy.gif")
    assert result.to_dict("en")["evidence"]["watermark"]["id"] == "fdaeef2bcaab"
    assert (result.verdict.value, [r.value for r in result.reasons]) == ("authentic", ["reencoded"]), result.to_dict(
        "en"
    )["evidence"]["content"]


def test_quarter_replaced_is_altered(signed, tmp_path):
    cli, _, out, manifest_id = signed
    fake = attacks.replace_quarter(photos.decode(out.read_bytes()), photos.hd("coffee"))
    code, body = cli.json("verify", _write(tmp_path, "fake.jpg", photos.encode(fake)))
    assert code == 1
    assert body["verdict"] == "altered"
    assert body["manifest"]["manifest_id"] == manifest_id
    assert body["evidence"]["content"]["fingerprint_distance"] > body["evidence"]["content"]["max_distance"]


def test_one_byte_changed_in_stored_manifest_is_invalid(signed):
    cli, _, out, manifest_id = signed
    path = cli.home / "store" / "manifests" / f"{manifest_id}.json"
    original = path.read_bytes()
    offsets = [
        original.index(b'"title":"Press photo"') + 9,
        original.index(b'"width":') + 8,
        0,
        len(original) - 1,
        original.index(b","),
    ]
    for offset in offsets:
        data = bytearray(original)
        data[offset] = data[offset] ^ 0x01
        path.write_bytes(bytes(data))
        code, body = cli.json("verify", out)
        assert (code, body["verdict"]) == (1, "invalid"), (offset, body)
        assert body["evidence"]["signature"]["reason"]
    path.write_bytes(original)
    assert cli.json("verify", out)[1]["verdict"] == "authentic"


def test_revoked_key_makes_manifest_invalid(signed):
    cli, _, out, _ = signed
    key_id = cli.json("verify", out)[1]["manifest"]["key_id"]
    assert cli("keys", "revoke", key_id, "--reason", "laptop stolen")[0] == 0
    code, body = cli.json("verify", out)
    assert body["verdict"] == "invalid"
    assert "revoked" in body["evidence"]["signature"]["reason"]


def test_key_rotation_keeps_old_photos_authentic(signed, tmp_path):
    cli, _, out, _ = signed
    old_key = cli.json("verify", out)[1]["manifest"]["key_id"]
    code, body = cli.json("keys", "init", "--agency", "YG", "--rotate")
    assert code == 0 and body["key_id"] != old_key
    assert cli.json("verify", out)[1]["verdict"] == "authentic"
    new_photo = _write(tmp_path, "new.jpg", photos.encode(photos.hd("rocket")))
    code, signed_new = cli.json("sign", new_photo, "-o", tmp_path / "new-signed.jpg", "--title", "t", "--artist", "a")
    assert signed_new["manifest"]["key_id"] == body["key_id"]


def test_untrusted_verifier_says_invalid(signed, tmp_path):
    """A verifier whose trust list lacks the agency key must not say authentic."""
    cli, _, out, _ = signed
    trust = cli.home / "trust.json"
    body = json.loads(trust.read_text())
    body["keys"] = []
    trust.write_text(json.dumps(body))
    code, result = cli.json("verify", out)
    assert result["verdict"] == "invalid"
    assert "not on the trust list" in result["evidence"]["signature"]["reason"]


def test_signing_same_input_twice_returns_the_same_record(signed, tmp_path):
    cli, original, out, manifest_id = signed
    before = cli.stored_files()
    out2 = tmp_path / "again.jpg"
    code, body = cli.json(
        "sign", original, "-o", out2, "--title", "Press photo", "--artist", "Jisoo", "--artist", "Jennie"
    )
    assert code == 0
    assert body["manifest_id"] == manifest_id and body["created"] is False
    assert out2.read_bytes() == out.read_bytes()
    assert cli.stored_files() == before


def test_signing_same_input_with_other_details_is_refused(signed, tmp_path):
    cli, original, _, manifest_id = signed
    before = cli.stored_files()
    code, out, err = cli("sign", original, "-o", tmp_path / "x.jpg", "--title", "Another title", "--artist", "Jisoo")
    assert code == 2
    assert manifest_id in err and "never changed" in err
    assert cli.stored_files() == before
    assert not (tmp_path / "x.jpg").exists()


def test_agency_is_required_when_several_have_keys(agency_cli, tmp_path):
    assert agency_cli("keys", "init", "--agency", "Cube")[0] == 0
    src = _write(tmp_path, "p.jpg", photos.encode(photos.hd("coffee")))
    code, _, err = agency_cli("sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "--agency" in err
    code, body = agency_cli.json(
        "sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a", "--agency", "Cube"
    )
    assert code == 0 and body["manifest"]["agency"] == "Cube"


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("WEBP", "webp")])
def test_png_and_webp_round_trip(agency_cli, tmp_path, fmt, ext):
    from PIL import Image

    src = _write(
        tmp_path,
        f"p.{ext}",
        photos.encode(
            photos.fit(photos.real("coffee"), 800, 600), fmt, **({"lossless": True} if fmt == "WEBP" else {})
        ),
    )
    out = tmp_path / f"signed.{ext}"
    code, body = agency_cli.json("sign", src, "-o", out, "--title", "t", "--artist", "a")
    assert code == 0, body
    assert Image.open(out).format == fmt and Image.open(out).size == (800, 600)
    assert agency_cli.json("verify", out)[1]["verdict"] == "authentic"


def test_exif_orientation_is_honoured(agency_cli, tmp_path):
    from PIL import Image

    upright = photos.fit(photos.real("astronaut"), 600, 800)  # portrait as the viewer sees it
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # camera stored it sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...and says "rotate 90 degrees clockwise to view"
    src = _write(tmp_path, "rotated.jpg", photos.encode(stored, exif=exif.tobytes()))
    out = tmp_path / "signed.jpg"
    code, body = agency_cli.json("sign", src, "-o", out, "--title", "t", "--artist", "a")
    assert code == 0
    assert (body["manifest"]["media"]["width"], body["manifest"]["media"]["height"]) == (600, 800)
    signed = Image.open(out)
    assert signed.size == (600, 800) and signed.getexif().get(0x0112, 1) == 1
    assert np.abs(photos.decode(out.read_bytes()).astype(int) - upright.astype(int)).mean() < 4


def test_large_generated_photo(agency_cli, tmp_path):
    """A 24 MP camera-sized photo: textured noise over gradients, signed and verified."""
    rng = np.random.default_rng(5)
    h, w = 4000, 6000
    yy, xx = np.mgrid[0:h:8, 0:w:8]
    base = np.stack([(xx / w * 255), (yy / h * 255), ((xx + yy) / (w + h) * 255)], axis=-1)
    small = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    big = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(small).resize((w, h)))
    src = _write(tmp_path, "big.jpg", photos.encode(big))
    out = tmp_path / "big-signed.jpg"
    code, body = agency_cli.json("sign", src, "-o", out, "--title", "t", "--artist", "a")
    assert code == 0 and (body["manifest"]["media"]["width"], body["manifest"]["media"]["height"]) == (w, h)
    copy = _write(
        tmp_path, "big-copy.jpg", photos.encode(attacks.scale(photos.decode(out.read_bytes()), 0.25), quality=80)
    )
    body = agency_cli.json("verify", copy)[1]
    assert body["verdict"] == "authentic", body["evidence"]


def test_installed_console_script_in_a_real_process(agency_cli, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    exe = shutil.which("realmark", path=os.path.dirname(sys.executable)) or shutil.which("realmark")
    assert exe, "the realmark console script is not installed"
    env = {**os.environ, "REALMARK_HOME": str(agency_cli.home)}
    src = _write(tmp_path, "p.jpg", photos.encode(photos.hd("chelsea")))

    def run(*a):
        return subprocess.run([exe, *map(str, a)], env=env, capture_output=True, text=True, timeout=60)

    signed = run("sign", src, "-o", tmp_path / "s.jpg", "--title", "t", "--artist", "a", "--json")
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["manifest_id"].startswith("rm-")
    assert run("verify", tmp_path / "s.jpg").returncode == 0
    unknown = run("verify", _write(tmp_path, "other.jpg", photos.encode(photos.hd("coffee"))))
    assert unknown.returncode == 1 and unknown.stdout.startswith("UNKNOWN:")
    lookalike = run("verify", src)  # the unmarked original: found by appearance only
    assert lookalike.returncode == 1 and lookalike.stdout.startswith("LIKELY_AUTHENTIC:")
    bad = run("verify", tmp_path / "missing.jpg")
    assert bad.returncode == 2 and bad.stderr.startswith("realmark: error:")


def test_cropped_official_photo_is_recognised_but_never_authentic(signed, tmp_path):
    cli, _, out, manifest_id = signed
    rgb = photos.decode(out.read_bytes())
    h, w = rgb.shape[:2]
    crop = rgb[h // 10 : h - h // 10, w // 10 : w - w // 10]  # centre 80 %, as re-uploaders do
    code, body = cli.json("verify", _write(tmp_path, "crop.jpg", photos.encode(crop, quality=85)))
    assert (code, body["verdict"]) == (1, "altered")
    assert body["manifest"]["manifest_id"] == manifest_id
    assert "cropped or re-framed" in body["message"]
    assert abs(body["evidence"]["watermark"]["scale"] - 1.25) < 0.02


def test_the_readme_demo_flow(agency_cli, tmp_path):
    """scripts/demo.sh: sign examples/official.jpg; the signed file and a half-size JPEG
    q75 copy of it are authentic; the unmarked original is likely_authentic (appearance)."""
    from pathlib import Path

    from PIL import Image

    example = Path(__file__).resolve().parent.parent / "examples" / "official.jpg"
    signed = tmp_path / "official-signed.jpg"
    assert agency_cli("sign", example, "-o", signed, "--title", "Press photo", "--artist", "Demo Artist")[0] == 0
    im = Image.open(signed)
    im.resize((im.width // 2, im.height // 2)).save(tmp_path / "copy.jpg", quality=75)  # exactly as the demo does
    assert agency_cli.json("verify", signed)[1]["verdict"] == "authentic"
    assert agency_cli.json("verify", tmp_path / "copy.jpg")[1]["verdict"] == "authentic"
    assert agency_cli.json("verify", example)[1]["verdict"] == "likely_authentic"
