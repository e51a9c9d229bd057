"""Embed a C2PA manifest (Content Credentials) into a signed file, with c2pa-python.

Runs after watermarking, on the file that will be published. What the manifest says:
the agency's certificate signs it (readers show "issued by <agency>"); the title,
artists and publication date; the actions: the agency's original was opened, marked with
an invisible watermark (`c2pa.watermarked`), and published; and a `c2pa.soft-binding`
assertion carrying the watermark id, so a copy stripped of its metadata can still find
this manifest through the watermark. The original is recorded as the parent ingredient,
so any Content Credentials it already had (a camera's, an editor's) stay in the history.

The bytes returned are exactly the manifest store embedded in the file: stored as the
sidecar that `GET /manifests/{manifestId}` serves."""

from __future__ import annotations

import importlib.metadata
import io
from dataclasses import dataclass
from typing import BinaryIO

import c2pa

from realmark.errors import BadInput, KeyProblem
from realmark.keys import SigningKey
from realmark.media.formats import FORMATS

from .binding import SOFT_BINDING_ALG, binding_value


def _version() -> str:
    try:
        return importlib.metadata.version("realmark")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return "0+source"


GENERATOR = {"name": "Realmark", "version": _version()}
# Formats c2pa-rs embeds into (realmark.media.formats). Matroska (the output for WebM/MKV
# uploads) has no C2PA embedding: such videos carry the Realmark watermark and manifest only.
EMBEDDABLE = tuple(m.mime for m in FORMATS.values() if m.carries_c2pa)
_SOURCE = "original"  # the ingredient's label, referenced by the c2pa.opened action


@dataclass(frozen=True)
class Claim:
    """What the agency states about the published file."""

    manifest_id: str  # the Realmark manifest this file belongs to
    agency: str
    title: str
    artists: tuple[str, ...]
    published_at: str  # RFC 3339 UTC, the same instant as the Realmark manifest
    watermark_id: int
    mime: str  # of the published file (and of the original: signing keeps the format)


@dataclass(frozen=True)
class Embedded:
    label: str  # the C2PA manifest id, "urn:c2pa:<uuid>"
    manifest: bytes  # the C2PA manifest store (JUMBF), as embedded


def _definition(claim: Claim) -> dict:
    return {
        "claim_generator_info": [GENERATOR],
        "title": claim.title,
        "format": claim.mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": [_SOURCE]}},
                        {
                            "action": "c2pa.watermarked",
                            "softwareAgent": GENERATOR,
                            "parameters": {"description": f"Realmark invisible watermark {claim.watermark_id:012x}"},
                        },
                        {"action": "c2pa.published", "when": claim.published_at},
                    ]
                },
            },
            {
                "label": "c2pa.soft-binding",
                # `pad` is required by the assertion's CDDL (filler for in-place updates; empty here).
                "data": {
                    "alg": SOFT_BINDING_ALG,
                    "name": "Realmark watermark",
                    "pad": [],
                    "blocks": [{"scope": {}, "value": binding_value(claim.watermark_id)}],
                },
            },
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "CreativeWork",
                    "name": claim.title,
                    "author": [{"@type": "Organization", "name": claim.agency}],
                    "publisher": {"@type": "Organization", "name": claim.agency},
                    "about": [{"@type": "Person", "name": a} for a in claim.artists],
                    "datePublished": claim.published_at,
                    "identifier": claim.manifest_id,
                },
            },
        ],
    }


def signing_context() -> c2pa.Context:
    # No thumbnail: the asset is its own picture, and the manifest stays ~13 KB, not ~80.
    return c2pa.Context(
        c2pa.Settings.from_dict(
            {
                "builder": {"thumbnail": {"enabled": False}},
                "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
            }
        )
    )


def embed(claim: Claim, key: SigningKey, original: BinaryIO, published: BinaryIO, dest: BinaryIO) -> Embedded:
    """Write `published` with an embedded manifest to `dest`; `original` is the agency's
    unmarked file (the parent ingredient). c2pa-rs validates what it wrote before
    returning (verify_after_sign), so a manifest that would not validate never ships."""
    if claim.mime not in EMBEDDABLE:
        raise BadInput(f"Content Credentials cannot be embedded in {claim.mime}")
    signer = c2pa.Signer.from_callback(key.private.sign, c2pa.C2paSigningAlg.ED25519, key.chain_pem, None)
    try:
        with c2pa.Builder(_definition(claim), signing_context()) as builder:
            builder.add_ingredient(
                {"title": "original", "relationship": "parentOf", "label": _SOURCE}, claim.mime, original
            )
            manifest = builder.sign(signer, claim.mime, published, dest)
        with c2pa.Reader("application/c2pa", io.BytesIO(manifest), context=signing_context()) as reader:
            label = reader.get_active_manifest()["label"]
    except c2pa.C2paError as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, c2pa.C2paError.Signature):
            raise KeyProblem(f"the C2PA certificate of {claim.agency} was refused ({first_line})") from None
        raise BadInput(f"cannot embed Content Credentials in this file ({first_line})") from None
    finally:
        signer.close()
    return Embedded(label=label, manifest=manifest)
