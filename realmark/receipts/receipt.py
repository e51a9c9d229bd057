"""One receipt: what was checked (the file's SHA-256 and size, never the file), when, the
verdict with its reason codes and manifest, and the trust list's version, signed with the
deployment's receipt key (Ed25519, published in trust.json under `receipt_keys`).

A journalist cites the receipt's id (its page is /r/<id>); anyone can check it offline
with trust.json: `realmark receipt verify receipt.json --trust trust.json`. The signature
is over the canonical JSON (RFC 8785) of every field but itself, after a context string
of its own, so no other Realmark signature can pass for a receipt's."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import asdict, dataclass, fields

from cryptography.exceptions import InvalidSignature

from realmark.errors import InvalidReceipt
from realmark.keys import TrustList
from realmark.keys.keyring import ReceiptKey
from realmark.manifest.canonical import canonical_json
from realmark.manifest.model import parse_time, utc_now

FORMAT = "realmark.receipt/1"
_CONTEXT = b"realmark receipt signature v1\n"
ID_PATTERN = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Receipt:
    id: str  # 32 hex digits, random: the permalink /r/<id>
    issued_at: str  # UTC, RFC 3339
    file_sha256: str
    file_bytes: int
    verdict: str
    reasons: tuple[str, ...]
    manifest_id: str | None  # the signed asset's manifest, when one was found
    agency: str | None  # whose asset (or whose copied mark)
    trust_list: str  # TrustList.version: "sha256:<hex>" of the trust.json used
    key_id: str  # the receipt key that signed
    # The last day the upload is kept as evidence (YYYY-MM-DD), only when its submitter
    # asked; None: the upload was not kept.
    upload_kept_until: str | None = None
    format: str = FORMAT
    signature: str = ""  # base64url Ed25519

    def payload(self) -> dict:
        body = asdict(self)
        del body["signature"]
        body["reasons"] = list(self.reasons)
        return body

    def to_dict(self) -> dict:
        return {"format": self.format, **self.payload(), "signature": self.signature}

    @classmethod
    def from_dict(cls, obj) -> Receipt:
        """A receipt from its JSON object; InvalidReceipt (malformed) saying what is wrong."""
        names = {f.name for f in fields(cls)}
        if not isinstance(obj, dict) or set(obj) != names:
            raise InvalidReceipt(f"not a receipt: expected the fields {', '.join(sorted(names))}")
        if obj["format"] != FORMAT:
            raise InvalidReceipt(f"not a {FORMAT} receipt")
        strings = ("id", "issued_at", "file_sha256", "verdict", "trust_list", "key_id", "signature")
        if not all(isinstance(obj[n], str) for n in strings):
            raise InvalidReceipt("a receipt field that must be text is not")
        if not ID_PATTERN.fullmatch(obj["id"]) or not _SHA256.fullmatch(obj["file_sha256"]):
            raise InvalidReceipt("the receipt's id or file hash is malformed")
        if not isinstance(obj["file_bytes"], int) or isinstance(obj["file_bytes"], bool) or obj["file_bytes"] < 0:
            raise InvalidReceipt("the receipt's file size is malformed")
        if not isinstance(obj["reasons"], list) or not all(isinstance(r, str) for r in obj["reasons"]):
            raise InvalidReceipt("the receipt's reasons are malformed")
        for name in ("manifest_id", "agency", "upload_kept_until"):
            if obj[name] is not None and not isinstance(obj[name], str):
                raise InvalidReceipt(f"the receipt's {name} is malformed")
        try:
            parse_time(obj["issued_at"])
        except (TypeError, ValueError):
            raise InvalidReceipt("the receipt's time is not a UTC time") from None
        return cls(**{**obj, "reasons": tuple(obj["reasons"])})


def _signed_bytes(receipt: Receipt) -> bytes:
    return _CONTEXT + canonical_json(receipt.payload())


def issue(
    key: ReceiptKey,
    *,
    file_sha256: str,
    file_bytes: int,
    verdict: str,
    reasons: list[str] | tuple[str, ...],
    manifest_id: str | None,
    agency: str | None,
    trust_list: str,
    upload_kept_until: str | None = None,
) -> Receipt:
    receipt = Receipt(
        id=uuid.uuid4().hex,
        issued_at=utc_now(),
        file_sha256=file_sha256,
        file_bytes=file_bytes,
        verdict=verdict,
        reasons=tuple(reasons),
        manifest_id=manifest_id,
        agency=agency,
        trust_list=trust_list,
        key_id=key.key_id,
        upload_kept_until=upload_kept_until,
    )
    signature = key.private.sign(_signed_bytes(receipt))
    return Receipt(**{**asdict(receipt), "reasons": receipt.reasons, "signature": _b64url(signature)})


def check(receipt: Receipt, trust: TrustList) -> None:
    """Raise InvalidReceipt unless one of the trust list's receipt keys signed exactly
    this receipt. Fails closed: an unknown key, a bad encoding, any changed field."""
    entry = trust.receipt_key(receipt.key_id)
    if entry is None:
        raise InvalidReceipt(
            f"receipt key {receipt.key_id} is not on this trust list: check it with the trust.json of the "
            f"deployment that issued it",
            InvalidReceipt.KEY_UNKNOWN,
        )
    try:
        signature = base64.urlsafe_b64decode(receipt.signature + "=" * (-len(receipt.signature) % 4))
        signed = _signed_bytes(receipt)
    except ValueError:  # not base64url, or text JSON cannot carry (a lone surrogate)
        raise InvalidReceipt("the receipt's signature or text is malformed", InvalidReceipt.SIGNATURE) from None
    try:
        if len(signature) != 64:
            raise InvalidSignature
        entry.public().verify(signature, signed)
    except InvalidSignature:
        raise InvalidReceipt(
            "the signature does not match the receipt (it was changed after it was issued, or another key signed it)",
            InvalidReceipt.SIGNATURE,
        ) from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
