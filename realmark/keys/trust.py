"""The trust list: which agency keys a verifier accepts, for which period.

It holds only public keys, so it can be published (the service serves it at
/.well-known/realmark/trust.json) and copied to any verifier for offline checks."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from realmark.errors import InvalidManifest, RealmarkError
from realmark.files import atomic_write
from realmark.manifest.model import parse_time

from .certs import check_root_pem

FORMAT = "realmark.trust/1"


@dataclass(frozen=True)
class KeyEntry:
    agency: str
    key_id: str
    public_key: str  # base64url of the raw 32-byte Ed25519 key
    not_before: str  # UTC, RFC 3339 "YYYY-MM-DDTHH:MM:SSZ"
    not_after: str | None = None  # set when the key is rotated out
    revoked_at: str | None = None
    revocation_reason: str | None = None
    alg: str = "Ed25519"

    def public(self) -> Ed25519PublicKey:  # checked by TrustList.from_json
        return Ed25519PublicKey.from_public_bytes(_raw_key(self.public_key))


_ENTRY_FIELDS = {f.name for f in dataclasses.fields(KeyEntry)}


@dataclass(frozen=True)
class ReceiptKeyEntry:
    """The deployment's key for signing verification receipts (realmark.receipts). Not an
    agency's: it says "this service checked that file then", never "this is official"."""

    key_id: str
    public_key: str  # base64url of the raw 32-byte Ed25519 key
    not_before: str
    alg: str = "Ed25519"

    def public(self) -> Ed25519PublicKey:  # checked by TrustList.from_json
        return Ed25519PublicKey.from_public_bytes(_raw_key(self.public_key))


_RECEIPT_FIELDS = {f.name for f in dataclasses.fields(ReceiptKeyEntry)}


def _raw_key(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TrustList:
    def __init__(
        self,
        entries: list[KeyEntry] | None = None,
        c2pa_root: str | None = None,
        receipt_keys: list[ReceiptKeyEntry] | None = None,
    ):
        self.entries = list(entries or [])
        # The deployment's root certificate (PEM): the trust anchor C2PA validators need to
        # answer "Trusted" for Content Credentials this deployment's agencies signed.
        self.c2pa_root = c2pa_root
        # Every key this deployment has signed receipts with: old ones stay listed, so a
        # receipt cited years ago still checks.
        self.receipt_keys = list(receipt_keys or [])

    @classmethod
    def load(cls, path: Path) -> TrustList:
        if not path.exists():
            return cls()
        try:
            return cls.from_json(path.read_bytes())
        except OSError as exc:
            raise RealmarkError(f"the trust list {path} is unreadable ({exc.strerror})") from None
        except ValueError as exc:
            raise RealmarkError(f"the trust list {path} is invalid ({exc})") from None

    @classmethod
    def from_json(cls, data: bytes) -> TrustList:
        """Parse and check a trust list; raises ValueError saying what is wrong."""
        try:
            obj = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT or not isinstance(obj.get("keys"), list):
            raise ValueError(f"expected an object with format {FORMAT!r} and a list of keys")
        root = obj.get("c2pa_root")
        if root is not None:
            root = check_root_pem(root)
        entries = []
        for raw in obj["keys"]:
            if not isinstance(raw, dict) or set(raw) != _ENTRY_FIELDS:
                raise ValueError("a key entry has missing or unknown fields")
            e = KeyEntry(**raw)
            if e.alg != "Ed25519" or not isinstance(e.public_key, str) or not isinstance(e.agency, str):
                raise ValueError(f"key entry {e.key_id!r} is malformed")
            try:
                raw_key = base64.urlsafe_b64decode(e.public_key + "=" * (-len(e.public_key) % 4))
                Ed25519PublicKey.from_public_bytes(raw_key)
            except (ValueError, TypeError):
                raise ValueError(f"key entry {e.key_id!r} has an invalid public key") from None
            if not isinstance(e.key_id, str) or e.key_id != hashlib.sha256(raw_key).hexdigest()[:16]:
                raise ValueError(f"key id {e.key_id!r} does not match its public key")
            for name in ("not_before", "not_after", "revoked_at"):
                value = getattr(e, name)
                if value is None and name != "not_before":
                    continue
                try:
                    parse_time(value)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"key entry {e.key_id}: {name} is not a UTC time like 2026-01-31T00:00:00Z"
                    ) from None
            entries.append(e)
        return cls(entries, root, _receipt_keys(obj.get("receipt_keys", [])))

    def to_json(self) -> bytes:
        body = {"format": FORMAT, "keys": [asdict(e) for e in self.entries]}
        if self.c2pa_root:
            body["c2pa_root"] = self.c2pa_root
        if self.receipt_keys:  # absent until the first receipt: older lists keep their bytes
            body["receipt_keys"] = [asdict(e) for e in self.receipt_keys]
        return json.dumps(body, indent=2).encode("utf-8") + b"\n"

    @property
    def version(self) -> str:
        """This list's version as receipts cite it: the digest of trust.json's bytes, so
        anyone holding the file can tell whether it is the one a verification used."""
        return "sha256:" + hashlib.sha256(self.to_json()).hexdigest()

    def receipt_key(self, key_id: str) -> ReceiptKeyEntry | None:
        return next((e for e in self.receipt_keys if e.key_id == key_id), None)

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_json())

    def snapshot(self) -> TrustList:
        """This list, fixed: what one verification checks against from start to end."""
        return self

    def find(self, key_id: str) -> KeyEntry | None:
        return next((e for e in self.entries if e.key_id == key_id), None)

    def add(self, entry: KeyEntry) -> None:
        self.entries.append(entry)

    def update(self, entry: KeyEntry) -> None:
        self.entries = [entry if e.key_id == entry.key_id else e for e in self.entries]

    def retire(self, key_id: str, at: str) -> None:
        entry = self.find(key_id)
        if entry is not None and entry.not_after is None:
            self.update(replace(entry, not_after=at))

    def public_key_for(self, agency: str, key_id: str, signed_at: str) -> Ed25519PublicKey:
        """The key to check a manifest with, or InvalidManifest saying why there is none.

        A revoked key is refused for every manifest, old or new: after a compromise the
        claimed signing time cannot be trusted either."""
        entry = self.find(key_id)
        if entry is None:
            raise InvalidManifest(f"key {key_id} is not on the trust list", InvalidManifest.KEY_UNKNOWN)
        if entry.agency != agency:
            raise InvalidManifest(
                f"key {key_id} belongs to {entry.agency}, not to {agency}", InvalidManifest.KEY_UNKNOWN
            )
        if entry.revoked_at is not None:
            reason = f": {entry.revocation_reason}" if entry.revocation_reason else ""
            raise InvalidManifest(
                f"key {key_id} of {agency} was revoked on {entry.revoked_at}{reason}", InvalidManifest.KEY_REVOKED
            )
        when = parse_time(signed_at)
        if when < parse_time(entry.not_before):
            raise InvalidManifest(f"key {key_id} was not valid yet at {signed_at}", InvalidManifest.KEY_NOT_VALID_THEN)
        if entry.not_after is not None and when > parse_time(entry.not_after):
            raise InvalidManifest(f"key {key_id} had been retired by {signed_at}", InvalidManifest.KEY_NOT_VALID_THEN)
        return entry.public()


