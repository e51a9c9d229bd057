"""Agency private keys on disk, one PEM file per key, readable by the owner only.

Layout under the data directory:
    keys/<agency>/<key_id>.pem        PKCS#8 Ed25519 private key, mode 0600 (dir 0700)
    keys/<agency>/<key_id>.chain.pem  its C2PA signing certificate (public; the chain
                                      embedded in Content Credentials, root excluded)
    ca/root.pem, ca/root-key.pem      the deployment's root CA (realmark.keys.certs)
    ca/receipts-<key_id>.pem          the deployment's key for verification receipts
                                      (realmark.receipts), made on first use
    trust.json                        the public trust list (see trust.py), which also
                                      publishes the root certificate
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from realmark import compat
from realmark.errors import BadInput, KeyProblem
from realmark.files import atomic_write
from realmark.manifest.model import AGENCY, utc_now

from .certs import DeploymentRoot, pem
from .trust import KeyEntry, ReceiptKeyEntry, TrustFile, TrustList

# Named in messages; Settings is what reads it (realmark.settings).
PASSPHRASE_ENV = "REALMARK_KEY_PASSPHRASE"


def key_id_for(public_raw: bytes) -> str:
    """Key ids are derived from the key, so nobody can claim an id for another key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def check_agency(name: str) -> str:
    if not isinstance(name, str) or not AGENCY.fullmatch(name):
        raise BadInput(
            "agency names are 1-64 letters, digits, spaces, dots, dashes or underscores, starting with a letter "
            "or digit"
        )
    return name


@dataclass(frozen=True)
class SigningKey:
    agency: str
    key_id: str
    private: Ed25519PrivateKey
    chain_pem: str  # the C2PA signing certificate of this key (leaf; the root is not included)


@dataclass(frozen=True)
class ReceiptKey:
    key_id: str
    private: Ed25519PrivateKey


