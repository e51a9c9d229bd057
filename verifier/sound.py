"""Does a copy's sound match the signed clip's sound where its pictures say it should?

Evidence: the signed clip's sound print (realmark.fingerprint.audio, in the manifest) and
the copy's, computed four times as finely. Rules, per official stretch of pictures:
- the sound is lined up with its pictures (to within NEAR_S), and each BLOCK_S block is
  compared there: another voice, cut, inserted or re-ordered words, and sound out of
  step with the pictures leave blocks whose bits disagree (changed);
- frames that were quiet in the original must stay quiet: music or words laid into the
  pauses are changed;
- and the stretch as a whole must agree as well as a re-encode does: music laid under a
  voice moves every block's bits a little (changed).

Without pictures to follow (an audio file, a clip whose pictures were re-framed), the
offset is searched over the whole original (`trace`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from realmark.fingerprint.audio import (
    ENVELOPE_FRAME,
    ENVELOPE_HOP,
    LEVEL_FLOOR_DB,
    LEVEL_STEP_DB,
    QUERY_HOP,
    SAMPLE_RATE,
    STORED_HOP,
    SoundPrint,
    band_levels,
    bit_errors,
    sound_print,
)
from realmark.index.sound import SoundIndex

from .timeline import Range

BLOCK_S = 1.0  # seconds of sound judged together: a replaced word or two
# Bit error rates (of 32 bits a frame) over a block's loud frames. Measured (README
# "Sound"): AAC 64-256 kbit/s, Opus 32 kbit/s, MP3, resampling and gain 0.00-0.15 a block,
# 0.00-0.09 over a clip; another voice 0.42-0.46; music laid under speech 0.12-0.34.
MAX_BLOCK_BER = 0.25
MAX_MEAN_BER = 0.13  # over a stretch of at least MEAN_MIN_S: music laid under the sound
MEAN_MIN_S = 3.0
NEAR_S = 0.07  # sound within this of its pictures is in step: they are placed to a frame (42 ms at 24 fps),
# and AAC adds 23 ms of priming; bits decorrelate within 0.1 s (0.28 at 70 ms off, 0.55 at 140 ms),
# so sound 0.2 s out of step fails every block
SEARCH_S = 1.5  # how far the sound's own offset is looked for, to report how far out of step it is
FINE_STEPS = 2  # query hops (5.8 ms each) a block may drift from its stretch's offset: resampling, VFR
LOUD_DB = 30  # frames within this of the original's loud level (its 90th percentile) are compared by their bits
QUIET_KEPT_DB = 18  # a frame quiet in the original must stay at least this far below the loud level in the copy
QUIET_FAIL_SHARE = 0.25  # of a block's quiet frames: more than this, raised, and sound was laid into pauses
MIN_LOUD_FRAMES = 8  # of a block's 43: fewer, and its bits say too little; its levels still count
# Added energy, per band-and-time cell of the envelope (realmark.fingerprint.audio), beyond
# the copy's overall gain. Measured over the bench's three clips, whose sound is a voice
# over a music bed (README "Sound"): AAC 64-256 kbit/s, Opus, MP3, loudness
# normalisation, resampling and mono 22 kHz raise at most 0.3 % of a clip's cells and
# 1.4 % of a second's; another music laid 8-14 dB under raises 2.9-7.9 % of a clip's
# (18 cases), 4.9-12.9 % of its worst second's.
ADDED_DB = 6.0
ENVELOPE_RANGE_DB = 45.0  # cells this far below the original's loud cells (95th percentile) are not judged
MAX_BLOCK_ADDED = 0.12  # share of a block's cells: a sound laid into one second
MAX_MEAN_ADDED = 0.015  # share of a stretch's cells: five times what re-encodes raise, half the quietest music
MIN_CELLS = 16  # audible cells a judgement of added energy needs
HEARD_DB = -60.0  # dBFS a frame's level must reach for a file to have sound at all (a silent track has none)
_RATIO = STORED_HOP // QUERY_HOP


class Heard(StrEnum):
    """What became of the signed clip's sound in the copy."""

    MATCHES = "matches"  # compared, and every part matches where its pictures are
    CHANGED = "changed"  # compared, and some part does not (ranges say which)
    ADDED = "added"  # the signed clip is silent; the copy has sound
    MUTED = "muted"  # the signed clip has sound; the copy has none
    SILENT = "silent"  # neither has sound
    NOT_COMPARED = "not_compared"  # no official stretch of pictures to follow (re-framed, cropped ...)


