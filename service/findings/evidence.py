"""Uploads kept as evidence, only when their submitter asks ("keep my upload as
evidence"): under evidence/<last day kept>/<sha256> in the store, so the day's folder is
removed whole once it has passed (prune). Nothing else of an upload is ever kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from realmark.store import Store

PREFIX = "evidence/"


def keep(store: Store, source: bytes | Path, sha256: str, days: int, today: date | None = None) -> tuple[str, str]:
    """Keep the upload for `days`: (its last day, YYYY-MM-DD; its store key)."""
    until = ((today or datetime.now(UTC).date()) + timedelta(days=days)).isoformat()
    key = f"{PREFIX}{until}/{sha256}"
    store.put_if_absent(key, source)
    return until, key


def prune(store: Store, today: date | None = None) -> int:
    """Remove the uploads whose last day has passed; how many were removed."""
    today_text = (today or datetime.now(UTC).date()).isoformat()
    removed = 0
    for key in list(store.list(PREFIX)):
        day = key[len(PREFIX) :].split("/", 1)[0]
        if day < today_text:
            store.delete(key)
            removed += 1
    return removed
