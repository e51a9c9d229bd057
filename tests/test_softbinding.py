"""The C2PA Soft Binding Resolution API, through HTTP, on both stores: a copy stripped of
its metadata and re-encoded finds its Content Credentials again through the watermark."""

from __future__ import annotations

import hashlib
import io

import c2pa
from PIL import Image

from bench.samples import videos
from realmark.credentials import SOFT_BINDING_ALG, binding_value
from realmark.deployment import open_store
from realmark.keys import Keyring
from signer import sign
from tests.test_credentials import c2pa_read
from tests.test_service import _photo, _sign, _verify, client, settings, tokens  # noqa: F401  (shared fixtures)


def _stripped_copy(data: bytes) -> bytes:
    """What a platform does: decode, shrink, re-encode as JPEG q80, keep no metadata."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def test_stripped_reencoded_photo_finds_its_c2pa_manifest_through_the_watermark(client, tokens, settings):
    body = _sign(client, tokens["YG"], _photo(), title="Comeback teaser", artists=("Lisa",)).json()
    manifest = body["manifest"]
    published = client.get(body["download"]).content
    copy = _stripped_copy(published)
    assert c2pa.Reader.try_create("image/jpeg", io.BytesIO(copy)) is None  # nothing embedded is left

    # The verifier reads the watermark id from the copy; the id is the binding value.
    verdict = _verify(client, copy).json()
    assert verdict["verdict"] == "authentic" and verdict["credentials"] is None
    value = binding_value(int(verdict["evidence"]["watermark"]["id"], 16))
    found = client.get("/matches/byBinding", params={"alg": SOFT_BINDING_ALG, "value": value})
    assert found.status_code == 200, found.text
    matches = found.json()["matches"]
    assert [m["manifestId"] for m in matches] == [manifest["c2pa"]["manifest"]] and matches[0]["similarityScore"] == 100

    # The manifest store comes back as application/c2pa, the same bytes as embedded, and
    # validates as Trusted against the published file with the deployment root.
    store = client.get(f"/manifests/{matches[0]['manifestId']}")
    assert store.status_code == 200 and store.headers["content-type"] == "application/c2pa"
    assert hashlib.sha256(store.content).hexdigest() == manifest["c2pa"]["sha256"] and store.content in published
    root = client.get("/.well-known/realmark/c2pa-root.pem").text
    assert root == client.get("/.well-known/realmark/trust.json").json()["c2pa_root"]
    assert c2pa_read("image/jpeg", published, root, manifest_data=store.content).get_validation_state() == "Trusted"

    # A client that cannot read the watermark uploads the copy itself.
    by_content = client.post("/matches/byContent", content=copy, headers={"Content-Type": "image/jpeg"})
    assert by_content.status_code == 200, by_content.text
    assert [m["manifestId"] for m in by_content.json()["matches"]] == [manifest["c2pa"]["manifest"]]


def test_resolution_api_answers_unknowns_and_bad_requests_plainly(client, tokens, settings):
    algorithms = client.get("/services/supportedAlgorithms").json()
    assert {"alg": SOFT_BINDING_ALG} in algorithms["watermarks"] and algorithms["fingerprints"]
    unknown = client.get("/matches/byBinding", params={"alg": SOFT_BINDING_ALG, "value": binding_value(0x123456789ABC)})
    assert unknown.status_code == 200 and unknown.json() == {"matches": []}
    for params in (
        {"alg": "com.other.wm", "value": "AAAAAAAA"},
        {"alg": SOFT_BINDING_ALG, "value": "not base64!"},
        {"alg": SOFT_BINDING_ALG, "value": "AAAA"},
        {"alg": SOFT_BINDING_ALG},
    ):
        response = client.get("/matches/byBinding", params=params)
        assert response.status_code in (400, 422) and "error" in response.json(), params
    assert client.get("/manifests/urn:c2pa:00000000-0000-0000-0000-000000000000").status_code == 404
    for manifest_id in ("rm-x", "..%2F..%2Ftrust.json", "urn:c2pa:../../x"):
        assert client.get(f"/manifests/{manifest_id}").status_code in (400, 404)
    nothing = client.post("/matches/byContent", content=_photo("coffee"), headers={"Content-Type": "image/jpeg"})
    assert nothing.status_code == 200 and nothing.json() == {"matches": []}
    garbage = client.post(
        "/matches/byContent", content=b"%PDF-1.4 not a picture", headers={"Content-Type": "image/jpeg"}
    )
    assert garbage.status_code == 415 and "error" in garbage.json()
    assert client.post("/matches/byContent", params={"alg": "x"}, content=b"..").status_code == 400


def test_revoked_key_manifests_are_not_offered_as_matches(client, tokens, settings):
    body = _sign(client, tokens["YG"], _photo()).json()
    value = binding_value(int(body["manifest"]["watermark"]["id"], 16))
    assert client.get("/matches/byBinding", params={"alg": SOFT_BINDING_ALG, "value": value}).json()["matches"]
    published = client.get(body["download"]).content
    assert client.post("/matches/byContent", content=published).json()["matches"]
    Keyring(settings.home).revoke(body["manifest"]["key_id"], "test")
    assert client.get("/matches/byBinding", params={"alg": SOFT_BINDING_ALG, "value": value}).json() == {"matches": []}
    assert client.post("/matches/byContent", content=published).json() == {"matches": []}
    assert client.post("/matches/byContent", content=_stripped_copy(published)).json() == {"matches": []}


def test_stripped_reencoded_clip_finds_its_c2pa_manifest(settings, client, tmp_path):
    from bench import attacks

    source = tmp_path / "teaser.mp4"
    attacks.trim(videos.real(videos.BUNNY), source, 1.0, 3.0, crf=20)
    signed = tmp_path / "signed.mp4"
    result = sign(
        source,
        signed,
        title="Teaser",
        artists=["Jennie"],
        key=Keyring(settings.home).signing_key("YG"),
        store=open_store(settings),
    )
    copy = tmp_path / "copy.mp4"
    attacks.reencode(signed, copy, height=480, crf=28)  # new file from decoded frames: no metadata survives
    assert c2pa.Reader.try_create("video/mp4", io.BytesIO(copy.read_bytes())) is None
    verdict = _verify(client, copy.read_bytes(), "copy.mp4").json()
    assert verdict["manifest"]["manifest_id"] == result.manifest.manifest_id
    value = binding_value(int(verdict["evidence"]["watermark"]["id"], 16))
    matches = client.get("/matches/byBinding", params={"alg": SOFT_BINDING_ALG, "value": value}).json()["matches"]
    assert [m["manifestId"] for m in matches] == [result.manifest.c2pa_label]
    store = client.get(f"/manifests/{result.manifest.c2pa_label}")
    assert store.headers["content-type"] == "application/c2pa" and store.content in signed.read_bytes()


def test_fingerprint_binding_finds_a_copy_whose_watermark_is_gone(client, tokens, settings):
    """The fingerprint algorithm listed in supportedAlgorithms resolves too: a client with
    the 256-bit fingerprint of a copy gets the manifest of the asset it looks like."""
    import base64

    from realmark.credentials import FINGERPRINT_ALG
    from realmark.fingerprint import fingerprint_luma
    from realmark.media.image import load_photo, luma8

    body = _sign(client, tokens["YG"], _photo()).json()
    copy = _stripped_copy(client.get(body["download"]).content)
    value = base64.b64encode(fingerprint_luma(luma8(load_photo(copy).rgb)).bits).decode()
    matches = client.get("/matches/byBinding", params={"alg": FINGERPRINT_ALG, "value": value}).json()["matches"]
    assert [m["manifestId"] for m in matches] == [body["manifest"]["c2pa"]["manifest"]]
    assert 75 <= matches[0]["similarityScore"] <= 100
    other = base64.b64encode(fingerprint_luma(luma8(load_photo(_photo("coffee")).rgb)).bits).decode()
    assert client.get("/matches/byBinding", params={"alg": FINGERPRINT_ALG, "value": other}).json() == {"matches": []}
    assert client.get("/matches/byBinding", params={"alg": FINGERPRINT_ALG, "value": "AAAA"}).status_code == 400
