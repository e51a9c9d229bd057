"""Keep large numpy buffers in the heap between calls (glibc only; elsewhere a no-op).

Reading a mark allocates and frees buffers of 0.1-10 MB by the hundred (a fold's cell
indices, a plane's spectrum, a tile stack). glibc serves blocks over 128 kB with fresh
mmap pages and trims the heap's free top above 128 kB, so each of those buffers was
page-faulted in anew: measured on this project's build machine, a fold along a lattice
took 1.35-1.6 ms of which two thirds were page faults, and 0.5 ms with the thresholds
below (bench.watermark shows the whole effect). Blocks over MMAP_THRESHOLD (a 4K frame's
planes) still come and go as their own mappings, and a process keeps at most
TRIM_THRESHOLD of freed heap per arena.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MMAP_THRESHOLD = 16 << 20
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_buffers() -> bool:
    """Set the process's allocator thresholds; True when it took (glibc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
