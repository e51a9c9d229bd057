"""Verify a photo: watermark -> manifest -> signature and trust -> content comparison."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from realmark.fingerprint import ALG as FINGERPRINT_ALG
from realmark.fingerprint import COPY_DISTANCE, Fingerprint, fingerprint_luma
from realmark.fingerprint.grid import (
    COLOUR_BOOST,
    MAX_CELL_DIFFERENCE,
    Box,
    changed_regions,
    clipping,
    colourfulness,
    decode,
    fit,
    grid,
    matching_share,
)
from realmark.fingerprint.published import changes_from_file
from realmark.manifest import Manifest
from realmark.media.image import load_photo, luma8
from realmark.watermark import extract
from realmark.watermark.codec import Reading, orient, working_size
from realmark.watermark.presence import (
    Detail,
    Fading,
    MarkLoss,
    Presence,
    blocks_of,
    detail_regions,
    masking,
    working,
)

from . import appearance, decide
from .context import Context
from .evidence import (
    Evidence,
    ExactContent,
    PhotoContent,
    ReframedContent,
    SamePixelsContent,
    SignatureEvidence,
    WatermarkEvidence,
)
from .manifests import lookup, published_manifest
from .placement import place
from .result import Verification


def verify_photo(data: bytes, ctx: Context) -> Verification:
    """The verdict on a photo's bytes. Raises BadInput only for unreadable input."""
    published = published_manifest(hashlib.sha256(data).hexdigest(), ctx)
    if published is not None and not published.media.is_video:
        # The published file itself, byte for byte (the most common upload of all): its
        # record says everything, so it is neither decoded nor read.
        mark, signature = WatermarkEvidence.not_read(published), SignatureEvidence(published.key_id, True)
        decision = decide.published_file()
        return Verification(decision.verdict, decision.reasons, published, Evidence(mark, signature, ExactContent()))
    photo = load_photo(data)
    luma = luma8(photo.rgb)  # what the mark, the appearance, the maps and the comparison read
    work = working(luma)  # the working grid: what the mark and the maps are read on
    work.setflags(write=False)
    reading = extract(luma, work)
    mark = WatermarkEvidence.of(reading)
    searched = None
    if reading.wm_id is None and ctx.index is not None:
        searched, manifest = appearance.photo(luma, ctx)
        if manifest is not None:
            decision = decide.photo_by_appearance(bool(searched.match.changed_regions))
            return Verification(decision.verdict, decision.reasons, manifest, Evidence(mark, appearance=searched))
    found = lookup(reading.wm_id, ctx)
    if found.manifest is None:
        decision = decide.without_record(found.problem)
        return Verification(
            decision.verdict, decision.reasons, None, Evidence(mark, found.signature, appearance=searched)
        )
    frame = (photo.rgb.shape[1], photo.rgb.shape[0])
    signed = (found.manifest.media.width, found.manifest.media.height)
    mark = replace(mark, placement=place(reading, frame, signed))
    if mark.moved:
        decision = decide.moved(mark, clip=False)
        evidence = Evidence(mark, found.signature, ReframedContent(reading.scale))
        return Verification(decision.verdict, decision.reasons, found.manifest, evidence)
    # The published pixels in another file (verifier/pixels.py): nothing to compare.
    if not (reading.mirrored or reading.turns) and ctx.published_pixels.same(photo, found.manifest):
        decision = decide.published_pixels()
        evidence = Evidence(mark, found.signature, SamePixelsContent())
        return Verification(decision.verdict, decision.reasons, found.manifest, evidence)
    # A mirrored or turned re-upload is compared turned back: the picture is the same.
    restored = np.ascontiguousarray(orient(photo.rgb, reading.mirrored, reading.turns))
    restored_luma = np.ascontiguousarray(orient(luma, reading.mirrored, reading.turns))
    turned = reading.mirrored or reading.turns

    def judged(rgb: np.ndarray, luma: np.ndarray, work: np.ndarray | None) -> tuple[PhotoContent, decide.Decision]:
        content = compare(data, rgb, luma, found.manifest, reading, dithered=photo.palette, work=work)
        decision = decide.photo(mark, content)
        if decision.authentic and not content.exact_match:
            content = _against_published(content, rgb, luma, found.manifest, ctx)
            decision = decide.photo(mark, content)
        return content, decision

    content, decision = judged(restored, restored_luma, None if turned else work)
    flat = flat_frame(luma) if content.changed_regions and mark.placement is not None else None
    frame = _framing(flat, mark.placement) if flat is not None else None
    if frame is not None:
        # A thin flat frame (a screenshot's, an editor's border) is within the sizes a
        # whole copy may differ by, but compared with the picture, its sharp inner edge
        # is detail gained all along the edge blocks, and content pushed aside in the
        # published file's comparison. The picture inside it (_framing) is judged too,
        # and kept where it has fewer changed regions, none dropped away from the edge:
        # the frame may be the signed picture's own.
        top, right, bottom, left = frame
        inside = (slice(top, luma.shape[0] - bottom), slice(left, luma.shape[1] - right))
        framed = judged(
            np.ascontiguousarray(orient(photo.rgb[inside], reading.mirrored, reading.turns)),
            np.ascontiguousarray(orient(luma[inside], reading.mirrored, reading.turns)),
            None,
        )
        if _only_edges_dropped(content.changed_regions, framed[0].changed_regions or (), found.manifest):
            content, decision = framed
    return Verification(decision.verdict, decision.reasons, found.manifest, Evidence(mark, found.signature, content))