def _receipt_keys(raw) -> list[ReceiptKeyEntry]:
    if not isinstance(raw, list):
        raise ValueError("receipt_keys is not a list")
    keys = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != _RECEIPT_FIELDS:
            raise ValueError("a receipt key entry has missing or unknown fields")
        e = ReceiptKeyEntry(**item)
        try:
            raw_key = _raw_key(e.public_key)
            Ed25519PublicKey.from_public_bytes(raw_key)
        except (ValueError, TypeError, AttributeError):
            raise ValueError(f"receipt key {e.key_id!r} has an invalid public key") from None
        if e.alg != "Ed25519" or e.key_id != hashlib.sha256(raw_key).hexdigest()[:16]:
            raise ValueError(f"receipt key id {e.key_id!r} does not match its public key")
        try:
            parse_time(e.not_before)
        except (TypeError, ValueError):
            raise ValueError(f"receipt key {e.key_id}: not_before is not a UTC time") from None
        keys.append(e)
    return keys


class TrustFile(TrustList):
    """The trust list on disk, followed: re-read whenever the file changes (one stat per
    use), so a long-running service sees a revocation at once without re-reading the
    file for every request."""

    def __init__(self, path: Path):  # no super().__init__: entries and root are the file's
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._current = TrustList()

    def snapshot(self) -> TrustList:
        """The list as the file holds it now (re-read if it changed): take it once per
        verification, so its entries and its root come from the same version."""
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        except OSError as exc:
            raise RealmarkError(f"the trust list {self.path} is unreadable ({exc.strerror})") from None
        with self._lock:
            if stamp != self._stamp:
                self._current = TrustList.load(self.path)
                self._stamp = stamp
            return self._current

    @property
    def entries(self) -> list[KeyEntry]:
        return list(self.snapshot().entries)

    @property
    def c2pa_root(self) -> str | None:
        return self.snapshot().c2pa_root

    @property
    def receipt_keys(self) -> list[ReceiptKeyEntry]:
        return list(self.snapshot().receipt_keys)

    def to_json(self) -> bytes:
        return self.snapshot().to_json()

    def _read_only(self, *args) -> None:
        raise TypeError("a followed trust list is read-only: edit it through Keyring")

    save = add = update = retire = _read_only
