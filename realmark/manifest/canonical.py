"""Canonical JSON (RFC 8785, JCS) for the subset manifests use: objects, arrays,
strings, integers, booleans and null.

Signatures are over bytes, so both sides must serialize identically: keys sorted by
UTF-16 code units, no insignificant whitespace, UTF-8, the minimal JSON escapes.
Floats are refused rather than canonicalized: manifests carry none, and refusing them
avoids the hardest part of RFC 8785 (number formatting) entirely."""

from __future__ import annotations

import json

MAX_SAFE_INTEGER = 2**53 - 1  # I-JSON: integers beyond this do not survive JavaScript


def _check(value, path: str = "$") -> None:
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{path}: string holds a lone surrogate") from None
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer out of the interoperable range")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key is not a string")
            _check(key, path)
            _check(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not allowed in a manifest")


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def canonical_json(value) -> bytes:
    """The RFC 8785 serialization of value, as UTF-8 bytes."""
    _check(value)
    # json.dumps keeps insertion order when sort_keys is False, so we pre-sort by UTF-16.
    return json.dumps(_sorted(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
