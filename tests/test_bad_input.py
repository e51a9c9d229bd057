"""Bad input gets one clear line, exit 2, and leaves the store exactly as it was."""

from __future__ import annotations

import struct
import zlib

import pytest

from bench.samples import photos


def _png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb's signature)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


BAD = {
    "text": (b"hello, this is not an image\n", "not a supported photo or video"),
    "empty": (b"", "empty"),
    "html_named_jpg": (b"<html><script>alert(1)</script></html>", "not a supported photo or video"),
    "truncated_jpeg": (None, "damaged or truncated"),
    "bomb": (_png_header_claiming(100_000, 100_000), "pixels"),
    "tiny": (None, "at least 256 px"),
}


@pytest.fixture
def baseline_store(agency_cli, tmp_path):
    src = tmp_path / "ok.jpg"
    src.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 800, 600)))
    assert agency_cli("sign", src, "-o", tmp_path / "ok-signed.jpg", "--title", "t", "--artist", "a")[0] == 0
    return agency_cli.stored_files()


def _bad_bytes(name: str) -> bytes:
    data, _ = BAD[name]
    if name == "truncated_jpeg":
        full = photos.encode(photos.hd("rocket"))
        return full[: len(full) // 2]
    if name == "tiny":
        return photos.encode(photos.fit(photos.real("coffee"), 200, 150))
    return data


@pytest.mark.parametrize("name", list(BAD))
def test_sign_refuses_bad_input_and_stores_nothing(agency_cli, baseline_store, tmp_path, name):
    src = tmp_path / f"{name}.jpg"
    src.write_bytes(_bad_bytes(name))
    out = tmp_path / "out.jpg"
    code, stdout, err = agency_cli("sign", src, "-o", out, "--title", "t", "--artist", "a")
    assert code == 2
    assert err.startswith("realmark: error:") and err.count("\n") == 1
    assert BAD[name][1] in err
    assert agency_cli.stored_files() == baseline_store
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("name", ["text", "empty", "html_named_jpg", "truncated_jpeg", "bomb"])
def test_verify_refuses_bad_input(agency_cli, baseline_store, tmp_path, name):
    src = tmp_path / f"{name}.jpg"
    src.write_bytes(_bad_bytes(name))
    code, body = agency_cli.json("verify", src)
    assert code == 2 and BAD[name][1] in body["error"]
    assert agency_cli.stored_files() == baseline_store


def test_verify_refuses_an_image_too_small_to_read(agency_cli, tmp_path):
    src = tmp_path / "thumb.png"
    src.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 80, 60), "PNG"))
    code, _, err = agency_cli("verify", src)
    assert code == 2 and "too small" in err


def test_missing_file_is_a_clear_error(agency_cli, tmp_path):
    code, _, err = agency_cli("verify", tmp_path / "nope.jpg")
    assert code == 2 and "no such file" in err


def test_unwritable_output_stores_nothing(agency_cli, baseline_store, tmp_path):
    """The output's folder is a regular file: unwritable for every user, root included."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.hd("coffee")))
    code, _, err = agency_cli("sign", src, "-o", blocker / "o.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "cannot write" in err
    assert agency_cli.stored_files() == baseline_store


def test_output_in_missing_directory_stores_nothing(agency_cli, baseline_store, tmp_path):
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.hd("coffee")))
    code, _, err = agency_cli(
        "sign", src, "-o", tmp_path / "no" / "such" / "dir" / "o.jpg", "--title", "t", "--artist", "a"
    )
    assert code == 2 and "cannot write" in err
    assert agency_cli.stored_files() == baseline_store


def test_output_over_input_is_refused(agency_cli, baseline_store, tmp_path):
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.hd("coffee")))
    code, _, err = agency_cli("sign", src, "-o", src, "--title", "t", "--artist", "a")
    assert code == 2 and "overwrite the input" in err
    assert agency_cli.stored_files() == baseline_store


@pytest.mark.parametrize(
    "title,artists,expected",
    [("", ["a"], "title"), ("t", ["  "], "artist"), ("t\x07", ["a"], "control"), ("x" * 501, ["a"], "longer")],
)
def test_bad_metadata_is_refused(agency_cli, baseline_store, tmp_path, title, artists, expected):
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.hd("coffee")))
    argv = ["sign", src, "-o", tmp_path / "o.jpg", "--title", title]
    for a in artists:
        argv += ["--artist", a]
    code, _, err = agency_cli(*argv)
    assert code == 2 and expected in err
    assert agency_cli.stored_files() == baseline_store


def test_sign_without_any_key_explains_what_to_do(cli, tmp_path):
    src = tmp_path / "p.jpg"
    src.write_bytes(photos.encode(photos.hd("coffee")))
    code, _, err = cli("sign", src, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "keys init" in err


def test_huge_file_is_refused_before_reading(agency_cli, baseline_store, tmp_path):
    from realmark.media.image import MAX_FILE_BYTES

    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as f:
        f.write(b"\xff\xd8\xff")
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    for argv in (("verify", huge), ("sign", huge, "-o", tmp_path / "o.jpg", "--title", "t", "--artist", "a")):
        code, _, err = agency_cli(*argv)
        assert code == 2 and "limit" in err
    assert agency_cli.stored_files() == baseline_store
