"""Every error Realmark raises on purpose. Each carries a one-line, user-facing message.

Verification never raises for a bad manifest or signature: those become the `invalid`
verdict. These exceptions are for requests that cannot be carried out at all."""

from __future__ import annotations


class RealmarkError(Exception):
    """Base class; str(error) is a plain sentence fit for a terminal or a JSON body."""


class BadInput(RealmarkError):
    """The file or an argument is not something Realmark can work on."""


class UnsupportedMedia(BadInput):
    """The content (sniffed, never the name or declared type) is no supported format."""


class KeyProblem(RealmarkError):
    """A signing key is missing, locked or unusable."""


class Conflict(RealmarkError):
    """The request contradicts what is already stored (e.g. same photo, other title)."""


class StoreError(RealmarkError):
    """The manifest store could not be read or written."""


class JobsUnavailable(RealmarkError):
    """The job broker (embedded or shared) could not be started or reached."""


class InvalidManifest(RealmarkError):
    """A manifest fails its schema, signature or trust check (becomes the `invalid` verdict).

    `reason` says which check failed, as one of the verifier's reason codes (verifier.reasons)."""

    MALFORMED = "manifest_malformed"  # schema, canonical form, size
    SIGNATURE = "signature_invalid"
    KEY_UNKNOWN = "key_unknown"  # not on the trust list, or another agency's
    KEY_REVOKED = "key_revoked"
    KEY_NOT_VALID_THEN = "key_not_valid_then"  # signed before the key's start or after its retirement

    def __init__(self, message: str, reason: str = MALFORMED):
        super().__init__(message)
        self.reason = reason


class InvalidReceipt(RealmarkError):
    """A verification receipt that does not check (realmark.receipts.check): `reason` says
    which check failed."""

    MALFORMED = "receipt_malformed"
    KEY_UNKNOWN = "receipt_key_unknown"  # not a receipt key of the trust list given
    SIGNATURE = "receipt_signature_invalid"  # changed after it was issued, or another key's

    def __init__(self, message: str, reason: str = MALFORMED):
        super().__init__(message)
        self.reason = reason
