"""Agency signing keys and the trust list verifiers read."""

from .keyring import Keyring, SigningKey
from .trust import KeyEntry, TrustList

__all__ = ["KeyEntry", "Keyring", "SigningKey", "TrustList"]