@dataclass(frozen=True)
class SoundCheck:
    """The verdict-relevant facts about a clip's sound."""

    status: Heard
    ranges: tuple[Range, ...] = ()  # "official" or "changed", in the copy's time
    mean_bit_error: float | None = None
    shift_s: float | None = None  # the sound's offset from its pictures' (None when not measured)

    @property
    def changed(self) -> bool:
        return self.status in (Heard.CHANGED, Heard.ADDED)

    def to_dict(self) -> dict:
        out: dict = {"status": str(self.status), "ranges": [r.to_dict() for r in self.ranges]}
        if self.mean_bit_error is not None:
            out["mean_bit_error"] = round(self.mean_bit_error, 3)
            out["max_block_bit_error"] = MAX_BLOCK_BER
        if self.shift_s is not None:
            out["shift_s"] = round(self.shift_s, 3)
        return out


def audible(heard: SoundPrint | Copy | None) -> bool:
    """Is there any sound at all (a muted upload often keeps a silent track)?"""
    heard = heard.print if isinstance(heard, Copy) else heard
    return (
        heard is not None
        and bool(len(heard))
        and float(heard.levels.max()) * LEVEL_STEP_DB + LEVEL_FLOOR_DB >= HEARD_DB
    )


@dataclass(frozen=True)
class Copy:
    """A submitted sound: its samples (mono, SAMPLE_RATE) and its fine print."""

    samples: np.ndarray
    print: SoundPrint

    @classmethod
    def of(cls, samples: np.ndarray) -> Copy:
        return cls(samples, sound_print(samples, hop=QUERY_HOP))

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE


