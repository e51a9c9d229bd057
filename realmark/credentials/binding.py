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
_ID_BYTES = ID_BITS // 8


def binding_value(wm_id: int) -> str:
    return base64.b64encode(wm_id.to_bytes(_ID_BYTES, "big")).decode("ascii")


def parse_binding_value(value: str) -> int:
    """The watermark id in a binding value; BadInput for anything else."""
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) and len(value) <= 64 else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _ID_BYTES:
        raise BadInput(f"a {SOFT_BINDING_ALG} value is the base64 of a {_ID_BYTES}-byte watermark id")
    return int.from_bytes(raw, "big")
