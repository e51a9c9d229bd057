"""Ed25519 signatures over the canonical JSON of a manifest's payload."""

from __future__ import annotations

import base64
import dataclasses

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from realmark.errors import InvalidManifest

from .canonical import canonical_json
from .model import Manifest

# Domain separation: a manifest signature can never be replayed as a signature over
# some other Realmark message, nor the other way round.
_CONTEXT = b"realmark manifest signature v1\n"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_bytes(manifest: Manifest) -> bytes:
    return _CONTEXT + canonical_json(manifest.payload())


def sign_manifest(manifest: Manifest, key: Ed25519PrivateKey) -> Manifest:
    return dataclasses.replace(manifest, signature=_b64url(key.sign(signed_bytes(manifest))))


def verify_manifest(manifest: Manifest, public_key: Ed25519PublicKey) -> None:
    """Raise InvalidManifest unless the signature is the key's over this exact payload."""
    try:
        signature = _unb64url(manifest.signature)
    except ValueError:
        raise InvalidManifest("the signature is not valid base64url", InvalidManifest.SIGNATURE) from None
    if len(signature) != 64:
        raise InvalidManifest("the signature has the wrong length", InvalidManifest.SIGNATURE)
    try:
        public_key.verify(signature, signed_bytes(manifest))
    except InvalidSignature:
        raise InvalidManifest(
            "the signature does not match the manifest (it was changed after signing, or signed by another key)",
            InvalidManifest.SIGNATURE,
        ) from None