class _Pair:
    """The original's stored print against a copy, at offsets (original time = copy time
    + offset, in QUERY_HOP steps)."""

    def __init__(self, original: SoundPrint, copy: Copy):
        self.original, self.copy, self.samples = original, copy.print, copy.samples
        levels = original.levels.astype(np.float64)
        self.loud_level = float(np.percentile(levels, 90)) if len(levels) else 0.0
        self.loud = levels >= self.loud_level - LOUD_DB
        envelope = original.envelope if original.envelope is not None else np.zeros((0, 16), np.uint8)
        self.envelope = envelope.astype(np.float64)
        self.envelope_loud = float(np.percentile(self.envelope, 95)) if envelope.size else 0.0

    def added(self, clip_start: float, clip_end: float, offset_steps: int, gain: float) -> tuple[int, int]:
        """(cells with added energy, cells judged): the original's audible band-and-time
        cells in [clip_start, clip_end) of the copy, and how many of them the copy adds
        energy to, as a sound laid under does."""
        shift = offset_steps * QUERY_HOP
        e_lo = max(0, int(np.ceil((clip_start * SAMPLE_RATE + shift) / ENVELOPE_HOP)))
        e_hi = min(len(self.envelope), int(np.ceil((clip_end * SAMPLE_RATE + shift) / ENVELOPE_HOP)))
        e = np.arange(e_lo, max(e_lo, e_hi))
        at = e * ENVELOPE_HOP - shift  # where each envelope frame starts in the copy
        e = e[(at >= 0) & (at <= len(self.samples) - ENVELOPE_FRAME)]
        if not len(e):
            return 0, 0
        original = self.envelope[e]
        copy = band_levels(self.samples, e * ENVELOPE_HOP - shift)
        audible = original >= self.envelope_loud - ENVELOPE_RANGE_DB
        return int((copy[audible] - original[audible] - gain > ADDED_DB).sum()), int(audible.sum())

    def frames(self, clip_start: float, clip_end: float, offset_steps: int):
        """(original frame indices, copy frame indices) of original frames whose copy
        frame, offset_steps query hops after the copy's frame at the same time, lies in
        [clip_start, clip_end) of the copy. Offset: original time = copy time + offset."""
        o, c = self.original, self.copy
        # copy sample position of stored frame k: k * STORED_HOP + o.start - offset
        shift = offset_steps * QUERY_HOP
        k_lo = max(0, int(np.ceil((clip_start * SAMPLE_RATE + shift - o.start) / STORED_HOP)))
        k_hi = min(len(o), int(np.ceil((clip_end * SAMPLE_RATE + shift - o.start) / STORED_HOP)))
        k = np.arange(k_lo, max(k_lo, k_hi))
        j = (k * STORED_HOP + o.start - shift - c.start) // QUERY_HOP
        ok = (j >= 0) & (j < len(c))
        return k[ok], j[ok]

    def errors(self, clip_start: float, clip_end: float, offset_steps: int) -> tuple[float, int]:
        """(mean bit error rate over loud frames, how many loud frames)."""
        k, j = self.frames(clip_start, clip_end, offset_steps)
        loud = self.loud[k]
        if not loud.any():
            return 1.0, 0
        return float(bit_errors(self.original.bits[k[loud]], self.copy.bits[j[loud]]).mean() / 32), int(loud.sum())

    def best_offset(self, clip_start: float, clip_end: float, around_steps: int, reach_steps: int):
        """(steps, error rate) of the best offset within reach of around_steps."""
        best = (around_steps, 1.0)
        for d in range(around_steps - reach_steps, around_steps + reach_steps + 1):
            e, n = self.errors(clip_start, clip_end, d)
            if n and e < best[1]:
                best = (d, e)
        return best

    def gain(self, clip_start: float, clip_end: float, offset_steps: int) -> float:
        """How much louder the copy is than the original (dB), over loud frames."""
        k, j = self.frames(clip_start, clip_end, offset_steps)
        loud = self.loud[k]
        if not loud.any():
            return 0.0
        return float(np.median(self.copy.levels[j[loud]].astype(np.float64) - self.original.levels[k[loud]]))

    def pauses_filled(self, clip_start: float, clip_end: float, offset_steps: int, gain: float) -> bool:
        """Was sound laid into the original's quiet frames in this stretch of the copy?"""
        k, j = self.frames(clip_start, clip_end, offset_steps)
        quiet = ~self.loud[k]
        if quiet.sum() < 4:
            return False
        raised = self.copy.levels[j[quiet]] > self.loud_level + gain - QUIET_KEPT_DB
        return bool(raised.mean() > QUIET_FAIL_SHARE)


def _steps(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE / QUERY_HOP)


def _blocks(start: float, end: float) -> list[tuple[float, float]]:
    n = max(1, round((end - start) / BLOCK_S))
    edges = np.linspace(start, end, n + 1)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def _judge(pair: _Pair, start: float, end: float, offset_steps: int) -> list[Range]:
    """Official and changed pieces of [start, end) of the copy, at one offset."""
    offset = offset_steps * QUERY_HOP / SAMPLE_RATE
    gain = pair.gain(start, end, offset_steps)
    verdicts, judged = [], []
    for a, b in _blocks(start, end):
        _, e = pair.best_offset(a, b, offset_steps, FINE_STEPS)
        _, loud = pair.errors(a, b, offset_steps)
        raised, cells = pair.added(a, b, offset_steps, gain)
        bad = (
            (loud >= MIN_LOUD_FRAMES and e > MAX_BLOCK_BER)
            or pair.pauses_filled(a, b, offset_steps, gain)
            or (cells >= MIN_CELLS and raised > MAX_BLOCK_ADDED * cells)
        )
        verdicts.append((a, b, bad))
        judged.append((e, loud, raised, cells))
    # The stretch as a whole is judged on the blocks that pass alone and are not beside one
    # that fails: a block holding the edge of a replaced voice passes alone, but adds to
    # the stretch's mean what is a local change, not a sound laid under all of it.
    clean = [
        i
        for i, (_, _, bad) in enumerate(verdicts)
        if not bad and not any(verdicts[j][2] for j in (i - 1, i + 1) if 0 <= j < len(verdicts))
    ]
    if clean and sum(verdicts[i][1] - verdicts[i][0] for i in clean) >= MEAN_MIN_S - 1e-9:
        loud = sum(judged[i][1] for i in clean)
        raised, cells = sum(judged[i][2] for i in clean), sum(judged[i][3] for i in clean)
        laid_under = cells >= MIN_CELLS and raised > MAX_MEAN_ADDED * cells
        if laid_under or (loud and sum(judged[i][0] * judged[i][1] for i in clean) / loud > MAX_MEAN_BER):
            verdicts = [(a, b, True) for a, b, _ in verdicts]
    out: list[Range] = []
    for a, b, bad in verdicts:
        kind = "changed" if bad else "official"
        if out and out[-1].kind == kind:
            last = out[-1]
            out[-1] = Range(kind, last.clip_start, b, *(() if bad else (last.original_start, b + offset)))
        else:
            out.append(Range(kind, a, b) if bad else Range(kind, a, b, a + offset, b + offset))
    return out


