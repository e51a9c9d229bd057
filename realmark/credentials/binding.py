"""The soft binding: how a C2PA manifest names the Realmark watermark in its asset.

The `c2pa.soft-binding` assertion carries an algorithm name and a value; a client that
reads the watermark from a stripped copy sends both to the Soft Binding Resolution API
(`GET /matches/byBinding?alg=...&value=...`) and gets the manifest back. The value is
the watermark id's 6 bytes in standard base64, the encoding the C2PA API uses for
binding values."""

from __future__ import annotations

import base64
import binascii

from realmark.errors import BadInput
from realmark.watermark.codec import ID_BITS

SOFT_BINDING_ALG = "org.realmark.watermark.1"
FINGERPRINT_ALG = "org.realmark.pdq.1"  # realmark-pdq-1 (PDQ-style, 256 bits) under a soft-binding name
_ID_BYTES = ID_BITS // 8
_FINGERPRINT_BYTES = 32


def binding_value(wm_id: int) -> str:
    return base64.b64encode(wm_id.to_bytes(_ID_BYTES, "big")).decode("ascii")


def _decoded(value: str, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) and len(value) <= 64 else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise BadInput(f"this value is the base64 of {what}")
    return raw


def parse_binding_value(value: str) -> int:
    """The watermark id in a binding value; BadInput for anything else."""
    return int.from_bytes(_decoded(value, _ID_BYTES, f"a {_ID_BYTES}-byte watermark id ({SOFT_BINDING_ALG})"), "big")


def parse_fingerprint_value(value: str) -> bytes:
    """The 256-bit fingerprint in a binding value; BadInput for anything else."""
    return _decoded(value, _FINGERPRINT_BYTES, f"a {_FINGERPRINT_BYTES}-byte fingerprint ({FINGERPRINT_ALG})")
