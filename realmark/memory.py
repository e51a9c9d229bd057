"""Keeping a long-running process's memory where its work is.

glibc's allocator raises its mmap threshold each time a large block is freed (up to 32
MiB), so after the first few decoded photos, megabyte-sized pixel arrays come from the
heap and their pages stay with the process when freed: resident memory then follows the
largest moments of the past, not the work at hand (a 10-minute soak of the service
swung ±19 % around a flat mean). Fixing the threshold at 1 MiB sends every such array to
its own mapping, given back to the system the moment it is freed. Small objects are
untouched. A no-op where the C library is not glibc."""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
LARGE_BLOCK = 1 << 20  # a 1080p picture's planes and their float copies are all larger
TRIM_ABOVE = 4 << 20  # free heap pages past this at the top are given back too


def give_back_freed_memory() -> bool:
    """Set the allocator as above for this process; False where that is not possible."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_ABOVE))
