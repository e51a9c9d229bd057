"""S3-compatible object storage through boto3 (AWS S3, MinIO, SeaweedFS, ...).

Objects are written with a conditional PUT (`If-None-Match: *`): the server refuses
to overwrite, so concurrent signers on any number of service instances can never
replace each other's manifests or watermark claims."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from realmark.errors import StoreError

from .base import check_key


class S3Store:
    def __init__(self, endpoint: str, bucket: str, region: str = "us-east-1"):
        self.bucket = bucket
        self._s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            # Path-style addressing works with every S3-compatible server; retries cover
            # transient network errors (a conditional PUT is safe to retry: it cannot
            # overwrite, and a retried success answers 412, which we read as "exists").
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def put_if_absent(self, key: str, data: bytes | Path) -> bool:
        try:
            if isinstance(data, Path):
                with open(data, "rb") as body:  # streamed: a video is never held in memory
                    self._s3.put_object(Bucket=self.bucket, Key=check_key(key), Body=body, IfNoneMatch="*")
            else:
                self._s3.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, IfNoneMatch="*")
            return True
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 412 or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise StoreError(f"cannot write {key} to bucket {self.bucket} ({code or status})") from None
        except BotoCoreError as exc:
            raise StoreError(f"cannot reach the object store ({exc})") from None

    def _body(self, key: str):
        """The object's streaming body, or None if there is none."""
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=check_key(key))["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise StoreError(f"cannot read {key} from bucket {self.bucket} ({code})") from None
        except BotoCoreError as exc:
            raise StoreError(f"cannot reach the object store ({exc})") from None

    def get(self, key: str) -> bytes | None:
        body = self._body(key)
        try:
            return None if body is None else body.read()
        except BotoCoreError as exc:
            raise StoreError(f"the object store connection broke reading {key} ({exc})") from None

    def get_to_file(self, key: str, dest: Path) -> bool:
        body = self._body(key)
        if body is None:
            return False
        try:
            with open(dest, "wb") as f:
                for chunk in body.iter_chunks(1 << 20):  # streamed: a video is never held in memory
                    f.write(chunk)
        except BotoCoreError as exc:
            raise StoreError(f"the object store connection broke reading {key} ({exc})") from None
        return True

    def list(self, prefix: str) -> Iterator[str]:
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot list bucket {self.bucket} ({exc})") from None

    def delete(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self.bucket, Key=check_key(key))  # no error when absent
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"cannot delete {key} from bucket {self.bucket} ({exc})") from None
