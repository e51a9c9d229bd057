"""What one running Realmark works with, built once from its Settings: the store, the
keyring, the trust list it follows, the appearance index and the receipt book.

The CLI builds one per command and the service one per app; signing and verifying are
handed the parts they need (realmark never reaches for globals or the environment)."""

from __future__ import annotations

from functools import cached_property

from realmark.index import FingerprintIndex, open_index
from realmark.keys import Keyring, TrustFile
from realmark.receipts import ReceiptBook
from realmark.settings import Settings
from realmark.store import LocalStore, Store


def open_store(settings: Settings) -> Store:
    """The configured store: S3 when an endpoint is set, else the local directory."""
    if settings.s3_endpoint:
        from realmark.store.s3 import S3Store  # boto3 loads only when S3 is used

        return S3Store(settings.s3_endpoint, settings.s3_bucket, settings.s3_region)
    return LocalStore(settings.home / "store")


class Deployment:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store: Store = open_store(settings)
        self.keyring = Keyring(settings.home, settings.key_passphrase)
        self.trust: TrustFile = self.keyring.trust_file()

    @cached_property
    def index(self) -> FingerprintIndex:
        """The appearance index: the snapshot in home, brought up to date with the store
        (built on first use: key and token commands never need it)."""
        return open_index(self.settings.home, self.store)

    @cached_property
    def receipts(self) -> ReceiptBook:
        """Verification receipts: signed with the deployment's receipt key, kept in the store."""
        return ReceiptBook(self.store, self.keyring, self.trust)
