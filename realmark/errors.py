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


class InvalidManifest(RealmarkError):
    """A manifest fails its schema, signature or trust check (becomes the `invalid` verdict)."""
