"""500 unmarked photos and crops must never come out `authentic` (nor decode an id)."""

from __future__ import annotations

import numpy as np

from bench.samples import photos
from realmark.deployment import open_store
from realmark.keys import Keyring

SOURCES = photos.REAL + [
    "camera",
    "grass",
    "gravel",
    "brick",
    "moon",
    "page",
    "text",
    "horse",
    "coins",
    "cell",
    "logo",
    "colorwheel",
]


def unmarked_samples(n: int, seed: int = 0):
    """n unmarked pictures: whole photos, random crops at random scales, JPEG'd, flat ones."""
    rng = np.random.default_rng(seed)
    names = []
    for name in SOURCES:
        try:
            photos.real(name)
            names.append(name)
        except Exception:
            continue
    for i in range(n):
        base = photos.real(names[i % len(names)])
        h, w = base.shape[:2]
        if i < len(names):
            img = base
        else:
            ch = int(rng.integers(min(h, 128), h + 1))
            cw = int(rng.integers(min(w, 128), w + 1))
            y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            img = base[y : y + ch, x : x + cw]
            factor = float(rng.uniform(0.8, 2.5))
            img = photos.fit(img, max(128, round(cw * factor)), max(128, round(ch * factor)))
            if rng.random() < 0.5:
                img = photos.decode(photos.encode(img, quality=int(rng.integers(50, 95))))
            if rng.random() < 0.1:
                img = np.full_like(img, int(rng.integers(0, 256)))  # flat: the hardest case for a detector
        yield np.ascontiguousarray(img)


def test_500_unmarked_photos_and_crops_are_never_authentic(agency_cli, tmp_path):
    """Through verify, with a populated store: a false id could hit a real manifest."""
    from realmark.settings import Settings
    from verifier import verify

    src = tmp_path / "signed-src.jpg"
    src.write_bytes(photos.encode(photos.hd("astronaut")))
    assert agency_cli("sign", src, "-o", tmp_path / "s.jpg", "--title", "t", "--artist", "a")[0] == 0
    settings = Settings(home=agency_cli.home)
    store, trust = open_store(settings), Keyring(settings.home).trust()
    results = [verify(photos.encode(img, quality=95), store=store, trust=trust) for img in unmarked_samples(500)]
    assert {r.verdict.value for r in results} == {"unknown"}
    assert not any(r.evidence.watermark.found for r in results)
