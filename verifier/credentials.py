"""Content Credentials beside the verdict: read what the upload embeds, validate it
against the deployment root on the trust list, and attach the report."""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

from realmark.credentials import read_credentials
from realmark.keys import TrustList

from .result import Verification


def with_credentials(result: Verification, mime: str, stream: BinaryIO, trust: TrustList) -> Verification:
    report = read_credentials(mime, stream, trust.c2pa_root)
    if report is None:
        return result
    credentials = report.to_dict()
    entry = trust.find(report.key_id) if report.key_id else None
    if entry is not None and entry.revoked_at is not None:
        # Other C2PA validators cannot know (no CRL or OCSP is published), but this one
        # does: the same answer as the verdict's, never "Trusted" for a revoked key.
        credentials.update(
            state="Invalid",
            failures=["signingCredential.revoked"],
            message=f"Content Credentials were signed with a key {entry.agency} revoked on {entry.revoked_at}: do not trust them.",
        )
    if result.manifest and result.manifest.get("c2pa"):
        # Whether these are the very credentials the agency embedded when it signed.
        credentials["matches_signed"] = report.label == result.manifest["c2pa"]["manifest"]
    return dataclasses.replace(result, credentials=credentials)
