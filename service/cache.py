"""Verify answers kept by the upload's SHA-256, shared by every instance through the store.

When a fake goes viral, thousands upload the same few files; each is verified once.

An answer is stored under a key made of everything it depends on, so a cached answer is
always the one a fresh verification would give, and nothing ever has to be invalidated:
- the upload's SHA-256;
- the trust list's content: revoking or rotating a key changes every key at once;
- the appearance index's catalogue (realmark.index): signing a new asset changes it, so
  an upload that was `unknown` is looked at again and found;
- the code that verifies: a new release answers afresh.
An old key is simply never asked for again. Entries are small JSON answers (never the
upload), at cache/verify/<context>/<upload SHA-256>.json, where the context is the digest
of everything but the upload: prune() removes every entry of another context than
today's, which no instance would read again (one lagging behind a signing may, and
misses once); see README for what is kept."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from realmark.errors import StoreError
from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.store import Store

log = logging.getLogger(__name__)
PREFIX = "cache/verify/"
# The packages whose code decides an answer.
_DECIDING = ("realmark", "verifier")


def code_version(root: Path = Path(__file__).resolve().parent.parent) -> str:
    """A digest of the deciding packages' source, read once at start-up (a few ms)."""
    digest = hashlib.sha256()
    for package in _DECIDING:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class VerifyCache:
    def __init__(self, store: Store, trust: TrustList, index: FingerprintIndex, code: str | None = None):
        self.store, self.trust, self.index = store, trust, index
        self.code = code or code_version()
        self._lock = threading.Lock()
        self._trust_seen: tuple[TrustList, str] | None = None

    def _trust_digest(self) -> str:
        snapshot = self.trust.snapshot()
        with self._lock:
            if self._trust_seen is None or self._trust_seen[0] is not snapshot:
                self._trust_seen = (snapshot, hashlib.sha256(snapshot.to_json()).hexdigest())
            return self._trust_seen[1]

    def context(self) -> str:
        """What every answer depends on besides the upload, as things stand now."""
        parts = (self._trust_digest(), self.index.catalogue, self.code)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def key(self, upload_sha256: str) -> str:
        """The store key for this upload's answer as things stand now. Taken before the
        verification it would cache: a signing during that verification then leaves its
        answer under the old key, never under the new."""
        return f"{PREFIX}{self.context()}/{upload_sha256}.json"

    def prune(self) -> int:
        """Remove the entries of other contexts than today's; how many were removed."""
        current = f"{PREFIX}{self.context()}/"
        removed = 0
        for key in list(self.store.list(PREFIX)):
            if not key.startswith(current):
                self.store.delete(key)
                removed += 1
        return removed

    def get(self, key: str) -> bytes | None:
        try:
            return self.store.get(key)
        except StoreError as exc:  # the cache is an optimisation: verify afresh
            log.warning("verify cache unreadable: %s", exc)
            return None

    def put(self, key: str, answer: bytes) -> None:
        try:
            self.store.put_if_absent(key, answer)
        except StoreError as exc:
            log.warning("verify cache not written: %s", exc)
