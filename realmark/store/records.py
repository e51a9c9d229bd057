"""The objects Realmark keeps in a store, and their keys.

    manifests/<manifest_id>.json   the signed manifest, canonical JSON, immutable
    watermarks/<wm_id>.json        {"manifest_id": ...}: claims a watermark id for one manifest
    files/<sha256>.json            {"manifest_id": ...}: the published file itself, so verifying
                                   it needs no decoding (a hint: the manifest decides)
    published/<sha256>             the signed file as published, by its SHA-256 (the manifest's
                                   media.sha256): downloads, and re-signing the same input
                                   (older deployments: published/<manifest_id>, see realmark.compat)
    c2pa/<uuid>.c2pa               the C2PA manifest store embedded in a published file (its
                                   sidecar), by the uuid of its label urn:c2pa:<uuid>
    tokens/<sha256>.json           {"agency": ...}: an API token, by its hash (keys/tokens.py)
    uploads/<job_id>               a signing job's upload, deleted when the job ends (service/jobs)
    attempts/<manifest_id>/<n>.json  {"sha256": ..., "c2pa_label": ...}: what one signing attempt
                                   is about to store, deleted with what no manifest refers to
                                   once the manifest is stored (see open_attempt)

A watermark id is claimed with put-if-absent before its manifest is written, which is
what makes ids unique in a store even with several signers at once."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from realmark import compat
from realmark.errors import StoreError
from realmark.manifest.model import C2PA_LABEL
from realmark.media import sha256_file
from realmark.watermark.codec import ID_BITS

from .base import Store, check_key

if TYPE_CHECKING:
    from realmark.manifest.model import Manifest


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
        """Claim wm_id for manifest_id; False if another manifest already holds it. Claiming
        again for the same manifest succeeds: a job re-run after a crash keeps its id."""
        body = json.dumps({"manifest_id": manifest_id}).encode()
        if self.store.put_if_absent(f"watermarks/{wm_id:012x}.json", body):
            return True
        return self.manifest_id_for_watermark(wm_id) == manifest_id

    def put_published(self, sha256: str, data: bytes | Path) -> None:
        self.store.put_if_absent(f"published/{sha256}", data)  # False: the same bytes are there

    def open_attempt(self, manifest_id: str, sha256: str, c2pa_label: str | None) -> None:
        """Note, before an attempt stores them, the published file and C2PA sidecar it is
        about to store. An attempt killed after storing its file leaves them behind, and the
        attempt that runs again makes a different file (its time and its C2PA manifest
        differ), so whoever stores or finds the manifest removes, with close_attempts, what
        no manifest will ever refer to."""
        record = json.dumps({"sha256": sha256, "c2pa_label": c2pa_label}).encode()
        self.store.put_if_absent(f"attempts/{manifest_id}/{secrets.token_hex(8)}.json", record)

    def close_attempts(self, manifest: Manifest) -> None:
        """Delete what the attempts at manifest's input stored that the manifest does not
        refer to, then their notes. Safe while another attempt still runs: its manifest can
        no longer be stored (put-if-absent), so nothing will refer to its file either, and
        it closes the attempts itself when it finds the stored manifest."""
        keep = set(compat.published_keys(manifest.manifest_id, manifest.media.sha256))
        if manifest.c2pa_label:
            keep.add(self._c2pa_key(manifest.c2pa_label))
        for note in list(self.store.list(f"attempts/{manifest.manifest_id}/")):
            for key in self._attempt_keys(note):
                if key not in keep:
                    self.store.delete(key)
            self.store.delete(note)

    def _attempt_keys(self, note: str) -> list[str]:
        data = self.store.get(note)
        try:
            left = json.loads(data) if data is not None else {}
            keys = [check_key(f"published/{left['sha256']}")] if "sha256" in left else []
            if left.get("c2pa_label"):
                keys.append(self._c2pa_key(left["c2pa_label"]))
            return keys
        except (ValueError, TypeError, StoreError):
            return []  # a damaged note: leave its objects rather than guess

    def published_bytes(self, manifest_id: str, sha256: str) -> bytes | None:
        """The file published under a manifest, only if it still has the signed hash."""
        for key in compat.published_keys(manifest_id, sha256):
            data = self.store.get(key)
            if data is not None and hashlib.sha256(data).hexdigest() == sha256:
                return data
        return None

    def published_to_file(self, manifest_id: str, sha256: str, dest: Path) -> bool:
        """published_bytes, streamed into the file dest (videos)."""
        for key in compat.published_keys(manifest_id, sha256):
            if self.store.get_to_file(key, dest) and sha256_file(dest) == sha256:
                return True
        return False

    @staticmethod
    def _c2pa_key(label: str) -> str:
        if not C2PA_LABEL.fullmatch(label):
            raise StoreError(f"{label!r} is not a C2PA manifest id")
        return f"c2pa/{label.split(':')[2]}.c2pa"

    def put_c2pa(self, label: str, data: bytes) -> None:
        if not self.store.put_if_absent(self._c2pa_key(label), data):
            raise StoreError(f"the C2PA manifest {label} is already stored")  # uuids do not repeat

    def c2pa_bytes(self, label: str) -> bytes | None:
        return self.store.get(self._c2pa_key(label))

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
