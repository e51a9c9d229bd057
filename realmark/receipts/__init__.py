"""Verification receipts: a signed, citable record that this deployment checked a file
(by its SHA-256) at a given time, with the answer it gave and the trust list it used."""

from .book import ReceiptBook
from .receipt import FORMAT, Receipt, check, issue

__all__ = ["FORMAT", "Receipt", "ReceiptBook", "check", "issue"]
