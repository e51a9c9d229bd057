"""Content Credentials (C2PA): certificates from `keys init`, manifests embedded at
signing, validated by c2pa-python's own Reader against the deployment root."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import stat
import threading
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bench.samples import photos, videos
from realmark.credentials import SOFT_BINDING_ALG, binding_value
from realmark.credentials.embed import signing_context
from realmark.deployment import open_store
from realmark.errors import InvalidManifest, KeyProblem
from realmark.keys import Keyring
from realmark.keys.certs import C2PA_CLAIM_SIGNING
from realmark.manifest import parse_manifest
from realmark.manifest.canonical import canonical_json
from realmark.settings import Settings

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "mp4": "video/mp4", "mov": "video/quicktime"}


def trusting(root_pem: str) -> c2pa.Context:
    """A plain c2pa-python context that trusts the deployment root: what any C2PA
    validator configured with our published root does."""
    return c2pa.Context(
        c2pa.Settings.from_dict({"trust": {"trust_anchors": root_pem}, "verify": {"remote_manifest_fetch": False}})
    )


def c2pa_read(mime: str, data: bytes, root_pem: str | None, manifest_data: bytes | None = None) -> c2pa.Reader:
    return c2pa.Reader(
        mime, io.BytesIO(data), manifest_data=manifest_data, context=trusting(root_pem) if root_pem else None
    )


def root_of(home: Path) -> str:
    return Keyring(home).trust().c2pa_root


def sign_file(cli, path: Path, out: Path, title="Official teaser", artists=("Jisoo", "Rosé")) -> dict:
    code, body = cli.json("sign", path, "-o", out, "--title", title, *[x for a in artists for x in ("--artist", a)])
    assert code == 0, body
    return body["manifest"]


def test_keys_init_issues_a_chain_c2pa_validators_accept(agency_cli):
    home = agency_cli.home
    trust = json.loads((home / "trust.json").read_text())
    entry = trust["keys"][0]
    root = x509.load_pem_x509_certificate(trust["c2pa_root"].encode())
    chain = (home / "keys" / "YG" / f"{entry['key_id']}.chain.pem").read_bytes()
    certs = x509.load_pem_x509_certificates(chain)
    assert len(certs) == 1  # leaf only: the root is never part of the chain
    leaf = certs[0]
    assert leaf.issuer == root.subject and leaf.subject != leaf.issuer  # not self-signed
    assert leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "YG"
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert C2PA_CLAIM_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.verify_directly_issued_by(root)
    # The certificate is for the agency's own key, the one on the trust list.
    key = Keyring(home).signing_key("YG")
    assert leaf.public_key().public_bytes_raw() == key.private.public_key().public_bytes_raw()
    assert stat.S_IMODE(os.stat(home / "ca" / "root-key.pem").st_mode) == 0o600
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_key_made_before_credentials_gets_its_certificate_from_keys_init(agency_cli, tmp_path):
    key = Keyring(agency_cli.home).signing_key("YG")
    chain = agency_cli.home / "keys" / "YG" / f"{key.key_id}.chain.pem"
    chain.unlink()
    with pytest.raises(KeyProblem, match="keys init"):
        Keyring(agency_cli.home).signing_key("YG")
    before = agency_cli.stored_files()
    code, _, err = agency_cli("sign", _jpeg(tmp_path), "-o", tmp_path / "out.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "keys init" in err and agency_cli.stored_files() == before
    code, body = agency_cli.json("keys", "init", "--agency", "YG")
    assert code == 0 and body["key_id"] == key.key_id and chain.exists()
    assert Keyring(agency_cli.home).signing_key("YG").chain_pem == chain.read_text()


def _jpeg(tmp_path: Path) -> Path:
    path = tmp_path / "original.jpg"
    path.write_bytes(photos.encode(photos.fit(photos.real("astronaut"), 960, 640)))
    return path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_photo_format_round_trips_trusted(agency_cli, tmp_path, fmt):
    source = tmp_path / f"original.{fmt.lower()}"
    source.write_bytes(photos.encode(photos.fit(photos.real("astronaut"), 960, 640), fmt))
    out = tmp_path / f"signed.{fmt.lower()}"
    manifest = sign_file(agency_cli, source, out)
    data, root = out.read_bytes(), root_of(agency_cli.home)
    mime = MIME[fmt]

    reader = c2pa_read(mime, data, root)
    assert reader.get_validation_state() == "Trusted", reader.get_validation_results()
    active = reader.get_active_manifest()
    assert active["label"] == manifest["c2pa"]["manifest"]
    assert active["signature_info"]["issuer"] == "YG" and active["title"] == "Official teaser"
    assertions = {a["label"]: a["data"] for a in active["assertions"]}
    actions = [a["action"] for a in assertions["c2pa.actions.v2"]["actions"]]
    assert "c2pa.watermarked" in actions and "c2pa.published" in actions
    binding = assertions["c2pa.soft-binding"]
    assert binding["alg"] == SOFT_BINDING_ALG
    assert binding["blocks"][0]["value"] == binding_value(int(manifest["watermark"]["id"], 16))
    work = assertions["stds.schema-org.CreativeWork"]
    assert [p["name"] for p in work["about"]] == ["Jisoo", "Rosé"] and work["author"][0]["name"] == "YG"
    assert work["datePublished"] == manifest["published_at"]
    # Without the deployment root, a validator finds the credentials intact, not trusted.
    assert c2pa_read(mime, data, None).get_validation_state() == "Valid"

    # The sidecar in the store is the embedded manifest, byte for byte.
    uuid = manifest["c2pa"]["manifest"].split(":")[2]
    sidecar = agency_cli.stored_files()[f"c2pa/{uuid}.c2pa"]
    assert sidecar in data and hashlib.sha256(sidecar).hexdigest() == manifest["c2pa"]["sha256"]
    assert c2pa_read(mime, data, root, manifest_data=sidecar).get_validation_state() == "Trusted"

    # Realmark's verdict and the credentials agree on the published file.
    code, result = agency_cli.json("verify", out)
    assert code == 0 and result["verdict"] == "authentic"
    assert result["credentials"]["state"] == "Trusted" and result["credentials"]["matches_signed"] is True
    assert result["credentials"]["issuer"] == "YG" and result["credentials"]["failures"] == []


@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_every_video_format_round_trips_trusted(agency_cli, tmp_path, container):
    source = videos.synthetic(tmp_path / f"original.{container}", seconds=1.5, container=container)
    out = tmp_path / f"signed.{container}"
    manifest = sign_file(agency_cli, source, out)
    data, root = out.read_bytes(), root_of(agency_cli.home)
    reader = c2pa_read(MIME[container], data, root)
    assert reader.get_validation_state() == "Trusted", reader.get_validation_results()
    active = reader.get_active_manifest()
    assert active["label"] == manifest["c2pa"]["manifest"] and active["signature_info"]["issuer"] == "YG"
    binding = next(a["data"] for a in active["assertions"] if a["label"] == "c2pa.soft-binding")
    assert binding["blocks"][0]["value"] == binding_value(int(manifest["watermark"]["id"], 16))
    assert hashlib.sha256(data).hexdigest() == manifest["media"]["sha256"]  # the manifest covers the file as published
    code, result = agency_cli.json("verify", out)
    assert code == 0 and result["verdict"] == "authentic" and result["credentials"]["state"] == "Trusted"
    # Signing the same input again hands back the very file published first.
    again = tmp_path / f"again.{container}"
    sign_file(agency_cli, source, again)
    assert again.read_bytes() == data


def _flip_inside_pixels(data: bytes, mime: str) -> bytes:
    """One changed byte in the picture data, outside the C2PA manifest store."""
    changed = bytearray(data)
    if mime == "image/jpeg":
        at = data.rindex(b"\xff\xda") + 400  # inside the entropy-coded scan
    else:
        at = data.rindex(b"mdat") + 5000  # inside the coded frames
    changed[at] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("kind", ["JPEG", "mp4"])
def test_one_changed_byte_makes_the_credentials_invalid(agency_cli, tmp_path, kind):
    if kind == "JPEG":
        source, out = _jpeg(tmp_path), tmp_path / "signed.jpg"
    else:
        source, out = videos.synthetic(tmp_path / "original.mp4", seconds=1.5), tmp_path / "signed.mp4"
    sign_file(agency_cli, source, out)
    root = root_of(agency_cli.home)
    changed = _flip_inside_pixels(out.read_bytes(), MIME[kind])
    reader = c2pa_read(MIME[kind], changed, root)
    assert reader.get_validation_state() == "Invalid"
    failures = [f["code"] for f in reader.get_validation_results()["activeManifest"]["failure"]]
    assert any("Hash.mismatch" in code for code in failures), failures
    tampered = tmp_path / f"tampered{out.suffix}"
    tampered.write_bytes(changed)
    code, result = agency_cli.json("verify", tampered)
    assert result["credentials"]["state"] == "Invalid" and result["credentials"]["failures"]
    assert result["evidence"]["content"]["exact_match"] is False


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_remote_manifest_urls_in_uploads_are_never_fetched(agency_cli, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/manifest.c2pa"
        key = Keyring(agency_cli.home).signing_key("YG")
        signer = c2pa.Signer.from_callback(key.private.sign, c2pa.C2paSigningAlg.ED25519, key.chain_pem, None)
        created = {
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
        }
        definition = {
            "claim_generator_info": [{"name": "test", "version": "1"}],
            "title": "remote",
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [created]}}],
        }
        with c2pa.Builder(definition, signing_context()) as builder:
            builder.set_no_embed()
            builder.set_remote_url(url)
            pointing = io.BytesIO()
            builder.sign(signer, "image/jpeg", io.BytesIO(_jpeg(tmp_path).read_bytes()), pointing)
        upload = tmp_path / "pointing.jpg"
        upload.write_bytes(pointing.getvalue())
        code, result = agency_cli.json("verify", upload)
        assert result["credentials"]["state"] == "NotChecked" and result["credentials"]["remote_url"] == url
        assert _Recorder.requests == []
    finally:
        server.shutdown()


def test_manifest_c2pa_field_is_checked_strictly(agency_cli, tmp_path):
    manifest = sign_file(agency_cli, _jpeg(tmp_path), tmp_path / "signed.jpg")
    stored = agency_cli.stored_files()[f"manifests/{manifest['manifest_id']}.json"]
    assert parse_manifest(stored).c2pa_label == manifest["c2pa"]["manifest"]
    for bad in (
        {"manifest": "http://evil/x", "sha256": "0" * 64},
        {"manifest": manifest["c2pa"]["manifest"]},
        "urn:c2pa:x",
    ):
        obj = json.loads(stored)
        obj["c2pa"] = bad
        with pytest.raises(InvalidManifest, match="c2pa"):
            parse_manifest(canonical_json(obj))


def test_settings_root_reaches_verifiers_through_the_trust_list(agency_cli):
    trust = Keyring(agency_cli.home).trust()
    assert trust.c2pa_root and trust.c2pa_root == (agency_cli.home / "ca" / "root.pem").read_text()


def test_damaged_credentials_in_an_upload_are_refused_for_signing_and_reported_by_verify(agency_cli, tmp_path):
    from realmark.credentials import Claim, embed

    key = Keyring(agency_cli.home).signing_key("YG")
    original = _jpeg(tmp_path).read_bytes()
    with_credentials = io.BytesIO()
    embed(
        Claim("rm-" + "a" * 24, "YG", "camera", ("x",), "2026-01-01T00:00:00Z", 5, "image/jpeg"),
        key,
        io.BytesIO(original),
        io.BytesIO(original),
        with_credentials,
    )
    damaged = bytearray(with_credentials.getvalue())
    at = damaged.find(b"jumb")
    damaged[at + 300 : at + 340] = b"\x07" * 40
    upload = tmp_path / "damaged.jpg"
    upload.write_bytes(bytes(damaged))
    before = agency_cli.stored_files()
    code, _, err = agency_cli("sign", upload, "-o", tmp_path / "out.jpg", "--title", "t", "--artist", "a")
    assert code == 2 and "Content Credentials" in err and agency_cli.stored_files() == before
    code, result = agency_cli.json("verify", upload)
    assert code == 1 and result["verdict"] == "unknown" and result["credentials"]["state"] == "Invalid"


def test_a_revoked_key_is_never_reported_trusted(agency_cli, tmp_path):
    out = tmp_path / "signed.jpg"
    manifest = sign_file(agency_cli, _jpeg(tmp_path), out)
    code, result = agency_cli.json("verify", out)
    assert result["credentials"]["state"] == "Trusted" and result["credentials"]["key_id"] == manifest["key_id"]
    agency_cli("keys", "revoke", manifest["key_id"], "--reason", "laptop stolen")
    code, result = agency_cli.json("verify", out)
    assert code == 1 and result["verdict"] == "invalid"
    assert result["credentials"]["state"] == "Invalid" and result["credentials"]["failures"] == [
        "signingCredential.revoked"
    ]


def test_hostile_manifest_bytes_never_crash_verification(agency_cli, tmp_path):
    """Bytes flipped anywhere in an embedded manifest store: always a report, never an
    exception (a crash would be a 500 on the public API)."""
    import random

    from realmark.credentials import read_credentials
    from verifier import verify

    signed = tmp_path / "signed.jpg"
    sign_file(agency_cli, _jpeg(tmp_path), signed)
    data, root = signed.read_bytes(), root_of(agency_cli.home)
    start = data.index(b"jumb") - 8
    end = start + 13_000
    rng = random.Random(7)
    states = set()
    for _ in range(300):
        mutated = bytearray(data)
        for _ in range(rng.choice((1, 4, 32))):
            mutated[rng.randrange(start, end)] = rng.randrange(256)
        report = read_credentials("image/jpeg", io.BytesIO(bytes(mutated)), root)
        states.add(report.state if report else None)
    assert states <= {"Trusted", "Valid", "Invalid", None} and "Invalid" in states
    settings = Settings(home=agency_cli.home)
    for _ in range(5):
        mutated = bytearray(data)
        mutated[rng.randrange(start, end)] ^= 0xFF
        verify(bytes(mutated), store=open_store(settings), trust=Keyring(settings.home).trust())  # must not raise


def test_a_lost_root_key_is_not_silently_replaced(agency_cli):
    (agency_cli.home / "ca" / "root-key.pem").unlink()
    code, _, err = agency_cli("keys", "init", "--agency", "Cube")
    assert code == 2 and "restore ca/" in err
    assert "Cube" not in (agency_cli.home / "trust.json").read_text()


def test_resigning_an_input_signed_before_content_credentials_remakes_its_file(agency_cli, tmp_path):
    """A record from before C2PA (no `c2pa` field, no stored file) still re-signs to the
    very bytes it names: the watermark is deterministic."""
    import dataclasses

    from realmark import watermark
    from realmark.manifest import sign_manifest
    from realmark.media.image import encode_photo, load_photo

    source = _jpeg(tmp_path)
    manifest = sign_file(agency_cli, source, tmp_path / "new.jpg")
    store = agency_cli.home / "store"
    stored = parse_manifest((store / "manifests" / f"{manifest['manifest_id']}.json").read_bytes())
    photo = load_photo(source.read_bytes())
    legacy_file = encode_photo(photo, watermark.embed(photo.rgb, int(stored.watermark_id, 16)))
    legacy = dataclasses.replace(
        stored,
        c2pa_label=None,
        c2pa_sha256=None,
        media=dataclasses.replace(stored.media, sha256=hashlib.sha256(legacy_file).hexdigest()),
    )
    legacy = sign_manifest(
        dataclasses.replace(legacy, signature=""), Keyring(agency_cli.home).signing_key("YG").private
    )
    (store / "manifests" / f"{manifest['manifest_id']}.json").write_bytes(legacy.to_json())
    for path in (store / "published").iterdir():
        path.unlink()
    out = tmp_path / "again.jpg"
    code, body = agency_cli.json(
        "sign", source, "-o", out, "--title", "Official teaser", "--artist", "Jisoo", "--artist", "Rosé"
    )
    assert code == 0 and body["created"] is False and out.read_bytes() == legacy_file
