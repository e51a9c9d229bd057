"""POST /v1/batches (issue 15): a release of photos and clips as one job with a status per
file, on the embedded engine; bad batches are refused whole and leave nothing."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from bench import attacks
from bench.samples import photos, videos
from realmark.deployment import Deployment, open_store
from realmark.keys import Keyring
from realmark.keys.tokens import create_token
from realmark.settings import Settings
from service import create_app


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> dict[str, bytes]:
    """Four photos, a one-second clip, and a clip too small to carry the mark."""
    folder = tmp_path_factory.mktemp("release")
    files = {
        "a.jpg": photos.encode(photos.fit(photos.real("astronaut"), 640, 480)),
        "b.png": photos.encode(photos.fit(photos.real("coffee"), 640, 480), "PNG"),
        "c.jpg": photos.encode(photos.fit(photos.real("chelsea"), 640, 480)),
        "d.jpg": photos.encode(photos.fit(photos.real("rocket"), 640, 480)),
    }
    frames = [photos.fit(rgb, 480, 270) for _, rgb in attacks._video_frames(videos.real(videos.BUNNY), 0, 1)]
    attacks.write_clip(frames, folder / "clip.mp4", 25, crf=20)
    files["clip.mp4"] = (folder / "clip.mp4").read_bytes()
    attacks.write_clip([photos.fit(rgb, 192, 108) for rgb in frames], folder / "tiny.mp4", 25, crf=20)
    files["tiny.mp4"] = (folder / "tiny.mp4").read_bytes()
    return files


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    Keyring(home).create("IVE")
    settings = Settings(home=home, verify_per_minute=0)
    token = create_token(open_store(settings), "IVE")
    with TestClient(create_app(Deployment(settings))) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client, settings


def _files(release: dict[str, bytes], *names: str) -> list:
    return [("file", (name, release[name], "application/octet-stream")) for name in names]


def _wait(client, url: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        batch = client.get(url).json()
        if batch["status"] == "done" or time.monotonic() > deadline:
            return batch
        time.sleep(0.2)


def _stored(settings: Settings, prefix: str) -> list[str]:
    return sorted(open_store(settings).list(prefix))


def test_a_batch_is_one_job_with_a_status_per_file_and_a_failure_does_not_stop_it(service, release):
    client, settings = service
    before = _stored(settings, "manifests/")
    response = client.post(
        "/v1/batches",
        files=_files(release, "a.jpg", "b.png", "clip.mp4", "tiny.mp4"),
        data={"title": "Comeback", "artist": ["IVE"]},
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["files"] == 4 and [item["file"] for item in accepted["items"]] == [
        "a.jpg",
        "b.png",
        "clip.mp4",
        "tiny.mp4",
    ]
    batch = _wait(client, accepted["status_url"])
    assert batch["status"] == "done" and batch["done"] == 3 and batch["failed"] == 1, batch
    items = {item["file"]: item for item in batch["items"]}
    assert "short side" in items["tiny.mp4"]["error"]  # the reason, for that file only
    for name in ("a.jpg", "b.png", "clip.mp4"):
        signed = client.get(items[name]["download"]).content
        result = client.post("/v1/verify", files={"file": (name, signed, "application/octet-stream")}).json()
        assert result["verdict"] == "authentic" and result["manifest"]["manifest_id"] == items[name]["manifest_id"]
        assert result["manifest"]["title"] == "Comeback"
    assert len(_stored(settings, "manifests/")) == len(before) + 3
    assert _stored(settings, "uploads/") == []  # every upload removed once its file ended


def test_each_file_takes_its_details_from_the_metadata_file(service, release):
    client, _ = service
    rows = [
        {"file": "c.jpg", "title": "Teaser 1", "artists": ["IVE", "Wonyoung"]},
        {"file": "d.jpg", "title": "Teaser 2", "artists": ["IVE"]},
    ]
    metadata = "\n".join(json.dumps(row) for row in rows).encode()
    response = client.post(
        "/v1/batches",
        files=[*_files(release, "c.jpg", "d.jpg"), ("metadata", ("release.jsonl", metadata, "application/x-ndjson"))],
    )
    assert response.status_code == 202, response.text
    batch = _wait(client, response.json()["status_url"])
    assert batch["done"] == 2, batch
    for item, row in zip(batch["items"], rows, strict=True):
        manifest = client.get(f"/v1/manifests/{item['manifest_id']}").json()
        assert (manifest["title"], manifest["artists"]) == (row["title"], row["artists"])


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (["a.jpg", "notes.txt"], {"title": "T", "artist": "IVE"}, 415, "notes.txt"),
        (["a.jpg", "a.jpg"], {"title": "T", "artist": "IVE"}, 422, "same name: a.jpg"),
        (["a.jpg", "b.png"], {"metadata": b"file,title,artist\na.jpg,T,IVE\n"}, 400, "no row for b.png"),
        (["a.jpg"], {"title": "T"}, 422, "title and artist"),
        (["a.jpg"], {"title": "T", "artist": "IVE", "agency": "YG"}, 403, "signs for IVE"),
    ],
)
def test_a_batch_with_one_bad_file_or_row_is_refused_whole_and_leaves_nothing(
    service, release, files, data, status, message
):
    client, settings = service
    before = [_stored(settings, prefix) for prefix in ("manifests/", "uploads/", "watermarks/")]
    parts = [("file", (name, release.get(name, b"captions for the release"), "text/plain")) for name in files]
    if "metadata" in data:
        parts.append(("metadata", ("release.csv", data.pop("metadata"), "text/csv")))
    response = client.post("/v1/batches", files=parts, data=data)
    assert response.status_code == status and message in response.json()["error"], response.text
    assert [_stored(settings, prefix) for prefix in ("manifests/", "uploads/", "watermarks/")] == before


def test_an_unknown_batch_is_404(service):
    client, _ = service
    assert client.get("/v1/batches/" + "0" * 32).status_code == 404
    assert client.get("/v1/batches/nope").status_code == 404