def compare(
    data: bytes,
    rgb: np.ndarray,
    luma: np.ndarray,
    manifest: Manifest,
    reading: Reading,
    dithered: bool = False,
    work: np.ndarray | None = None,
) -> PhotoContent:
    """The submitted photo (turned back as signed, and its luma8) against the signed one: file hash,
    global fingerprint, and where they differ: the 32x32 grid's cells
    (realmark.fingerprint.grid) and the blocks where the mark or the fine detail is
    gone (realmark.watermark.presence), each judged against how much the copy's filter
    scaled detail there (`scaled`, grid.Fit.contrast), both maps measured on one working plane (`work`)."""
    exact = hashlib.sha256(data).hexdigest() == manifest.media.sha256
    base = PhotoContent(exact, manifest.fingerprint_alg, COPY_DISTANCE)
    if exact or manifest.fingerprint_alg != FINGERPRINT_ALG or manifest.fingerprint_grid is None:
        return base
    distance = Fingerprint.from_hex(manifest.fingerprint_hash).distance(fingerprint_luma(luma))
    signed, copy = decode(manifest.fingerprint_grid), grid(luma)
    filtered = fit(signed, copy)
    colour = (manifest.colourfulness, colourfulness(rgb)) if manifest.colourfulness is not None else None
    differences = filtered.differences(clipping(rgb) if any(filtered.clips(colour)) else None, colour)
    width, height = manifest.media.width, manifest.media.height
    changed = changed_regions(differences, width, height)
    scaled = filtered.contrast()
    # The maps are the signed picture's blocks: a copy of all of it is measured on the
    # signed picture's working grid. On its own, a copy squashed or stretched by half a
    # percent, or short of a pixel or two, had its grid cells drift from the signed ones
    # by up to 2 across the picture, so the mark's chips no longer lined up at the far
    # side and its blocks there "lost" the mark.
    if work is None or work.shape != working_size(width, height)[::-1]:
        work = working(luma, (width, height))
    details = _details(work, manifest)
    unmarked, faded = _unmarked(work, manifest, reading, scaled, dithered, details)
    redrawn = _redrawn(manifest, details, scaled, dithered)
    return PhotoContent(
        exact,
        manifest.fingerprint_alg,
        COPY_DISTANCE,
        fingerprint_distance=distance,
        max_cell_difference=round(float(differences.max()), 1),
        cell_threshold=MAX_CELL_DIFFERENCE,
        changed_regions=tuple(changed + unmarked + redrawn),
        unmarked_regions=tuple(unmarked),
        detail_regions=tuple(redrawn),
        matching_share=round(matching_share(signed, copy), 2),
        look=filtered.look(colour),
        fading=faded,
    )


