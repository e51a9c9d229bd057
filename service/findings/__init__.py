"""Findings for agencies: what the public verified that is an altered or forged copy of an
agency's asset, counted per file, and the evidence report a legal team files."""

from .book import Finding, FindingBook, finding_of
from .report import report_html, report_pdf

__all__ = ["Finding", "FindingBook", "finding_of", "report_html", "report_pdf"]
