"""The objects Realmark keeps in a store, and their keys.

    manifests/<manifest_id>.json   the signed manifest, canonical JSON, immutable
    watermarks/<wm_id>.json        {"manifest_id": ...}: claims a watermark id for one manifest
    files/<sha256>.json            {"manifest_id": ...}: the published file itself, so verifying
                                   it needs no decoding (a hint: the manifest decides)
    published/<manifest_id>        the signed file, kept by the service for download
    tokens/<sha256>.json           {"agency": ...}: an API token, by its hash (keys/tokens.py)

A watermark id is claimed with put-if-absent before its manifest is written, which is
what makes ids unique in a store even with several signers at once."""

from __future__ import annotations

import json
import secrets

from realmark.errors import StoreError
from realmark.watermark.codec import ID_BITS

from .base import Store


class Records:
    def __init__(self, store: Store):
        self.store = store

    def manifest_bytes(self, manifest_id: str) -> bytes | None:
        return self.store.get(f"manifests/{manifest_id}.json")

    def put_manifest(self, manifest_id: str, data: bytes) -> bool:
        return self.store.put_if_absent(f"manifests/{manifest_id}.json", data)

    @staticmethod
    def new_watermark_id() -> int:
        return secrets.randbits(ID_BITS)

    def claim_watermark_id(self, wm_id: int, manifest_id: str) -> bool:
        """Claim wm_id for manifest_id; False if another manifest already holds it."""
        body = json.dumps({"manifest_id": manifest_id}).encode()
        return self.store.put_if_absent(f"watermarks/{wm_id:012x}.json", body)

    def put_published(self, manifest_id: str, data: bytes) -> None:
        self.store.put_if_absent(f"published/{manifest_id}", data)

    def published_bytes(self, manifest_id: str) -> bytes | None:
        return self.store.get(f"published/{manifest_id}")

    def index_file(self, sha256: str, manifest_id: str) -> None:
        self.store.put_if_absent(f"files/{sha256}.json", json.dumps({"manifest_id": manifest_id}).encode())

    def manifest_id_for_file(self, sha256: str) -> str | None:
        return self._manifest_id(f"files/{sha256}.json")

    def manifest_id_for_watermark(self, wm_id: int) -> str | None:
        return self._manifest_id(f"watermarks/{wm_id:012x}.json")

    def _manifest_id(self, key: str) -> str | None:
        data = self.store.get(key)
        if data is None:
            return None
        try:
            value = json.loads(data)["manifest_id"]
            if not isinstance(value, str):
                raise TypeError
            return value
        except (ValueError, KeyError, TypeError):
            raise StoreError(f"the store's record {key} is damaged") from None
