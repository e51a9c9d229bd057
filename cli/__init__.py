"""The `realmark` command: keys, tokens, sign, verify, serve (built on signer/, verifier/
and service/; nothing below imports it)."""

from .main import main

__all__ = ["main"]
