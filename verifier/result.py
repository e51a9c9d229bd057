"""Verification results: one verdict, one plain sentence, and the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(str, Enum):
    AUTHENTIC = "authentic"  # the published file, or a re-encoded / resized copy of it
    LIKELY_AUTHENTIC = "likely_authentic"  # no watermark left, but it looks like a signed asset (appearance only)
    ALTERED = "altered"  # an official watermark, but content that differs from what was signed
    UNKNOWN = "unknown"  # no official mark found: not proof of a fake
    INVALID = "invalid"  # a mark was found, but its manifest fails the signature or trust check


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    message: str
    manifest: dict | None = None
    evidence: dict = field(default_factory=dict)
    # The Content Credentials (C2PA) embedded in the upload, validated separately: reported
    # beside the verdict, never instead of it (realmark.credentials.CredentialsReport).
    credentials: dict | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict is Verdict.AUTHENTIC else 1

    def to_dict(self) -> dict:
        return {"verdict": self.verdict.value, "message": self.message, "manifest": self.manifest, "evidence": self.evidence, "credentials": self.credentials}
