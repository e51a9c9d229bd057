"""The HTTP service, through HTTP, against both stores: the local directory and a real
S3 server (SeaweedFS on loopback)."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient

from bench.samples import photos, videos
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from service import create_app
from tests.seaweed import ACCESS_KEY, SECRET_KEY


@pytest.fixture(params=["local", "s3"])
def settings(request, tmp_path, monkeypatch):
    """Settings for one service: a data directory with keys for YG and Cube, and either
    the local store or a fresh bucket on SeaweedFS."""
    home = tmp_path / "home"
    Keyring(home).create("YG")
    Keyring(home).create("Cube")
    if request.param == "local":
        return Settings(home=home, verify_per_minute=0)
    server = request.getfixturevalue("seaweed")
    bucket = "realmark-" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]  # one per test
    server.create_bucket(bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    return Settings(home=home, s3_endpoint=server.endpoint, s3_bucket=bucket, verify_per_minute=0)


def stored_keys(settings: Settings) -> set[str]:
    store = open_store(settings)
    return {k for prefix in ("manifests/", "watermarks/", "files/", "published/") for k in store.list(prefix)}


@pytest.fixture
def client(settings):
    with TestClient(create_app(Deployment(settings))) as c:
        yield c


@pytest.fixture
def tokens(settings):
    store = open_store(settings)
    return {"YG": create_token(store, "YG"), "Cube": create_token(store, "Cube")}


def _photo(name="astronaut", size=(1280, 720)) -> bytes:
    return photos.encode(photos.fit(photos.real(name), *size))


def _sign(client, token, data, *, name="photo.jpg", title="Concept photo", artists=("Jisoo",), **fields):
    form = {"title": title, "artist": list(artists), **fields}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/v1/sign", files={"file": (name, data, "application/octet-stream")}, data=form, headers=headers)


def _verify(client, data, name="x.jpg"):
    return client.post("/v1/verify", files={"file": (name, data, "application/octet-stream")})


def test_sign_photo_then_download_verify_manifest_and_trust(client, tokens, settings):
    response = _sign(client, tokens["YG"], _photo(), artists=("Jisoo", "Jennie"))
    assert response.status_code == 200, response.text
    body = response.json()
    manifest_id = body["manifest_id"]
    assert body["manifest"]["agency"] == "YG" and body["manifest"]["artists"] == ["Jisoo", "Jennie"]
    signed = client.get(body["download"])
    assert signed.status_code == 200 and signed.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(signed.content).hexdigest() == body["manifest"]["media"]["sha256"]
    result = _verify(client, signed.content).json()
    assert result["verdict"] == "authentic" and result["manifest"]["manifest_id"] == manifest_id
    copy = photos.encode(photos.decode(signed.content)[::2, ::2].copy(), quality=75)
    assert _verify(client, copy).json()["verdict"] == "authentic"
    manifest = client.get(f"/v1/manifests/{manifest_id}")
    assert manifest.status_code == 200 and json.loads(manifest.content)["manifest_id"] == manifest_id
    trust = client.get("/.well-known/realmark/trust.json").json()
    assert {k["agency"] for k in trust["keys"]} == {"YG", "Cube"} and all(
        "PRIVATE" not in json.dumps(k) for k in trust["keys"]
    )
    assert _verify(client, _photo("coffee")).json()["verdict"] == "unknown"


@pytest.mark.parametrize("case", ["no token", "unknown token", "malformed header", "other agency"])
def test_signing_without_the_right_token_is_refused_and_stores_nothing(client, tokens, settings, case):
    before = stored_keys(settings)
    token = {
        "no token": None,
        "unknown token": "rmk_" + "x" * 43,
        "malformed header": None,
        "other agency": tokens["Cube"],
    }[case]
    if case == "malformed header":
        response = client.post(
            "/v1/sign",
            files={"file": ("p.jpg", _photo(), "image/jpeg")},
            data={"title": "t", "artist": "a"},
            headers={"Authorization": "Basic abc"},
        )
    elif case == "other agency":
        response = _sign(client, token, _photo(), agency="YG")
    else:
        response = _sign(client, token, _photo())
    assert response.status_code == (403 if case == "other agency" else 401)
    assert "error" in response.json()
    assert stored_keys(settings) == before


def test_sign_video_as_background_job(client, tokens, tmp_path):
    from bench import attacks

    clip = tmp_path / "teaser.mp4"  # two seconds of a real 720p clip: a short job
    attacks.trim(videos.real(videos.BUNNY), clip, 1.0, 3.0, crf=20)
    response = _sign(client, tokens["YG"], clip.read_bytes(), name="teaser.mp4")
    assert response.status_code == 202, response.text
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 120
    while True:
        job = client.get(status_url).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        assert 0.0 <= job["progress"] <= 1.0
        time.sleep(0.2)
    assert job["status"] == "done", job
    signed = client.get(job["download"])
    assert signed.status_code == 200 and signed.headers["content-type"] == "video/mp4"
    result = _verify(client, signed.content, "clip.mp4").json()
    assert result["verdict"] == "authentic" and result["manifest"]["manifest_id"] == job["manifest_id"]
    assert result["evidence"]["content"]["ranges"][0]["kind"] == "official"
    piece = tmp_path / "piece.mp4"
    (tmp_path / "signed.mp4").write_bytes(signed.content)
    attacks.trim(tmp_path / "signed.mp4", piece, 0.5, 1.5)
    result = _verify(client, piece.read_bytes(), "piece.mp4").json()
    assert result["verdict"] == "authentic", result["evidence"]
    assert abs(result["evidence"]["content"]["ranges"][0]["original_start"] - 0.5) < 0.2
    assert client.get("/v1/jobs/" + "0" * 32).status_code == 404


def test_bad_uploads_get_clear_json_errors_and_store_nothing(client, tokens, settings):
    before = stored_keys(settings)
    r = _verify(client, b"<html>not an image</html>", "x.jpg")
    assert r.status_code == 415 and "not a supported" in r.json()["error"]
    r = _sign(client, tokens["YG"], b"GIF89a....", name="x.png")
    assert r.status_code == 415
    r = _verify(client, _photo()[:5000], "cut.jpg")
    assert r.status_code == 400 and "truncated" in r.json()["error"]
    r = client.post(
        "/v1/sign",
        files={"file": ("p.jpg", _photo(), "image/jpeg")},
        headers={"Authorization": f"Bearer {tokens['YG']}"},
    )
    assert r.status_code == 422 and "title" in r.json()["error"]
    r = _sign(client, tokens["YG"], _photo(), title="\u202eevil")
    assert r.status_code == 400
    assert client.get("/v1/manifests/rm-doesnotexist").status_code == 404
    assert client.get("/v1/manifests/..%2f..%2fetc%2fpasswd").status_code == 404
    assert stored_keys(settings) == before


def test_upload_limit_is_413_declared_or_streamed(settings, tokens):
    small = Settings(**{**settings.__dict__, "max_upload_bytes": 100_000})
    with TestClient(create_app(Deployment(small))) as c:
        r = _verify(c, _photo(size=(1920, 1080)))
        assert r.status_code == 413 and "limit" in r.json()["error"]

        def chunks():  # no Content-Length: the limit must hold while streaming
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
            for _ in range(30):
                yield b"\xff" * 10_000

        r = c.post("/v1/verify", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413


def test_verify_rate_limit_per_client(settings):
    limited = Settings(**{**settings.__dict__, "verify_per_minute": 3})
    with TestClient(create_app(Deployment(limited))) as c:
        data = _photo("coffee", (640, 480))
        codes = [_verify(c, data).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = _verify(c, data)
        assert int(r.headers["retry-after"]) >= 1 and "too many" in r.json()["error"]


def _service(settings, **changes) -> TestClient:
    return TestClient(create_app(Deployment(Settings(**{**settings.__dict__, **changes}))))


def test_saturated_service_answers_503_with_retry_after(settings):
    with _service(settings, heavy_slots=1, heavy_queue=0) as c:
        heavy = c.app.state.services.heavy
        anyio.run(heavy.acquire)  # a long job holds the only slot, and no request may wait
        try:
            r = _verify(c, _photo("coffee", (640, 480)))
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
        finally:
            heavy.release()
        assert _verify(c, _photo("coffee", (640, 480))).status_code == 200


def test_a_burst_waits_its_turn_in_a_bounded_queue(settings):
    """Requests beyond the slots wait (up to REALMARK_HEAVY_QUEUE of them, each up to
    REALMARK_HEAVY_WAIT_SECONDS) and are answered when a slot frees; past the queue's
    bound, or past the wait, 503 with Retry-After."""
    data = _photo("coffee", (640, 480))
    with _service(settings, heavy_slots=1, heavy_queue=1, heavy_wait_seconds=30) as c:
        heavy = c.app.state.services.heavy
        anyio.run(heavy.acquire)  # the only slot is taken
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(_verify, c, data)
            deadline = time.monotonic() + 10
            while heavy.waiting < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert heavy.waiting == 1
            assert _verify(c, data).status_code == 503  # the queue (1) is full: refused at once
            assert not waiting.done()
            heavy.release()  # the slot frees: the waiting request is served
            assert waiting.result(timeout=60).status_code == 200
        assert heavy.waiting == 0
    data = _photo("astronaut", (640, 480))  # not answered before: the cache would answer that one
    with _service(settings, heavy_slots=1, heavy_queue=4, heavy_wait_seconds=1) as c:
        heavy = c.app.state.services.heavy
        anyio.run(heavy.acquire)
        try:
            started = time.monotonic()
            r = _verify(c, data)
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert 1.0 <= time.monotonic() - started < 10  # waited its bound, then refused
        finally:
            heavy.release()
        assert heavy.waiting == 0 and _verify(c, data).status_code == 200


def test_waiting_requests_get_the_slot_in_the_order_they_came():
    from service.limits import HeavyWork

    heavy = HeavyWork(1, queue=8, wait_seconds=30)
    served: list[int] = []

    async def request(n: int) -> None:
        await heavy.acquire()
        served.append(n)
        await anyio.sleep(0.02)  # the work; then the slot goes to the next in line
        heavy.release()

    async def burst() -> None:
        await heavy.acquire()  # busy: everyone below waits
        async with anyio.create_task_group() as tasks:
            for n in range(6):
                tasks.start_soon(request, n)
                await anyio.sleep(0.005)  # they arrive in this order
            await anyio.sleep(0.05)
            assert heavy.waiting == 6
            heavy.release()

    anyio.run(burst)
    assert served == list(range(6)) and heavy.waiting == 0


def test_a_slot_given_back_from_another_thread_wakes_the_first_in_line_at_once():
    """Work ends in a worker thread (a verification, a signing job); the request waiting
    on the event loop is woken then, not at its next look (made a minute here: only the
    wake-up can hand the slot over within the test's bound)."""
    from service.limits import HeavyWork

    heavy = HeavyWork(1, queue=8, wait_seconds=120)
    heavy.POLL_SECONDS = 60

    async def handed_over() -> None:
        await heavy.acquire()
        threading.Timer(0.1, heavy.release).start()
        with anyio.fail_after(5):
            await heavy.acquire()
        heavy.release()

    anyio.run(handed_over)
    assert heavy.waiting == 0


def test_a_clip_verified_with_progress_lines_then_its_answer(client, tmp_path):
    clip = videos.synthetic(tmp_path / "c.mp4", seconds=3.0)
    ndjson = {"Accept": "application/x-ndjson"}
    with open(clip, "rb") as f:
        r = client.post("/v1/verify", files={"file": ("c.mp4", f, "video/mp4")}, headers=ndjson)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    fractions = [line["progress"] for line in lines[:-1]]
    assert len(fractions) >= 3 and fractions == sorted(fractions) and 0 < fractions[-1] <= 1
    answer = lines[-1]
    assert (
        answer["verdict"] == "unknown"
        and answer["receipt"]["file_sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    )
    with open(clip, "rb") as f:  # now cached: the answer alone, one line
        again = client.post("/v1/verify", files={"file": ("c.mp4", f, "video/mp4")}, headers=ndjson)
    assert again.headers["x-realmark-cache"] == "hit" and len(again.text.splitlines()) == 1
    broken = clip.read_bytes()[:1500] + bytes(20_000)  # an MP4 that starts well and cannot be decoded
    r = client.post("/v1/verify", files={"file": ("b.mp4", broken, "video/mp4")}, headers=ndjson)
    assert r.status_code in (200, 400)
    last = json.loads(r.text.splitlines()[-1]) if r.status_code == 200 else r.json()
    assert "error" in last and "verdict" not in last


def test_temporary_files_are_always_removed(client, tokens, tmp_path):
    before = {p.name for p in Path(tempfile.gettempdir()).glob("realmark-*")}
    clip = videos.synthetic(tmp_path / "c.mp4", seconds=1.0)
    _verify(client, clip.read_bytes(), "c.mp4")
    _verify(client, clip.read_bytes()[:3000], "cut.mp4")  # fails half-way
    after = {p.name for p in Path(tempfile.gettempdir()).glob("realmark-*")}
    assert after <= before


def test_page_docs_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and 'id="file"' in page.text and 'id="lang"' in page.text
    names = client.get("/v1/wording").json()["names"]  # the language switcher's, from the language files
    assert names["ko"] == "한국어" and names["ja"] == "日本語" and len(names) == 8
    for asset in ("/static/app.js", "/static/style.css", "/static/agency.js", "/static/agency.html"):
        r = client.get(asset)
        assert r.status_code == 200 and "http://" not in r.text and "https://" not in r.text
    assert "http://" not in page.text and "https://" not in page.text
    docs = client.get("/docs")
    assert (
        docs.status_code == 200 and "cdn" not in docs.text.lower() and "/docs-assets/swagger-ui-bundle.js" in docs.text
    )
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {
        "/v1/sign",
        "/v1/verify",
        "/v1/manifests/{manifest_id}",
        "/v1/jobs/{job_id}",
        "/.well-known/realmark/trust.json",
    } <= set(spec["paths"])


def test_tokens_are_stored_hashed(cli, tmp_path):
    assert cli("keys", "init", "--agency", "HYBE")[0] == 0
    code, body = cli.json("tokens", "create", "--agency", "HYBE")
    assert code == 0 and body["token"].startswith("rmk_")
    stored = b"".join(cli.stored_files().values())
    assert body["token"].encode() not in stored
    assert (
        hashlib.sha256(body["token"].encode()).hexdigest().encode() not in stored
    )  # the hash is the name, not content
    assert any(k.startswith("tokens/") for k in cli.stored_files())
    code, _, err = cli("tokens", "create", "--agency", "NoKeys")
    assert code == 2 and "keys init" in err


def test_token_is_checked_before_the_upload_is_read(client):
    received = 0

    def body():
        nonlocal received
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'
        for _ in range(50):
            received += 1
            yield b"\xff" * 100_000
        yield b"\r\n--b--\r\n"

    r = client.post("/v1/sign", content=body(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 401 and received < 50


def test_every_error_is_json_with_error_key(client):
    for r in (
        client.get("/no/such/route"),
        client.delete("/v1/verify"),
        client.post("/v1/verify", content=b"x", headers={"content-type": "multipart/form-data"}),
    ):
        assert r.status_code >= 400 and "error" in r.json(), r.text


def test_copies_without_watermark_are_found_by_appearance_at_once_and_after_a_restart(settings, tokens):
    """Signing adds to the running service's index; shutting down saves its snapshot, and
    a restarted service answers from it."""
    from bench import attacks
    from realmark.index import FingerprintIndex
    from realmark.index.catalogue import SNAPSHOT

    thumbnail = photos.encode(
        attacks.jpeg(attacks.long_side(photos.fit(photos.real("motorcycle_left"), 1920, 1080), 200), 40)
    )
    with TestClient(create_app(Deployment(settings))) as client:
        assert (
            client.post("/v1/verify", files={"file": ("t.jpg", thumbnail, "image/jpeg")}).json()["verdict"] == "unknown"
        )
        signed = _sign(
            client, tokens["Cube"], photos.encode(photos.fit(photos.real("motorcycle_left"), 1920, 1080)), title="Tour"
        )
        assert signed.status_code == 200, signed.text
        manifest_id = signed.json()["manifest_id"]
        copy = photos.encode(
            attacks.jpeg(attacks.long_side(photos.decode(client.get(f"/v1/files/{manifest_id}").content), 200), 40)
        )
        body = client.post("/v1/verify", files={"file": ("t.jpg", copy, "image/jpeg")}).json()
        assert (body["verdict"], body["manifest"]["manifest_id"]) == ("likely_authentic", manifest_id), body
    assert manifest_id in FingerprintIndex.load(settings.home / SNAPSHOT)
    with TestClient(create_app(Deployment(settings))) as again:
        assert (
            again.post("/v1/verify", files={"file": ("t.jpg", copy, "image/jpeg")}).json()["verdict"]
            == "likely_authentic"
        )


def test_photos_are_verified_in_worker_processes_and_a_killed_worker_loses_no_request(tmp_path):
    """With photo workers, photos are verified in worker processes, with the same answers
    as in-process; a worker killed mid-service costs no request (that one is verified
    again in a new pool)."""
    import os
    import signal

    home = tmp_path / "home"
    Keyring(home).create("YG")
    settings = Settings(home=home, verify_per_minute=0, photo_workers=1)
    token = create_token(open_store(settings), "YG")
    with TestClient(create_app(Deployment(settings))) as client:
        response = _sign(client, token, _photo())
        assert response.status_code == 200, response.text
        signed = client.get(response.json()["download"]).content

        def verdict(data: bytes) -> str:
            answer = _verify(client, data)
            assert answer.status_code == 200, answer.text
            return answer.json()["verdict"]

        assert verdict(signed) == "authentic" and verdict(_photo("coffee")) == "unknown"
        tiny = _verify(client, _photo(size=(64, 48)))  # refused in the worker: a clear 400, as in-process
        assert tiny.status_code == 400 and "error" in tiny.json()
        workers = list(client.app.state.services.verifier.photos.__self__._pool._processes)
        assert workers and os.getpid() not in workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert verdict(signed) == "authentic"
        assert verdict(signed) == "authentic" and verdict(_photo("coffee")) == "unknown"


def test_a_photo_whose_verification_keeps_killing_its_worker_gets_a_clear_400(tmp_path):
    """Every worker is killed as soon as it starts, as a photo that crashed its verifier
    would: the request gets a 400 saying so after two tries (not a 500, not a hang), and
    the next request, workers left alone, is verified."""
    import os
    import signal

    home = tmp_path / "home"
    Keyring(home).create("YG")
    settings = Settings(home=home, verify_per_minute=0, photo_workers=1)
    with TestClient(create_app(Deployment(settings))) as client:
        workers = client.app.state.services.verifier.photos.__self__
        killing = threading.Event()
        killing.set()

        def kill_workers() -> None:
            while killing.is_set():
                for pid in list(workers._pool._processes or ()):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.01)

        killer = threading.Thread(target=kill_workers)
        killer.start()
        try:
            refused = _verify(client, _photo("coffee"))
        finally:
            killing.clear()
            killer.join()
        assert refused.status_code == 400 and "stopped the verifying process 2 times" in refused.json()["error"]
        answer = _verify(client, _photo("coffee", size=(1280, 720)))
        assert answer.status_code == 200 and answer.json()["verdict"] == "unknown"


def test_a_repeated_upload_is_answered_from_the_cache_until_a_revocation_changes_it(client, tokens, settings):
    signed = _sign(client, tokens["YG"], _photo()).json()
    published = client.get(signed["download"]).content
    first = _verify(client, published)
    again = _verify(client, published)
    assert first.headers["x-realmark-cache"] == "miss" and again.headers["x-realmark-cache"] == "hit"
    answer, receipt = _without_receipt(first.json()), first.json()["receipt"]
    assert _without_receipt(again.json()) == answer and answer["verdict"] == "authentic"
    # The same answer, but a receipt of its own: it records when this request was checked.
    assert again.json()["receipt"]["id"] != receipt["id"]
    assert again.json()["receipt"]["file_sha256"] == receipt["file_sha256"] == hashlib.sha256(published).hexdigest()
    keyring = Keyring(settings.home)
    keyring.revoke(keyring.signing_key("YG").key_id, "leaked")
    revoked = _verify(client, published)
    assert revoked.headers["x-realmark-cache"] == "miss" and revoked.json()["verdict"] == "invalid"
    assert _verify(client, published).headers["x-realmark-cache"] == "hit"


def _without_receipt(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "receipt"}


def test_an_unknown_upload_is_looked_at_again_once_its_original_is_signed(client, tokens):
    master = _photo("coffee")
    assert _verify(client, master).json()["verdict"] == "unknown"
    assert _verify(client, master).headers["x-realmark-cache"] == "hit"
    assert _sign(client, tokens["YG"], master).status_code == 200
    found = _verify(client, master)  # the unmarked master of what was just signed
    assert found.headers["x-realmark-cache"] == "miss" and found.json()["verdict"] == "likely_authentic"


def test_photo_workers_answer_at_once_what_a_signing_or_a_revocation_changed(settings, tokens):
    """Photos verified in worker processes (each with its own copy of the index, and the
    trust list followed from disk) answer as the service's own process would: a master
    found as soon as it is signed, a revocation counted from the next upload."""
    with TestClient(create_app(Deployment(dataclasses.replace(settings, photo_workers=1)))) as client:
        assert client.app.state.services.verifier.photos is not None
        master = _photo("coffee")
        assert _verify(client, master).json()["verdict"] == "unknown"  # the worker's index starts without it
        signed = _sign(client, tokens["YG"], master)
        assert signed.status_code == 200
        found = _verify(client, master)
        assert found.headers["x-realmark-cache"] == "miss" and found.json()["verdict"] == "likely_authentic"
        published = client.get(signed.json()["download"]).content
        assert _verify(client, _reencoded(published)).json()["verdict"] == "authentic"
        keyring = Keyring(settings.home)
        keyring.revoke(keyring.signing_key("YG").key_id, "leaked")
        assert _verify(client, _reencoded(published, 80)).json()["verdict"] == "invalid"


def _reencoded(data: bytes, quality: int = 85) -> bytes:
    """A re-encoded copy (not the published file: that one is answered from its record)."""
    return photos.encode(photos.decode(data), quality=quality)


def test_pruning_the_cache_removes_only_answers_no_one_would_read_again(client, tokens, settings):
    store = open_store(settings)
    cache = client.app.state.services.verify_cache
    stale = _photo("rocket")
    assert _verify(client, stale).headers["x-realmark-cache"] == "miss"
    assert _sign(client, tokens["YG"], _photo("chelsea")).status_code == 200  # a new asset: a new context
    current = _photo("motorcycle_left")
    assert _verify(client, current).headers["x-realmark-cache"] == "miss"
    before = sorted(store.list("cache/verify/"))
    removed = cache.prune()
    after = sorted(store.list("cache/verify/"))
    assert removed >= 1 and len(after) == len(before) - removed
    assert all(key.startswith(f"cache/verify/{cache.context()}/") for key in after) and after
    assert _verify(client, current).headers["x-realmark-cache"] == "hit"  # today's answers stay
    again = _verify(client, stale)  # its old answer is gone, and it is verified afresh
    assert again.headers["x-realmark-cache"] == "miss" and again.status_code == 200


def test_cached_answers_need_no_heavy_slot(settings):
    with _service(settings, heavy_slots=1, heavy_queue=0) as c:
        photo = _photo()
        assert _verify(c, photo).status_code == 200
        held = c.app.state.services.heavy._slots
        assert held.acquire(blocking=False)  # every slot busy
        try:
            assert _verify(c, photo).status_code == 200  # cached: answered anyway
            assert _verify(c, _photo("coffee")).status_code == 503
        finally:
            held.release()
