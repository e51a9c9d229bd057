"""docker-compose.yml and the Dockerfile (no Docker engine here: checked as files)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from realmark.settings import ENV, Settings

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _resolved(env: dict) -> dict:
    """The compose values with ${VAR:-default} replaced by the default."""
    return {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}


def test_compose_has_service_storage_and_bucket_bootstrap():
    services = _compose()["services"]
    assert set(services) == {"realmark", "worker", "valkey", "minio", "bucket"}
    app = services["realmark"]
    # Workers run the same image with the same settings, and sign with the same keys.
    worker = services["worker"]
    assert worker["build"] == "." and worker["command"] == ["realmark", "worker"]
    assert worker["environment"] == app["environment"] and worker["volumes"] == app["volumes"]
    for service in (app, worker):
        assert service["depends_on"]["valkey"]["condition"] == "service_healthy"
    assert Settings.from_env({"REALMARK_HOME": "/data", **_resolved(app["environment"])}).broker_url.startswith(
        "redis://valkey:"
    )
    assert "--appendonly" in services["valkey"]["command"]
    assert app["build"] == "." and "8000:8000" in app["ports"]
    assert app["depends_on"]["bucket"]["condition"] == "service_completed_successfully"
    assert services["bucket"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing local/realmark" in services["bucket"]["entrypoint"]
    assert services["minio"]["image"].startswith("minio/minio")
    assert any(v.endswith(":/data") for v in app["volumes"])


def test_compose_environment_is_exactly_what_the_service_reads():
    env = _compose()["services"]["realmark"]["environment"]
    assert set(env) <= set(ENV), set(env) - set(ENV)
    # The values configure a working S3 deployment as Settings parses them.
    settings = Settings.from_env(_resolved(env))
    assert settings.s3_endpoint == "http://minio:9000" and settings.s3_bucket == "realmark"
    assert str(settings.home) == "/data" and settings.max_upload_bytes == 200 * 1024 * 1024
    bucket = _compose()["services"]["bucket"]["entrypoint"]
    assert f"local/{settings.s3_bucket}" in bucket and settings.s3_endpoint.split("//")[1] in bucket
    # Same credentials on both sides.
    minio_env = _compose()["services"]["minio"]["environment"]
    assert env["AWS_ACCESS_KEY_ID"] == minio_env["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == minio_env["MINIO_ROOT_PASSWORD"]


def test_every_setting_variable_is_documented_in_readme():
    readme = (ROOT / "README.md").read_text()
    for name in ENV:
        if name.startswith("REALMARK_"):
            assert name in readme, name


def test_dockerfile_installs_the_package_and_serves():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11" in text
    for package in ("realmark", "signer", "verifier", "cli", "service"):
        assert f"COPY {package} ./{package}" in text
    assert "pip install --no-cache-dir ." in text and "USER realmark" in text
    assert 'CMD ["realmark", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text
    apt = [line for line in text.splitlines() if "apt-get install" in line]
    assert apt and all("fonts-" in line and "ffmpeg" not in line for line in apt)  # FFmpeg: inside the av wheel
    assert text.index("apt-get install") < text.index("USER realmark")  # installed as root, before dropping it


def test_photo_workers_default_to_the_cores_this_process_may_use():
    import os

    import pytest

    from realmark.errors import RealmarkError

    assert Settings.from_env({"REALMARK_HOME": "/data"}).photo_workers == len(os.sched_getaffinity(0))
    assert Settings.from_env({"REALMARK_HOME": "/data", "REALMARK_PHOTO_WORKERS": "0"}).photo_workers == 0
    with pytest.raises(RealmarkError):
        Settings.from_env({"REALMARK_HOME": "/data", "REALMARK_PHOTO_WORKERS": "-1"})
