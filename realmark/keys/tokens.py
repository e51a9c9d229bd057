"""Per-agency API tokens for the signing API.

A token is 256 random bits, shown once. The store keeps only its SHA-256 (a fast hash
is right for high-entropy secrets; slow password hashes are for guessable ones), under
`tokens/<sha256>.json`, so every service instance sharing the store accepts it."""

from __future__ import annotations

import hashlib
import json
import secrets

from realmark.errors import StoreError
from realmark.manifest.model import utc_now
from realmark.store import Store

PREFIX = "rmk_"


def _key(token: str) -> str:
    return f"tokens/{hashlib.sha256(token.encode()).hexdigest()}.json"


def create_token(store: Store, agency: str) -> str:
    for _ in range(4):
        token = PREFIX + secrets.token_urlsafe(32)
        if store.put_if_absent(_key(token), json.dumps({"agency": agency, "created_at": utc_now()}).encode()):
            return token
    raise StoreError("could not store a new token")


def agency_for_token(store: Store, token: str) -> str | None:
    """The agency a token belongs to, or None for an unknown or malformed token."""
    if not token.startswith(PREFIX) or len(token) > 100 or not token.isascii():
        return None
    data = store.get(_key(token))
    if data is None:
        return None
    try:
        agency = json.loads(data)["agency"]
    except (ValueError, KeyError, TypeError):
        return None
    return agency if isinstance(agency, str) else None
