"""Where signed manifests live. `Store` is the interface; `LocalStore` the embedded default.

Objects are immutable: the only write is put-if-absent, so two signers can never
overwrite each other, and a reader never sees half an object. The one deletion is of
scratch objects: a job's upload, kept under uploads/ until its job ends."""

from .base import Store
from .local import LocalStore
from .records import Records

__all__ = ["LocalStore", "Records", "Store"]
