"""Agency signing keys and the trust list verifiers read."""

from .keyring import Keyring, SigningKey
from .trust import KeyEntry, TrustFile, TrustList

__all__ = ["KeyEntry", "Keyring", "SigningKey", "TrustFile", "TrustList"]