def along_pictures(original: SoundPrint | None, copy: Copy | None, pictures: list[Range]) -> SoundCheck:
    """Check the copy's sound against the original (None: the signed clip is silent) along
    the pictures' ranges (official ones are mapped to the original)."""
    if not audible(original):
        if audible(copy) and pictures:
            return SoundCheck(Heard.ADDED, (Range("changed", pictures[0].clip_start, pictures[-1].clip_end),))
        return SoundCheck(Heard.SILENT)
    if not audible(copy):
        return SoundCheck(Heard.MUTED)
    stretches = [r for r in pictures if r.kind == "official" and r.original_start is not None]
    if not stretches:
        return SoundCheck(Heard.NOT_COMPARED)
    pair = _Pair(original, copy)
    ranges: list[Range] = []
    errors, shifts = [], []
    for r in stretches:
        pictures = _steps(r.original_start - r.clip_start)
        steps, e = pair.best_offset(r.clip_start, r.clip_end, pictures, _steps(NEAR_S))
        errors.append(e)
        # Where the sound of this stretch sits, if not with its pictures (for the record).
        away, e_away = pair.best_offset(r.clip_start, r.clip_end, pictures, _steps(SEARCH_S))
        shifts.append((away - pictures) * QUERY_HOP / SAMPLE_RATE if e_away <= MAX_BLOCK_BER else 0.0)
        ranges += _judge(pair, r.clip_start, r.clip_end, steps)
    status = Heard.CHANGED if any(r.kind == "changed" for r in ranges) else Heard.MATCHES
    return SoundCheck(status, tuple(ranges), float(np.mean(errors)), max(shifts, key=abs))


def anywhere(original: SoundPrint | None, copy: Copy | None) -> SoundCheck:
    """Check the copy's sound against the original where it best fits, with no pictures
    to follow (a clip re-framed or cropped: its pictures are not mapped)."""
    if not audible(original):
        end = copy.duration_s if copy is not None else 0.0
        return SoundCheck(Heard.ADDED, (Range("changed", 0.0, end),)) if audible(copy) else SoundCheck(Heard.SILENT)
    if not audible(copy):
        return SoundCheck(Heard.MUTED)
    index = SoundIndex()
    index.add("original", original)
    found = index.search(copy.print)
    if not found:
        return SoundCheck(Heard.CHANGED, (Range("changed", 0.0, copy.duration_s),))
    return trace(original, copy, found[0].offset_s)


def trace(original: SoundPrint, copy: Copy, offset_s: float) -> SoundCheck:
    """Check a sound with no pictures to follow, placed at offset_s in the original (found
    by the index), refining the offset first."""
    pair = _Pair(original, copy)
    end = copy.duration_s
    steps, e = pair.best_offset(0.0, end, _steps(offset_s), _steps(0.25))
    ranges = tuple(_judge(pair, 0.0, end, steps))
    status = Heard.CHANGED if any(r.kind == "changed" for r in ranges) else Heard.MATCHES
    return SoundCheck(status, ranges, e)
