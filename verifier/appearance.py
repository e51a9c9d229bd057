"""When the watermark is gone: find the signed original by how it looks.

A fingerprint match is weaker evidence than a watermark (C2PA's soft-binding guidance
says the same): a lookalike or a re-staged shot can come close, and a fingerprint cannot
say who made a copy. So a match is at best `likely_authentic`, says it was matched by
appearance only, and gives the distance. Where the whole picture can be compared cell by
cell (a photo matched on its own fingerprint) and some regions differ, it is `altered`,
with those regions.
"""

from __future__ import annotations

import base64
from collections import defaultdict

import numpy as np

from realmark.fingerprint import MATCH_DISTANCE, orientations
from realmark.fingerprint.grid import SIZE, cell_differences, changed_regions, grid
from realmark.index import FingerprintIndex
from realmark.keys import TrustList
from realmark.manifest import Manifest
from realmark.manifest.model import TIMELINE_INTERVAL_MS
from realmark.store import Store

from .manifests import describe, trusted_manifest
from .result import Verdict, Verification

MIN_QUALITY = 30  # PDQ-style quality of the query; flatter pictures say too little to search
MIN_COMPARE_SIDE = 256  # px: smaller copies have too few pixels per grid cell to compare regions
MIN_VIDEO_VOTES = 3  # sampled moments of a clip that must agree on one place in one original
CAUTION = "Matched by appearance only, not by watermark: treat it with less confidence."


def _how(manifest: Manifest, entry: int) -> str:
    if manifest.media.is_video:
        return f"a frame {entry * TIMELINE_INTERVAL_MS / 1000:.2f} s into the clip"
    if entry == 0:
        return "the whole picture"
    return f"its {list(manifest.fingerprint_variants)[entry - 1]} crop"


def photo(luma: np.ndarray, index: FingerprintIndex, store: Store, trust: TrustList, evidence: dict) -> Verification | None:
    """The verdict for a photo without a usable watermark that looks like a signed asset,
    or None when nothing signed looks like it."""
    queries = orientations(luma)  # query q is mirrored if q >= 4, then turned q % 4 times
    found = evidence["appearance"] = {"searched": queries[0].quality >= MIN_QUALITY, "indexed_fingerprints": len(index), "max_distance": MATCH_DISTANCE}
    if not found["searched"]:
        found["reason"] = f"too little detail to search (fingerprint quality {queries[0].quality} < {MIN_QUALITY})"
        return None
    for match in index.search([q.bits for q in queries]):
        manifest = trusted_manifest(match.manifest_id, store, trust)
        if manifest is None:
            continue  # unsigned, damaged or revoked: not evidence of anything
        mirrored, turns = match.query >= 4, match.query % 4
        found.update(manifest_id=manifest.manifest_id, distance=match.distance, matched=_how(manifest, match.entry), mirrored=mirrored, quarter_turns=turns)
        what = describe(manifest)
        if not manifest.media.is_video and match.entry == 0 and manifest.fingerprint_grid and min(luma.shape) >= MIN_COMPARE_SIDE:
            restored = np.rot90(luma[:, ::-1] if mirrored else luma, turns)
            signed_grid = np.frombuffer(base64.urlsafe_b64decode(manifest.fingerprint_grid + "=="), np.uint8).reshape(SIZE, SIZE)
            regions = changed_regions(cell_differences(signed_grid, grid(np.ascontiguousarray(restored))), manifest.media.width, manifest.media.height)
            found["changed_regions"] = regions
            if regions:
                return Verification(
                    Verdict.ALTERED,
                    f"No official watermark was found, but this looks like {what} with {len(regions)} region{'s' if len(regions) != 1 else ''} changed. {CAUTION}",
                    manifest.to_dict(),
                    evidence,
                )
        return Verification(
            Verdict.LIKELY_AUTHENTIC,
            f"No official watermark was found, but this looks like {what}: {_how(manifest, match.entry)}, {match.distance} of 256 fingerprint bits apart. {CAUTION}",
            manifest.to_dict(),
            evidence,
        )
    found["match"] = None
    return None


def clip(samples: list[tuple[float, bytes]], index: FingerprintIndex, store: Store, trust: TrustList, evidence: dict) -> Verification | None:
    """The verdict for a clip without a usable watermark whose sampled frames line up with
    one stretch of a signed video, or None. `samples` are (time in the clip, fingerprint)."""
    found = evidence["appearance"] = {"searched": bool(samples), "indexed_fingerprints": len(index), "max_distance": MATCH_DISTANCE, "samples": len(samples)}
    step = TIMELINE_INTERVAL_MS / 1000
    # (manifest, offset in steps) -> sample -> (its time, distance, time in the original).
    # A sample votes for its offset and both neighbours: frame times rarely fall exactly
    # on the original's quarter-second grid.
    votes: dict[tuple[str, int], dict[int, tuple[float, int, float]]] = defaultdict(dict)
    for match in index.search([h for _, h in samples]):
        t, original_t = samples[match.query][0], match.entry * step
        offset = round((original_t - t) / step)
        for key in ((match.manifest_id, offset - 1), (match.manifest_id, offset), (match.manifest_id, offset + 1)):
            votes[key].setdefault(match.query, (t, match.distance, original_t))  # nearest first, so the first is the best
    for (manifest_id, offset), hits in sorted(votes.items(), key=lambda kv: -len(kv[1])):
        if len(hits) < max(MIN_VIDEO_VOTES, len(samples) // 2):
            break
        manifest = trusted_manifest(manifest_id, store, trust)
        if manifest is None or not manifest.media.is_video:
            continue
        times = sorted(t for t, _, _ in hits.values())
        shift = float(np.median([o - t for t, _, o in hits.values()]))
        start, end = max(0.0, times[0] + shift), times[-1] + shift
        found.update(manifest_id=manifest_id, moments_matched=len(hits), median_distance=int(np.median([d for _, d, _ in hits.values()])), original_start=round(start, 2), original_end=round(end, 2))
        return Verification(
            Verdict.LIKELY_AUTHENTIC,
            f"No official watermark was found, but {len(hits)} of {len(samples)} sampled moments look like seconds {start:.1f} to {end:.1f} of {describe(manifest)}. {CAUTION}",
            manifest.to_dict(),
            evidence,
        )
    found["match"] = None
    return None

