"""Content Credentials beside the verdict: read what the upload embeds, validate it
against the deployment root on the trust list, and attach the report."""

from __future__ import annotations

import dataclasses
from typing import BinaryIO

from realmark.credentials import CredentialsReport, read_credentials
from realmark.credentials.report import INVALID, TRUSTED
from realmark.keys import TrustList
from realmark.media import Media

from .result import Verification


def checked(report: CredentialsReport, trust: TrustList) -> CredentialsReport:
    """c2pa-rs checked the chain up to the deployment root; the trust list decides the
    rest, as it does for Realmark manifests: the key must be listed for this agency and
    not revoked. Other C2PA validators cannot know a revocation (no CRL or OCSP is
    published); this one answers as the verdict does, never "Trusted"."""
    if report.state != TRUSTED:
        return report
    entry = trust.find(report.key_id) if report.key_id else None
    if entry is None or entry.agency != report.issuer:
        message = (
            "Content Credentials are signed with a certificate whose key is not on this service's trust list: do "
            "not trust them."
        )
        return dataclasses.replace(report, state=INVALID, failures=("signingCredential.untrusted",), message=message)
    if entry.revoked_at is not None:
        message = (
            f"Content Credentials were signed with a key {entry.agency} revoked on {entry.revoked_at}: do not trust "
            f"them."
        )
        return dataclasses.replace(report, state=INVALID, failures=("signingCredential.revoked",), message=message)
    return report


def with_credentials(result: Verification, media: Media, stream: BinaryIO, trust: TrustList) -> Verification:
    if not media.carries_c2pa:
        return result
    report = read_credentials(media.mime, stream, trust.c2pa_root)
    if report is None:
        return result
    report = checked(report, trust)
    signed = result.manifest
    if signed is not None and signed.c2pa_label:
        # These are the very credentials the agency embedded: trusted, the same manifest
        # id, and signed by the key of the Realmark record (a label alone can be copied).
        same = report.state == TRUSTED and report.label == signed.c2pa_label and report.key_id == signed.key_id
        report = dataclasses.replace(report, matches_signed=same)
    return dataclasses.replace(result, credentials=report)
