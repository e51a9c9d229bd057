"""The sound of a clip or of an audio file, decoded by PyAV and mixed down for hashing.

Both the signer and the verifier hear a file the same way: its first audio stream,
resampled by FFmpeg (swresample) to mono at realmark.fingerprint.audio.SAMPLE_RATE."""

from __future__ import annotations

import av
import numpy as np

from realmark.errors import BadInput
from realmark.fingerprint.audio import SAMPLE_RATE

MAX_SOUND_SECONDS = 4 * 3600  # as for clips: 80 MB of samples at most


def _start(stream) -> float | None:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else None


def mono_samples(container) -> np.ndarray:
    """The first audio stream of an open container, mono float32 at SAMPLE_RATE. Sample 0
    is the moment the first picture is shown when there are pictures (sound that starts
    later is padded with silence, earlier is cut), so sound and pictures share one clock.
    Empty when there is no audio stream."""
    if not container.streams.audio:
        return np.zeros(0, np.float32)
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    total = 0
    lead = None  # samples of silence before the sound (negative: sound to cut)
    pictures = _start(container.streams.video[0]) if container.streams.video else None
    try:
        for frame in container.decode(stream):
            if lead is None:
                lead = (
                    round((frame.time - pictures) * SAMPLE_RATE)
                    if pictures is not None and frame.time is not None
                    else 0
                )
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
                total += len(parts[-1])
            if total > MAX_SOUND_SECONDS * SAMPLE_RATE:
                raise BadInput(f"the sound lasts more than {MAX_SOUND_SECONDS} s")
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        raise BadInput(
            f"the sound is damaged or truncated ({getattr(exc, 'strerror', None) or type(exc).__name__})"
        ) from None
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    if lead and lead > 0:
        samples = np.concatenate([np.zeros(min(lead, MAX_SOUND_SECONDS * SAMPLE_RATE), np.float32), samples])
    elif lead:
        samples = samples[-lead:]
    return samples
