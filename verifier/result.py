"""Verification results: one verdict, the reasons for it, and the evidence behind it.

The sentence (`message`) is not stored: wording.py writes it from the verdict and the
reasons, in the language asked for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from realmark.credentials import CredentialsReport
from realmark.manifest import Manifest

from . import wording
from .evidence import Evidence
from .reasons import Reason


class Verdict(StrEnum):
    AUTHENTIC = "authentic"  # the published file, or a re-encoded / resized copy of it
    LIKELY_AUTHENTIC = "likely_authentic"  # no watermark left, but it looks like a signed asset (appearance only)
    ALTERED = "altered"  # an official watermark, but content that differs from what was signed
    FORGED = "forged"  # an official watermark copied onto content that is not the agency's at all
    UNKNOWN = "unknown"  # no official mark found: not proof of a fake
    INVALID = "invalid"  # a mark was found, but its manifest fails the signature or trust check


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    manifest: Manifest | None
    evidence: Evidence
    # The Content Credentials (C2PA) embedded in the upload, validated separately: reported
    # beside the verdict, never instead of it.
    credentials: CredentialsReport | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict is Verdict.AUTHENTIC else 1

    @property
    def message_params(self) -> dict:
        return wording.params(self)

    def message(self, lang: str = wording.DEFAULT_LANGUAGE) -> str:
        return wording.sentence(self.verdict.value, [r.value for r in self.reasons], self.message_params, lang)

    def to_dict(self, lang: str = wording.DEFAULT_LANGUAGE) -> dict:
        return {
            "verdict": self.verdict.value,
            "reasons": [r.value for r in self.reasons],
            "message": self.message(lang),
            "message_params": self.message_params,
            "manifest": self.manifest.to_dict() if self.manifest else None,
            "evidence": self.evidence.to_dict(),
            "credentials": self.credentials.to_dict() if self.credentials else None,
        }