class Keyring:
    """The agency keys of one data directory. `passphrase` unlocks protected keys and the
    deployment root, and protects new ones (Settings.key_passphrase)."""

    def __init__(self, home: Path, passphrase: bytes | None = None):
        self.home = Path(home)
        self.passphrase = passphrase
        self.trust_path = self.home / "trust.json"
        self.root = DeploymentRoot(self.home / "ca")

    def trust(self) -> TrustList:
        """The trust list as it is on disk now (a snapshot; TrustFile follows changes)."""
        return TrustList.load(self.trust_path)

    def trust_file(self) -> TrustFile:
        """The trust list, re-read whenever the file changes (for long-running processes)."""
        return TrustFile(self.trust_path)

    @contextlib.contextmanager
    def _editing_trust(self):
        """Load, change and save the trust list under an exclusive lock, so a revocation
        can never be lost to a concurrent rotation."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".trust.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            trust = self.trust()
            yield trust
            trust.save(self.trust_path)

    def _key_path(self, agency: str, key_id: str) -> Path:
        return self.home / "keys" / agency / f"{key_id}.pem"

    def chain_path(self, agency: str, key_id: str) -> Path:
        return self.home / "keys" / agency / f"{key_id}.chain.pem"

    def _issue_chain(self, trust: TrustList, agency: str, key_id: str, public, passphrase: bytes | None) -> None:
        """Write the key's C2PA certificate, making the deployment root on first use."""
        if not self.root.exists():
            if trust.c2pa_root:
                # Every certificate already issued chains to the published root: a new one
                # would silently make them all untrusted.
                raise KeyProblem(
                    f"the deployment root key {self.root.key_path} is missing but the trust list publishes a "
                    f"root: restore ca/ from your backup"
                )
            self.root.create(passphrase)
        trust.c2pa_root = pem(self.root.certificate())  # published with the trust list
        leaf = self.root.issue(agency, key_id, public, passphrase)
        atomic_write(self.chain_path(agency, key_id), pem(leaf).encode("ascii"))

    def active_entry(self, agency: str) -> KeyEntry | None:
        live = [e for e in self.trust().entries if e.agency == agency and e.revoked_at is None and e.not_after is None]
        return live[-1] if live else None

    def agencies(self) -> list[str]:
        """Agencies that hold an active private key in this data directory."""
        return sorted(
            {
                e.agency
                for e in self.trust().entries
                if e.not_after is None and e.revoked_at is None and self._key_path(e.agency, e.key_id).exists()
            }
        )

    def create(self, agency: str, *, rotate: bool = False) -> KeyEntry:
        """Create the agency's signing key; with rotate=True retire the current one."""
        check_agency(agency)
        with self._editing_trust() as trust:
            return self._create(trust, agency, rotate, self.passphrase)

    def _create(self, trust: TrustList, agency: str, rotate: bool, passphrase: bytes | None) -> KeyEntry:
        live = [e for e in trust.entries if e.agency == agency and e.revoked_at is None and e.not_after is None]
        current = live[-1] if live else None
        if current is not None and not rotate:
            if compat.key_without_certificate(
                self._key_path(agency, current.key_id), self.chain_path(agency, current.key_id)
            ):
                # A key made before Content Credentials: give it its certificate, nothing else.
                self._issue_chain(trust, agency, current.key_id, current.public(), passphrase)
                return current
            raise BadInput(f"{agency} already has signing key {current.key_id}; use --rotate to replace it")
        private = Ed25519PrivateKey.generate()
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key_id = key_id_for(raw)
        # The certificate first: if the root cannot sign (wrong passphrase), no key is left behind.
        self._issue_chain(trust, agency, key_id, private.public_key(), passphrase)
        _write_private(self._key_path(agency, key_id), private, passphrase)
        now = utc_now()
        if current is not None:
            trust.retire(current.key_id, now)
        entry = KeyEntry(
            agency=agency, key_id=key_id, public_key=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), not_before=now
        )
        trust.add(entry)
        return entry

    def revoke(self, key_id: str, reason: str) -> KeyEntry:
        with self._editing_trust() as trust:
            entry = trust.find(key_id)
            if entry is None:
                raise BadInput(f"no key {key_id} on the trust list")
            revoked = replace(entry, revoked_at=entry.revoked_at or utc_now(), revocation_reason=reason or None)
            trust.update(revoked)
            return revoked

    def receipt_key(self) -> ReceiptKey:
        """The deployment's receipt signing key, made (and published on the trust list) on
        first use. If its file is gone, a new key is made: receipts signed with the old
        one still check, as its public key stays listed."""
        with self._editing_trust() as trust:
            for entry in reversed(trust.receipt_keys):
                path = self._receipt_key_path(entry.key_id)
                if path.exists():
                    return ReceiptKey(entry.key_id, self._load_private(path, "the receipt key"))
            private = Ed25519PrivateKey.generate()
            raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            key_id = key_id_for(raw)
            _write_private(self._receipt_key_path(key_id), private, self.passphrase)
            public = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            trust.receipt_keys.append(ReceiptKeyEntry(key_id=key_id, public_key=public, not_before=utc_now()))
            return ReceiptKey(key_id, private)

    def _receipt_key_path(self, key_id: str) -> Path:
        return self.home / "ca" / f"receipts-{key_id}.pem"

    def _load_private(self, path: Path, what: str) -> Ed25519PrivateKey:
        pem = path.read_bytes()
        # An unprotected key ignores a passphrase set for other keys.
        passphrase = self.passphrase if b"ENCRYPTED" in pem else None
        try:
            private = serialization.load_pem_private_key(pem, password=passphrase)
        except TypeError:
            raise KeyProblem(f"{what} is protected by a passphrase: set {PASSPHRASE_ENV}") from None
        except ValueError:
            raise KeyProblem(
                f"cannot unlock {what}: wrong passphrase in {PASSPHRASE_ENV}, or a damaged key file"
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyProblem(f"{path} is not an Ed25519 key")
        return private

    def signing_key(self, agency: str | None) -> SigningKey:
        """The active key of `agency` (or of the only agency here, when None)."""
        if agency is None:
            names = self.agencies()
            if not names:
                raise KeyProblem("no signing key here: run `realmark keys init --agency NAME` first")
            if len(names) > 1:
                raise KeyProblem(f"several agencies have keys here ({', '.join(names)}); pass --agency")
            agency = names[0]
        check_agency(agency)
        entry = self.active_entry(agency)
        path = self._key_path(agency, entry.key_id) if entry else None
        if entry is None or not path.exists():
            raise KeyProblem(f"no active signing key for {agency}: run `realmark keys init --agency {agency}`")
        private = self._load_private(path, f"the key of {agency}")
        try:
            chain = self.chain_path(agency, entry.key_id).read_text("ascii")
        except (OSError, UnicodeDecodeError):
            raise KeyProblem(
                f"the key of {agency} has no Content Credentials certificate: run `realmark keys init --agency "
                f"{agency}` to issue it"
            ) from None
        return SigningKey(agency, entry.key_id, private, chain)


def _write_private(path: Path, private: Ed25519PrivateKey, passphrase: bytes | None) -> None:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    # O_EXCL + mode 0600 at creation: the key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
