"""invisible-watermark's DCT methods (dwtDct, dwtDctSvd), the side-by-side baseline.

Its package __init__ imports torch (for rivaGan) even when only the DCT methods are
used, and its declared dependencies pull the CUDA build of torch. So it is installed with
--no-deps (scripts/bench.sh, scripts/test.sh) and its two DCT modules, which need only
numpy, OpenCV and PyWavelets, are loaded straight from their files, unchanged."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

PAYLOAD_BITS = 64
METHODS = {"dwtDct": ("maxDct.py", "EmbedMaxDct"), "dwtDctSvd": ("dwtDctSvd.py", "EmbedDwtDctSvd")}


def _load(filename: str, classname: str):
    spec = importlib.util.find_spec("imwatermark")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("invisible-watermark is not installed: pip install --no-deps invisible-watermark==0.2.0")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    module_spec = importlib.util.spec_from_file_location(f"_imwatermark_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, classname)


class Baseline:
    """embed(rgb, bits) -> rgb and extract(rgb) -> bits, as the package's encoder does them."""

    def __init__(self, method: str):
        self.name = method
        self._cls = _load(*METHODS[method])

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        out = self._cls(watermarks=[int(b) for b in bits], wmLen=len(bits)).encode(bgr)
        return np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8)[..., ::-1])

    def extract(self, rgb: np.ndarray) -> np.ndarray:
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        return np.asarray(self._cls(watermarks=[], wmLen=PAYLOAD_BITS).decode(bgr), dtype=np.uint8)
