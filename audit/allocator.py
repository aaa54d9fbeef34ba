"""glibc's allocator tuned for chunked work: memory freed after a chunk is kept for the next one.

Each chunk allocates and frees the same arrays (a few MB each). By default glibc gives
every allocation over 128 KB its own mapping and returns it to the system when freed,
so each chunk pays again for page faults: over a second of system time on 10 million
episodes. Kept in the heap, they are reused (benchmarks/RESULTS.md: 10M Parquet, system
time 1.3 -> 0.8 s; peak RSS unchanged). Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; whether it applied."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(option, value) == 1 for option, value in (
        (_M_MMAP_THRESHOLD, 32 << 20),  # glibc's largest: arrays up to 32 MB come from the heap
        (_M_TRIM_THRESHOLD, 1 << 30),  # keep up to 1 GB freed at the top of the heap
        (_M_TOP_PAD, 64 << 20),  # grow the heap 64 MB at a time
    ))
