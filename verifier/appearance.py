"""When the watermark is gone: find the signed original by how it looks.

A fingerprint match is weaker evidence than a watermark: a lookalike or a re-staged shot
can come close, and a fingerprint cannot say who made a copy (decide.py weighs it)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from realmark.fingerprint import MATCH_DISTANCE, orientations
from realmark.fingerprint.grid import changed_regions, decode, fit, grid
from realmark.manifest import Manifest
from realmark.manifest.model import TIMELINE_STEP_S as STEP

from .context import Context
from .evidence import AppearanceEvidence, ClipMatch, PhotoMatch
from .manifests import trusted_manifest

MIN_QUALITY = 30  # PDQ-style quality of the query; flatter pictures say too little to search
MIN_COMPARE_SIDE = 256  # px: smaller copies have too few pixels per grid cell to compare regions
MIN_VIDEO_VOTES = 3  # sampled moments of a clip that must agree on one place in one original


def _how(manifest: Manifest, entry: int) -> tuple[str, float | None]:
    """Which of the asset's fingerprints matched (PhotoMatch.matched), and for a video the
    second its frame is at."""
    if manifest.media.is_video:
        return "frame", round(entry * STEP, 2)
    if entry == 0:
        return "whole", None
    return list(manifest.fingerprint_variants)[entry - 1], None


def photo(luma: np.ndarray, ctx: Context) -> tuple[AppearanceEvidence, Manifest | None]:
    """Search the index for a photo without a usable watermark: the evidence, and the
    trusted manifest it looks like (None when nothing signed looks like it)."""
    queries = orientations(luma)  # query q is mirrored if q >= 4, then turned q % 4 times
    base = {"indexed_fingerprints": len(ctx.index), "max_distance": MATCH_DISTANCE}
    if queries[0].quality < MIN_QUALITY:
        because = f"too little detail to search (fingerprint quality {queries[0].quality} < {MIN_QUALITY})"
        return AppearanceEvidence(False, not_searched_because=because, **base), None
    for match in ctx.index.search([q.bits for q in queries]):
        manifest = trusted_manifest(match.manifest_id, ctx)
        if manifest is None:
            continue  # unsigned, damaged or revoked: not evidence of anything
        mirrored, turns = match.query >= 4, match.query % 4
        whole = not manifest.media.is_video and match.entry == 0
        regions = None
        if whole and manifest.fingerprint_grid and min(luma.shape) >= MIN_COMPARE_SIDE:
            restored = np.ascontiguousarray(np.rot90(luma[:, ::-1] if mirrored else luma, turns))
            differences = fit(decode(manifest.fingerprint_grid), grid(restored)).differences()
            regions = tuple(changed_regions(differences, manifest.media.width, manifest.media.height))
        matched, at_s = _how(manifest, match.entry)
        found = PhotoMatch(manifest.manifest_id, match.distance, matched, mirrored, turns, regions, at_s)
        return AppearanceEvidence(True, match=found, **base), manifest
    return AppearanceEvidence(True, **base), None


def clip(samples: list[tuple[float, bytes]], ctx: Context) -> tuple[AppearanceEvidence, Manifest | None]:
    """Search the index for a clip without a usable watermark: do its sampled frames
    (time in the clip, fingerprint) line up with one stretch of a signed video?"""
    base = {"indexed_fingerprints": len(ctx.index), "max_distance": MATCH_DISTANCE, "samples": len(samples)}
    # (manifest, offset in steps) -> sample -> (its time, distance, time in the original).
    # A sample votes for its offset and both neighbours: frame times rarely fall exactly
    # on the original's quarter-second grid.
    votes: dict[tuple[str, int], dict[int, tuple[float, int, float]]] = defaultdict(dict)
    for match in ctx.index.search([h for _, h in samples]):
        t, original_t = samples[match.query][0], match.entry * STEP
        offset = round((original_t - t) / STEP)
        for key in ((match.manifest_id, offset - 1), (match.manifest_id, offset), (match.manifest_id, offset + 1)):
            votes[key].setdefault(
                match.query, (t, match.distance, original_t)
            )  # nearest first, so the first is the best
    for (manifest_id, _), hits in sorted(votes.items(), key=lambda kv: -len(kv[1])):
        if len(hits) < max(MIN_VIDEO_VOTES, len(samples) // 2):
            break
        manifest = trusted_manifest(manifest_id, ctx)
        if manifest is None or not manifest.media.is_video:
            continue
        times = sorted(t for t, _, _ in hits.values())
        shift = float(np.median([o - t for t, _, o in hits.values()]))
        median_distance = int(np.median([d for _, d, _ in hits.values()]))
        found = ClipMatch(manifest_id, len(hits), median_distance, max(0.0, times[0] + shift), times[-1] + shift)
        return AppearanceEvidence(bool(samples), match=found, **base), manifest
    return AppearanceEvidence(bool(samples), **base), None
