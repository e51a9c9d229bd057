"""Content Credentials (C2PA): certificates for agency keys, manifests embedded at
signing, and the validation report verifiers show beside Realmark's own verdict."""

from .binding import FINGERPRINT_ALG, SOFT_BINDING_ALG, binding_value, parse_binding_value, parse_fingerprint_value
from .embed import Claim, Embedded, embed
from .report import CredentialsReport, read_credentials

__all__ = [
    "FINGERPRINT_ALG",
    "SOFT_BINDING_ALG",
    "Claim",
    "CredentialsReport",
    "Embedded",
    "binding_value",
    "embed",
    "parse_binding_value",
    "parse_fingerprint_value",
    "read_credentials",
]
