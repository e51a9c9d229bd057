from __future__ import annotations

import threading

import pytest

from realmark.errors import StoreError
from realmark.store import LocalStore, Records


def test_put_if_absent_never_overwrites(tmp_path):
    store = LocalStore(tmp_path)
    assert store.put_if_absent("manifests/a.json", b"first") is True
    assert store.put_if_absent("manifests/a.json", b"second") is False
    assert store.get("manifests/a.json") == b"first"
    assert store.get("manifests/b.json") is None
    assert sorted(store.list("manifests/")) == ["manifests/a.json"]
    assert list(store.list("watermarks/")) == []


def test_concurrent_writers_exactly_one_wins(tmp_path):
    store = LocalStore(tmp_path)
    results = []
    barrier = threading.Barrier(16)

    def write(i):
        barrier.wait()
        results.append((i, store.put_if_absent("watermarks/0000000000aa.json", f"writer {i}".encode())))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, ok in results if ok]
    assert len(winners) == 1
    assert store.get("watermarks/0000000000aa.json") == f"writer {winners[0]}".encode()
    assert not [p for p in tmp_path.rglob(".tmp-*")]


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "UPPER", "a//b", "", "x\0y"])
def test_hostile_keys_are_refused(tmp_path, key):
    with pytest.raises(StoreError):
        LocalStore(tmp_path).put_if_absent(key, b"x")


def test_watermark_claims_are_unique(tmp_path):
    records = Records(LocalStore(tmp_path))
    assert records.claim_watermark_id(0xABC, "rm-aaaaaaaaaaaaaaaaaaaaaaaa") is True
    assert records.claim_watermark_id(0xABC, "rm-bbbbbbbbbbbbbbbbbbbbbbbb") is False
    assert records.manifest_id_for_watermark(0xABC) == "rm-aaaaaaaaaaaaaaaaaaaaaaaa"
    assert records.manifest_id_for_watermark(0xABD) is None