def _against_published(
    content: PhotoContent, rgb: np.ndarray, luma: np.ndarray, manifest: Manifest, ctx: Context
) -> PhotoContent:
    """A copy the manifest's maps call unchanged, against the published file itself: an
    expression warped by a few pixels keeps every map, and a small pasted face can
    (realmark.fingerprint.published). Costs a fetch and a decode of the published file,
    so only copies that would be called authentic pay it; without the file (a deployment
    that removed it), the maps' answer stands."""
    published = ctx.records.published_bytes(manifest.manifest_id, manifest.media.sha256)
    if published is None:
        return content
    look = content.look
    clipped = look is not None and look.clipped
    boosted = look is not None and (look.colourfulness_change or 0) >= COLOUR_BOOST
    found = changes_from_file(published, manifest.media.sha256, rgb, luma, filter_clips=clipped, colour_boosted=boosted)
    # Blocks pushed a pixel or two, too few for a region, where the mark faded too: a warp
    # over faint texture (realmark.watermark.presence, FADED_SIGMAS). Looked at only where
    # the comparison found no moved region: with one, the copy is altered already.
    moved = found.moved
    if content.fading is not None and not found.moved:
        moved += tuple(content.fading.regions_with(found.stirred))
    return replace(
        content,
        changed_regions=(content.changed_regions or ()) + moved + found.replaced,
        moved_regions=moved,
        replaced_regions=found.replaced,
    )


# A flat frame: up to this share of a side (at least FRAME_MIN_PX) of lines along an
# edge whose neighbouring pixels differ by FRAME_FLATNESS levels or less on average, all
# within FRAME_COLOUR levels of the outermost line. JPEG keeps a 2 px black border on
# photos within 0.2-1.2 levels of flat; the first line of picture after it differed by
# 1.0-4.4 on the bench's photos, and in colour by 8-170.
FRAME_SHARE = 0.01
FRAME_MIN_PX = 4
FRAME_FLATNESS = 1.5
FRAME_COLOUR = 6.0


# The mark's geometry puts a whole copy's edges within 1.4 px of where they are (22
# photos in 1-2 px frames, JPEG q85).
FRAME_AGREEMENT_PX = 2.5


def _framing(flat: tuple[int, int, int, int], placement) -> tuple[int, int, int, int] | None:
    """(top, right, bottom, left) px to cut off a copy, from the flat bands along its
    edges (flat_frame) and where the mark puts the picture's edges; None when the mark
    puts an edge beyond a band (the picture is not all inside it) or nothing is cut.

    A band as wide as the picture's margin (within FRAME_AGREEMENT_PX) is a frame, cut
    exactly; so, at a margin of 0, may be a flat line or two of the picture's own edge,
    which the geometry cannot tell from a 1-2 px frame (the judgement inside it is then
    kept only where it is better, and only for changes at the edge). A band running on
    into the picture (a black frame on the retina's black surround) is cut where the
    mark puts the edge, and the rest kept: a band the mark puts inside the picture is
    the picture's (the retina's surround, 8-12 px), and judged without it, out of
    register, warps there had passed as `authentic`."""
    fw, fh = placement.frame
    left, top, right, bottom = placement.box
    margins = (top, fw - right, fh - bottom, left)
    cut = []
    for band, margin in zip(flat, margins, strict=True):
        if band < margin - FRAME_AGREEMENT_PX:
            return None
        cut.append(band if band <= margin + FRAME_AGREEMENT_PX else max(0, round(margin)))
    return tuple(cut) if any(cut) else None


