"""X.509 certificates for Content Credentials (C2PA): one root per deployment, one leaf
per agency signing key.

C2PA validators accept a signing certificate only if it carries: the digitalSignature
key usage, an extended key usage other than "any" (here emailProtection and C2PA's own
claimSigning), subject and authority key identifiers, and an O= naming the organisation
(readers show it as "issued by"). They reject self-signed leaves, and the chain embedded
in a manifest is the leaf plus intermediates, never the root: the root reaches
validators out of band, as a trust anchor (published with the trust list).

The leaf certifies the agency's Ed25519 signing key itself, the one on the Realmark trust
list: one key per agency to protect, rotate and revoke, and a C2PA signature and a
Realmark signature from the same agency name the same key. The two never collide: C2PA
signs a COSE Sig_structure (CBOR, starting with the "Signature1" context), Realmark signs
canonical JSON (starting with "{").
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from realmark.errors import KeyProblem
from realmark.files import atomic_write

C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
ROOT_YEARS = 20
# Without a time-stamp authority (none is reachable offline), C2PA validators judge the
# certificate at validation time: a leaf must outlive the content it signs for as long as
# verifiers should answer "Trusted". Rotation replaces keys long before that.
LEAF_YEARS = 10
_BACKDATE = dt.timedelta(minutes=10)  # tolerate validators whose clocks run a little slow
# A leaf's common name; verifiers read the key id back from Trusted certificates.
LEAF_NAME = re.compile(r"(?P<agency>.{1,64}) official media \((?P<key_id>[0-9a-f]{16})\)")


def _years(n: int) -> dt.timedelta:
    return dt.timedelta(days=365 * n + n // 4)


def _key_usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def leaf_name(agency: str, key_id: str) -> str:
    return f"{agency} official media ({key_id})"


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class DeploymentRoot:
    """The deployment's root certificate authority, kept under <home>/ca/.

    ca/root.pem       the root certificate: public, published with the trust list
    ca/root-key.pem   its Ed25519 private key, 0600 (encrypted with the passphrase)
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.cert_path = self.folder / "root.pem"
        self.key_path = self.folder / "root-key.pem"

    def exists(self) -> bool:
        return self.key_path.exists()

    def certificate(self) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise KeyProblem(f"the deployment root certificate {self.cert_path} is unreadable ({exc})") from None

    def create(self, passphrase: bytes | None) -> x509.Certificate:
        """Make the root once; its private key is written 0600 at creation, like agency keys."""
        key = Ed25519PrivateKey.generate()
        now = dt.datetime.now(dt.UTC)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, f"Realmark deployment root {os.urandom(4).hex()}"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Realmark deployment"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _years(ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, None)
        )
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        # The key file is the commit point: written aside, then moved into place after the
        # certificate, so a crash never leaves a key without its certificate.
        pending = self.key_path.with_name(".root-key.pem.partial")
        fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
            f.flush()
            os.fsync(f.fileno())
        atomic_write(self.cert_path, pem(cert).encode("ascii"))
        os.replace(pending, self.key_path)
        return cert

    def _private(self, passphrase: bytes | None) -> Ed25519PrivateKey:
        data = self.key_path.read_bytes()
        try:
            key = serialization.load_pem_private_key(data, password=passphrase if b"ENCRYPTED" in data else None)
        except (TypeError, ValueError):
            raise KeyProblem("cannot unlock the deployment root key: set the right REALMARK_KEY_PASSPHRASE") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyProblem(f"{self.key_path} is not an Ed25519 key")
        return key

    def issue(self, agency: str, key_id: str, public: Ed25519PublicKey, passphrase: bytes | None) -> x509.Certificate:
        """The C2PA signing certificate for one agency key."""
        root = self.certificate()
        root_key = self._private(passphrase)
        now = dt.datetime.now(dt.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, leaf_name(agency, key_id)),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency),
                    ]
                )
            )
            .issuer_name(root.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(min(now + _years(LEAF_YEARS), root.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, C2PA_CLAIM_SIGNING]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, None)
        )


def check_root_pem(text: str) -> str:
    """A published root must be one CA certificate in PEM; raises ValueError otherwise."""
    if not isinstance(text, str) or len(text) > 16384 or text.count("-----BEGIN CERTIFICATE-----") != 1:
        raise ValueError("the C2PA root must be one PEM certificate")
    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii"))
        ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (ValueError, UnicodeEncodeError, x509.ExtensionNotFound):
        raise ValueError("the C2PA root is not a readable CA certificate") from None
    if not ca:
        raise ValueError("the C2PA root is not a CA certificate")
    return text
