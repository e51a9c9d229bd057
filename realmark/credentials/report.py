"""Read the Content Credentials embedded in an upload and report their validation state.

The state is c2pa-rs's own: Trusted (valid, and signed under a trust anchor: here the
deployment root from the trust list), Valid (intact, but the signer is not anchored
here), Invalid (something fails: the codes say what). Realmark's verdict is reported
beside it, never replaced by it.

Never fetched: a manifest the file only points to by URL (a verifier fetching URLs
found in uploads is a server-side request forgery waiting to happen); OCSP responders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import c2pa

from realmark.keys.certs import LEAF_NAME

from .binding import SOFT_BINDING_ALG
from .embed import EMBEDDABLE

TRUSTED, VALID, INVALID = "Trusted", "Valid", "Invalid"
NOT_CHECKED = "NotChecked"  # the file points to a remote manifest, which is not fetched


@dataclass(frozen=True)
class CredentialsReport:
    state: str
    message: str
    label: str | None = None  # the active manifest's id
    issuer: str | None = None  # the signing certificate's O= (who signed, per the certificate)
    title: str | None = None
    failures: tuple[str, ...] = ()  # C2PA validation codes, e.g. assertion.dataHash.mismatch
    soft_binding: dict | None = None  # {"alg", "value"} when the manifest names a watermark
    remote_url: str | None = None
    key_id: str | None = None  # Trusted only: the Realmark key the certificate was issued for
    # Set by the verifier when the upload has a Realmark record: are these the very
    # credentials the agency embedded?
    matches_signed: bool | None = None

    def to_dict(self) -> dict:
        return {
            "state": self.state,
            "message": self.message,
            "manifest": self.label,
            "issuer": self.issuer,
            "title": self.title,
            "failures": list(self.failures),
            "soft_binding": self.soft_binding,
            "remote_url": self.remote_url,
            "key_id": self.key_id,
        } | ({"matches_signed": self.matches_signed} if self.matches_signed is not None else {})


def verifying_context(root_pem: str | None) -> c2pa.Context:
    settings: dict = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": bool(root_pem)}}
    if root_pem:
        settings["trust"] = {"trust_anchors": root_pem}
    return c2pa.Context(c2pa.Settings.from_dict(settings))


def _codes(results, kind: str) -> tuple[str, ...]:
    active = results.get("activeManifest") if isinstance(results, dict) else None
    items = active.get(kind) if isinstance(active, dict) else None
    return tuple(str(item.get("code")) for item in items if isinstance(item, dict)) if isinstance(items, list) else ()


def _soft_binding(manifest: dict) -> dict | None:
    assertions = manifest.get("assertions")
    for assertion in assertions if isinstance(assertions, list) else []:
        data = assertion.get("data") if isinstance(assertion, dict) else None
        if (
            isinstance(data, dict)
            and assertion.get("label") == "c2pa.soft-binding"
            and data.get("alg") == SOFT_BINDING_ALG
        ):
            blocks = data.get("blocks")
            if (
                isinstance(blocks, list)
                and blocks
                and isinstance(blocks[0], dict)
                and isinstance(blocks[0].get("value"), str)
            ):
                return {"alg": SOFT_BINDING_ALG, "value": blocks[0]["value"]}
    return None


def _unreadable(detail: str) -> CredentialsReport:
    return CredentialsReport(
        INVALID,
        f"The file holds Content Credentials that cannot be read ({detail}).",
        failures=("manifest.unreadable",),
    )


def read_credentials(mime: str, stream: BinaryIO, root_pem: str | None) -> CredentialsReport | None:
    """The report for the manifest embedded in `stream`, or None when there is none.
    Never raises for what the file holds: a hostile manifest is reported unreadable."""
    if mime not in EMBEDDABLE:
        return None
    try:
        reader = c2pa.Reader.try_create(mime, stream, context=verifying_context(root_pem))
        if reader is None:
            return None
        with reader:
            state = reader.get_validation_state() or INVALID
            results = reader.get_validation_results()
            manifest = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if text.startswith("Remote:"):
            url = text.split("url", 1)[-1].strip() or None
            return CredentialsReport(
                NOT_CHECKED,
                (
                    "The file points to Content Credentials on another server; they are never fetched, so they were "
                    "not checked."
                ),
                remote_url=url,
            )
        return _unreadable(text)
    except (KeyError, ValueError, TypeError) as exc:  # c2pa-python on a store without an active manifest, or odd JSON
        return _unreadable(f"{type(exc).__name__}: {exc}")
    if not isinstance(manifest, dict):
        return _unreadable("the active manifest is not an object")
    signature = manifest.get("signature_info") if isinstance(manifest.get("signature_info"), dict) else {}
    failures = _codes(results, "failure")
    issuer = signature.get("issuer") if isinstance(signature.get("issuer"), str) else None
    if state == TRUSTED:
        message = f"Content Credentials are intact and issued by {issuer}, under this service's trust list."
    elif state == VALID:
        message = (
            "Content Credentials are intact, but their signer is not on this service's trust list: the name they "
            "give is not confirmed."
        )
    else:
        message = (
            "Content Credentials are present but do not validate: the file was changed after they were signed, or "
            "they are forged."
        )
    # A Trusted certificate was issued by the deployment root, which writes the key id into
    # every leaf's common name (certs.leaf_name): so here the name can be believed.
    named = LEAF_NAME.fullmatch(str(signature.get("common_name") or "")) if state == TRUSTED else None
    label = manifest.get("label")
    return CredentialsReport(
        state=state if state in (TRUSTED, VALID) else INVALID,
        message=message,
        label=label if isinstance(label, str) else None,
        issuer=issuer,
        title=manifest.get("title") if isinstance(manifest.get("title"), str) else None,
        failures=failures,
        soft_binding=_soft_binding(manifest),
        key_id=named.group("key_id") if named else None,
    )
