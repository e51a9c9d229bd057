"""All configuration in one typed object, read from the environment once.

REALMARK_HOME   data directory: keys, trust list and (by default) the manifest store.
                Default: ~/.realmark
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from realmark.keys import Keyring, TrustList
from realmark.store import LocalStore, Store


@dataclass(frozen=True)
class Settings:
    home: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = env.get("REALMARK_HOME") or str(Path.home() / ".realmark")
        return cls(home=Path(home).expanduser())

    def keyring(self) -> Keyring:
        return Keyring(self.home)

    def trust(self) -> TrustList:
        return self.keyring().trust()

    def store(self) -> Store:
        return LocalStore(self.home / "store")
