"""The trust list: which agency keys a verifier accepts, for which period.

It holds only public keys, so it can be published (the service serves it at
/.well-known/realmark/trust.json) and copied to any verifier for offline checks."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from realmark.errors import InvalidManifest, RealmarkError
from realmark.manifest.model import parse_time
from realmark.store.local import atomic_write

FORMAT = "realmark.trust/1"
_KEY_ID = re.compile(r"[0-9a-f]{16}")


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

    def public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(self.public_key + "=" * (-len(self.public_key) % 4)))


class TrustList:
    def __init__(self, entries: list[KeyEntry] | None = None):
        self.entries = list(entries or [])

    @classmethod
    def load(cls, path: Path) -> "TrustList":
        if not path.exists():
            return cls()
        try:
            obj = json.loads(path.read_text("utf-8"))
            if obj.get("format") != FORMAT:
                raise ValueError(f"format is {obj.get('format')!r}, expected {FORMAT!r}")
            entries = [KeyEntry(**e) for e in obj["keys"]]
            for e in entries:
                if not _KEY_ID.fullmatch(e.key_id) or e.alg != "Ed25519":
                    raise ValueError(f"bad key entry {e.key_id!r}")
                e.public()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RealmarkError(f"the trust list {path} is unreadable ({exc})") from None
        return cls(entries)

    def save(self, path: Path) -> None:
        body = {"format": FORMAT, "keys": [asdict(e) for e in self.entries]}
        atomic_write(path, json.dumps(body, indent=2).encode("utf-8") + b"\n")

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
            raise InvalidManifest(f"key {key_id} is not on the trust list")
        if entry.agency != agency:
            raise InvalidManifest(f"key {key_id} belongs to {entry.agency}, not to {agency}")
        if entry.revoked_at is not None:
            reason = f": {entry.revocation_reason}" if entry.revocation_reason else ""
            raise InvalidManifest(f"key {key_id} of {agency} was revoked on {entry.revoked_at}{reason}")
        when = parse_time(signed_at)
        if when < parse_time(entry.not_before):
            raise InvalidManifest(f"key {key_id} was not valid yet at {signed_at}")
        if entry.not_after is not None and when > parse_time(entry.not_after):
            raise InvalidManifest(f"key {key_id} had been retired by {signed_at}")
        return entry.public()
