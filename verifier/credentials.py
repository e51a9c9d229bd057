"""Content Credentials beside the verdict: read what the upload embeds, validate it
against the deployment root on the trust list, and attach the report."""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

from realmark.credentials import read_credentials
from realmark.credentials.report import INVALID, TRUSTED
from realmark.keys import TrustList

from .result import Verification


def with_credentials(result: Verification, mime: str, stream: BinaryIO, trust: TrustList) -> Verification:
    report = read_credentials(mime, stream, trust.c2pa_root)
    if report is None:
        return result
    credentials = report.to_dict()
    if report.state == TRUSTED:
        # c2pa-rs checked the chain up to the deployment root; the trust list decides the
        # rest, as it does for Realmark manifests: the key must be listed for this agency
        # and not revoked. Other C2PA validators cannot know a revocation (no CRL or OCSP
        # is published); this one answers as the verdict does, never "Trusted".
        entry = trust.find(report.key_id) if report.key_id else None
        if entry is None or entry.agency != report.issuer:
            credentials.update(state=INVALID, failures=["signingCredential.untrusted"], message="Content Credentials are signed with a certificate whose key is not on this service's trust list: do not trust them.")
        elif entry.revoked_at is not None:
            credentials.update(state=INVALID, failures=["signingCredential.revoked"], message=f"Content Credentials were signed with a key {entry.agency} revoked on {entry.revoked_at}: do not trust them.")
    signed = (result.manifest or {}).get("c2pa")
    if signed:
        # These are the very credentials the agency embedded: trusted, the same manifest
        # id, and signed by the key of the Realmark record (a label alone can be copied).
        credentials["matches_signed"] = credentials["state"] == TRUSTED and report.label == signed["manifest"] and report.key_id == result.manifest["key_id"]
    return dataclasses.replace(result, credentials=credentials)
