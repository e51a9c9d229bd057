"""Two service instances sharing one S3 bucket (SeaweedFS): concurrent signing never
reuses a watermark id and never overwrites a manifest."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench.samples import photos
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.keys.tokens import create_token
from realmark.manifest import parse_manifest
from realmark.settings import Settings
from service import create_app
from tests.seaweed import ACCESS_KEY, SECRET_KEY


@pytest.fixture
def two_instances(seaweed, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    home = tmp_path / "home"  # the agency keys, mounted into both instances
    Keyring(home).create("HYBE")
    bucket = "shared-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]  # one per test
    seaweed.create_bucket(bucket)
    settings = Settings(home=home, s3_endpoint=seaweed.endpoint, s3_bucket=bucket, verify_per_minute=0, heavy_slots=4)
    token = create_token(open_store(settings), "HYBE")
    with TestClient(create_app(Deployment(settings))) as a, TestClient(create_app(Deployment(settings))) as b:
        yield a, b, token, settings


def _unique_photos(n: int):
    """n different 720p photos: real photos, shifted and tinted differently."""
    rng = np.random.default_rng(11)
    names = photos.REAL
    for i in range(n):
        base = photos.fit(photos.real(names[i % len(names)]), 960, 540)
        shifted = np.roll(base, int(rng.integers(0, 900)), axis=1)
        yield photos.encode(np.clip(shifted.astype(int) + int(rng.integers(-20, 20)), 0, 255).astype(np.uint8))


def _sign(client, token, data, title):
    return client.post(
        "/v1/sign",
        files={"file": ("p.jpg", data, "image/jpeg")},
        data={"title": title, "artist": ["NewJeans"]},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_concurrent_signing_on_two_instances_shares_one_bucket_safely(two_instances):
    a, b, token, settings = two_instances
    work = [((a, b)[i % 2], data, f"photo {i}") for i, data in enumerate(_unique_photos(16))]
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda w: _sign(*w[:1], token, *w[1:]), work))
    assert [r.status_code for r in responses] == [200] * len(work), [r.text for r in responses if r.status_code != 200]
    bodies = [r.json() for r in responses]
    store = open_store(settings)
    manifest_keys = sorted(store.list("manifests/"))
    assert len(manifest_keys) == len(work)
    wm_ids = [json.loads(store.get(k))["watermark"]["id"] for k in manifest_keys]
    assert len(set(wm_ids)) == len(wm_ids)
    claims = {
        k.removeprefix("watermarks/").removesuffix(".json"): json.loads(store.get(k))["manifest_id"]
        for k in store.list("watermarks/")
    }
    for body in bodies:  # every answer is what is stored: nothing was overwritten
        stored = parse_manifest(store.get(f"manifests/{body['manifest_id']}.json"))
        assert stored.to_dict() == body["manifest"]
        assert claims[stored.watermark_id] == stored.manifest_id
    # Either instance verifies what the other signed.
    for i, body in enumerate(bodies[:4]):
        other = (b, a)[i % 2]
        signed = other.get(body["download"].replace("http://testserver", "")).content
        assert (
            other.post("/v1/verify", files={"file": ("s.jpg", signed, "image/jpeg")}).json()["verdict"] == "authentic"
        )


def test_same_photo_signed_at_once_on_both_instances_gives_one_record(two_instances):
    a, b, token, settings = two_instances
    data = next(_unique_photos(1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        ra, rb = pool.map(lambda c: _sign(c, token, data, "same photo"), (a, b))
    assert ra.status_code == rb.status_code == 200
    assert ra.json()["manifest_id"] == rb.json()["manifest_id"]
    assert ra.json()["manifest"] == rb.json()["manifest"]
    assert len(list(open_store(settings).list("manifests/"))) == 1


def test_an_asset_signed_on_one_instance_is_found_by_appearance_on_the_other(seaweed, tmp_path, monkeypatch):
    """Each instance keeps its own index; the other picks new manifests up from the
    shared bucket within REALMARK_INDEX_SYNC_SECONDS."""
    import shutil
    import time

    from bench import attacks

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    bucket = "sync-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]
    seaweed.create_bucket(bucket)
    Keyring(tmp_path / "a").create("HYBE")
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # separate data directories, the same agency key
    a_settings = Settings(home=tmp_path / "a", s3_endpoint=seaweed.endpoint, s3_bucket=bucket, verify_per_minute=0)
    b_settings = Settings(
        home=tmp_path / "b", s3_endpoint=seaweed.endpoint, s3_bucket=bucket, verify_per_minute=0, index_sync_seconds=1
    )
    token = create_token(open_store(a_settings), "HYBE")
    photo = photos.fit(photos.real("rocket"), 1920, 1080)
    with TestClient(create_app(Deployment(a_settings))) as a, TestClient(create_app(Deployment(b_settings))) as b:
        signed = _sign(a, token, photos.encode(photo), "Teaser")
        assert signed.status_code == 200, signed.text
        copy = photos.encode(
            attacks.jpeg(
                attacks.long_side(photos.decode(a.get(f"/v1/files/{signed.json()['manifest_id']}").content), 200), 40
            )
        )
        deadline, verdict = time.monotonic() + 15, None
        while time.monotonic() < deadline and verdict != "likely_authentic":
            verdict = b.post("/v1/verify", files={"file": ("c.jpg", copy, "image/jpeg")}).json()["verdict"]
            time.sleep(0.5)
        assert verdict == "likely_authentic"
