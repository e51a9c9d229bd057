"""Receipts kept in the store, where every instance finds them, at
receipts/<first two hex digits of the id>/<id>.json: the signed receipt and the answer it
was issued for (verdict, reasons, evidence: hashes, boxes and times, never the upload),
so /r/<id> shows the result without an upload.

Receipts are kept for good: a citation whose link dies is no citation. They hold nothing
personal (no address, no file name, no upload)."""

from __future__ import annotations

import json
import threading

from realmark.keys import Keyring, TrustList
from realmark.keys.keyring import ReceiptKey
from realmark.store import Store

from .receipt import ID_PATTERN, Receipt, issue

PREFIX = "receipts/"


class ReceiptBook:
    def __init__(self, store: Store, keyring: Keyring, trust: TrustList):
        self.store, self.keyring, self.trust = store, keyring, trust
        self._key: ReceiptKey | None = None
        self._lock = threading.Lock()

    def key(self) -> ReceiptKey:
        """The deployment's receipt key, loaded (or made and published) once. Take it before
        verifying: making it adds it to trust.json, and so changes the list's version."""
        with self._lock:
            if self._key is None:
                self._key = self.keyring.receipt_key()
            return self._key

    def issue(
        self, answer: dict, file_sha256: str, file_bytes: int, trust_version: str, upload_kept_until: str | None = None
    ) -> Receipt:
        """Sign a receipt for this answer about this file, and keep it (with the answer)
        before it is handed out: a receipt's permalink always resolves."""
        manifest = answer.get("manifest") or {}
        receipt = issue(
            self.key(),
            file_sha256=file_sha256,
            file_bytes=file_bytes,
            verdict=answer["verdict"],
            reasons=answer["reasons"],
            manifest_id=manifest.get("manifest_id"),
            agency=manifest.get("agency"),
            trust_list=trust_version,
            upload_kept_until=upload_kept_until,
        )
        record = {"receipt": receipt.to_dict(), "answer": {k: v for k, v in answer.items() if k != "receipt"}}
        self.store.put_if_absent(_key(receipt.id), json.dumps(record, ensure_ascii=False).encode())
        return receipt

    def get(self, receipt_id: str) -> dict | None:
        """{"receipt": ..., "answer": ...}, or None for an id never issued (or malformed)."""
        if not isinstance(receipt_id, str) or not ID_PATTERN.fullmatch(receipt_id):
            return None
        data = self.store.get(_key(receipt_id))
        return json.loads(data) if data is not None else None


def _key(receipt_id: str) -> str:
    # A folder per first two hex digits: a deployment issues millions, and some stores
    # (a local disk) list and look up faster in 256 smaller folders than in one.
    return f"{PREFIX}{receipt_id[:2]}/{receipt_id}.json"
