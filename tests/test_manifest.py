from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from realmark.errors import InvalidManifest
from realmark.manifest import Manifest, MediaInfo, canonical_json, parse_manifest, sign_manifest, verify_manifest


def test_canonical_json_matches_rfc8785_rules():
    # Keys sort by UTF-16 code units: U+10000 (surrogates D800...) sorts before U+FB33.
    value = {"\ufb33": 1, "\U00010000": 2, "b": [True, None, "é\n\u001f"], "a": {"z": 0, "y": -5}}
    assert (
        canonical_json(value) == '{"a":{"y":-5,"z":0},"b":[true,null,"é\\n\\u001f"],"\U00010000":2,"\ufb33":1}'.encode()
    )


@pytest.mark.parametrize("bad", [1.5, float("nan"), 2**60, {1: "x"}, "\ud800", b"bytes"])
def test_canonical_json_refuses_what_it_cannot_serialize_exactly(bad):
    with pytest.raises(ValueError):
        canonical_json({"v": bad})


def _manifest(**changes) -> Manifest:
    base = dict(
        manifest_id="rm-" + "a" * 24,
        agency="YG",
        key_id="0123456789abcdef",
        title="Official photo",
        artists=("Lisa", "Rosé"),
        published_at="2026-11-21T00:00:00Z",
        media=MediaInfo("image/jpeg", 1920, 1080, "0" * 64),
        fingerprint_alg="realmark-pdq-1",
        fingerprint_hash="f" * 64,
        fingerprint_quality=100,
        fingerprint_grid="A" * 1366,
        watermark_codec="realmark-wm",
        watermark_version=1,
        watermark_id="00000000abcd",
    )
    base.update(changes)
    return Manifest(**base)


def test_sign_parse_verify_round_trip():
    key = Ed25519PrivateKey.generate()
    signed = sign_manifest(_manifest(), key)
    parsed = parse_manifest(signed.to_json())
    assert parsed == signed
    verify_manifest(parsed, key.public_key())
    with pytest.raises(InvalidManifest, match="does not match"):
        verify_manifest(parsed, Ed25519PrivateKey.generate().public_key())


def _tamper(edit) -> bytes:
    body = json.loads(sign_manifest(_manifest(), Ed25519PrivateKey.generate()).to_json())
    edit(body)
    return canonical_json(body)


@pytest.mark.parametrize(
    "edit,reason",
    [
        (lambda b: b.update(extra="x"), "unknown field"),
        (lambda b: b.pop("title"), "lacks field"),
        (lambda b: b["media"].update(codec="h264"), "unknown field"),
        (lambda b: b["watermark"].pop("version"), "lacks field"),
        (lambda b: b.update(format="realmark.manifest/9"), "unsupported manifest format"),
        (lambda b: b["media"].update(width="1920"), "integer"),
        (lambda b: b.update(artists=[]), "artists"),
        (lambda b: b.update(published_at="yesterday"), "published_at"),
        (lambda b: b["signature"].update(alg="none"), "Ed25519"),
    ],
)
def test_parser_fails_closed(edit, reason):
    with pytest.raises(InvalidManifest, match=reason):
        parse_manifest(_tamper(edit))


def test_non_canonical_bytes_are_refused():
    data = sign_manifest(_manifest(), Ed25519PrivateKey.generate()).to_json()
    pretty = json.dumps(json.loads(data), indent=2).encode()
    with pytest.raises(InvalidManifest, match="canonical"):
        parse_manifest(pretty)


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"[]", b"null", b"{" * 10000, b"x" * 70000])
def test_garbage_is_invalid_not_a_crash(data):
    with pytest.raises(InvalidManifest):
        parse_manifest(data)


def test_fingerprint_variants_are_optional_round_trip_and_are_checked():
    key = Ed25519PrivateKey.generate()
    with_variants = sign_manifest(_manifest(fingerprint_variants={"centre-50": "a" * 64, "square": "b" * 64}), key)
    assert parse_manifest(with_variants.to_json()) == with_variants
    body = json.loads(with_variants.to_json())
    for bad in ({}, {"centre-33": "a" * 64}, {"square": "xyz"}, ["a" * 64]):
        body["fingerprint"]["variants"] = bad
        with pytest.raises(InvalidManifest, match="variants"):
            parse_manifest(canonical_json(body))


def test_the_watermark_presence_map_is_optional_round_trips_and_must_fit_the_picture():
    import numpy as np

    from realmark.watermark.presence import Presence, blocks_of

    key = Ed25519PrivateKey.generate()
    rows, cols = blocks_of(1920, 1080)
    stored = Presence(np.linspace(-3, 9, rows * cols).reshape(rows, cols)).encode()
    with_map = sign_manifest(_manifest(watermark_presence=stored), key)
    assert parse_manifest(with_map.to_json()) == with_map
    assert Presence.decode(with_map.watermark_presence, 1920, 1080).z.shape == (rows, cols)
    body = json.loads(with_map.to_json())
    for bad in (stored[:-4], stored + "AAAA", "!" * len(stored), 7):
        body["watermark"]["presence"] = bad
        with pytest.raises(InvalidManifest, match="presence"):
            parse_manifest(canonical_json(body))


def test_the_detail_map_is_optional_round_trips_to_its_precision_and_must_fit_the_picture():
    import numpy as np

    from realmark.watermark.presence import Detail, blocks_of

    key = Ed25519PrivateKey.generate()
    rows, cols = blocks_of(1080, 1350)
    rms = np.geomspace(0.05, 150, rows * cols).reshape(rows, cols)
    stored = Detail(rms).encode()
    with_map = sign_manifest(
        _manifest(fingerprint_detail=stored, media=MediaInfo("image/jpeg", 1080, 1350, "0" * 64)), key
    )
    assert parse_manifest(with_map.to_json()) == with_map
    assert sign_manifest(_manifest(), key).payload()["fingerprint"].keys() == {"alg", "hash", "quality", "grid"}
    back = Detail.decode(stored, 1080, 1350).rms
    assert np.allclose(np.log2(back), np.log2(rms), atol=1 / 32)  # a sixteenth of an octave, rounded
    body = json.loads(with_map.to_json())
    for bad in (stored[:-4], stored + "AAAA", "!" * len(stored), 7):
        body["fingerprint"]["detail"] = bad
        with pytest.raises(InvalidManifest, match="detail"):
            parse_manifest(canonical_json(body))