def _only_edges_dropped(regions: tuple[Box, ...], framed: tuple[Box, ...], manifest: Manifest) -> bool:
    """Whether judging inside the frame gave fewer changed regions, each one it no longer
    has at the picture's edge (within a presence block): a frame's artefacts lie along
    it, and an edit further in must not be cut away with the frame."""
    if len(framed) >= len(regions):
        return False
    width, height = manifest.media.width, manifest.media.height
    rows, cols = blocks_of(width, height)
    reach_x, reach_y = width / cols, height / rows

    def at_edge(b: Box) -> bool:
        return (
            b.x <= reach_x or b.y <= reach_y or b.x + b.width >= width - reach_x or b.y + b.height >= height - reach_y
        )

    return all(at_edge(b) for b in regions if not any(b.overlaps(kept) for kept in framed))


def flat_frame(luma: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, right, bottom, left): how many lines along each edge of an 8-bit luma plane
    are flat and of the outermost line's colour (one more than the limit where the band
    runs on: the picture's own flat edge may continue a frame's); None when none is."""
    widths = []
    for plane in (luma, np.rot90(luma, 1), np.rot90(luma, 2), np.rot90(luma, 3)):  # each side on top in turn
        limit = max(FRAME_MIN_PX, round(FRAME_SHARE * plane.shape[0]))
        lines = plane[: limit + 1].astype(np.float32)
        flat = (np.abs(np.diff(lines, axis=1)).mean(axis=1) <= FRAME_FLATNESS) & (
            np.abs(lines.mean(axis=1) - float(np.median(lines[0]))) <= FRAME_COLOUR
        )
        widths.append(int(np.argmin(flat)) if not flat.all() else min(limit + 1, plane.shape[0]))
    return tuple(widths) if any(widths) else None


def _details(work: np.ndarray, manifest: Manifest) -> tuple[Detail, Detail] | None:
    """The signed picture's detail map and the copy's (None when the manifest predates
    detail maps)."""
    if manifest.fingerprint_detail is None:
        return None
    width, height = manifest.media.width, manifest.media.height
    return Detail.decode(manifest.fingerprint_detail, width, height), Detail.of(work)


def _redrawn(
    manifest: Manifest, details: tuple[Detail, Detail] | None, scaled: np.ndarray, dithered: bool
) -> list[Box]:
    """Where the copy lost the signed picture's fine detail or gained detail where it had
    little (none without detail maps; only lost in a dithered copy)."""
    if details is None:
        return []
    return detail_regions(*details, manifest.media.width, manifest.media.height, scaled, dithered)


def _unmarked(
    work: np.ndarray,
    manifest: Manifest,
    reading: Reading,
    scaled: np.ndarray,
    dithered: bool,
    details: tuple[Detail, Detail] | None,
) -> tuple[list[Box], Fading | None]:
    """Where the signed picture carried its mark and this copy does not (none when the
    manifest predates presence maps, and none in a dithered copy), and where it faded
    (presence.MarkLoss.fading).

    A palette copy (a GIF) is not judged by where its mark went: 256 colours draw a dark
    or smooth area with a few of them, and the dither there replaces the mark's shading
    with its own. Of 846 genuine dithered GIFs of the signed astronaut (282 random
    watermark ids; 480, 960 and 1920 px), one lost its mark in a 100 px patch beside a
    dark edge: a false "altered" (tests/test_cli_photo.py keeps that id). The grid and
    the lost detail still judge such a copy."""
    if dithered or manifest.watermark_presence is None or reading.wm_id is None:
        return [], None
    width, height = manifest.media.width, manifest.media.height
    signed = Presence.decode(manifest.watermark_presence, width, height)
    copy = Presence.of(work, reading.wm_id, reading.offset)
    # Noise the copy added (grain) lowers the mark's z most where the picture was smooth.
    noise = masking(*details) if details is not None else None
    loss = MarkLoss.of(signed, copy, width, height, scaled, noise)
    return ([], None) if loss is None else (loss.lost_regions(), loss.fading())
