"""glibc's malloc, set for a process that runs for weeks and now and then draws a picture.

A /progress chart is drawn on an image of some 18 MB, which Pillow allocates in blocks of
up to 16 MB. glibc serves so large a block with its own mmap and, when it is freed,
raises its mmap threshold to that size (mallopt(3): the dynamic threshold). From then on
blocks that size come from a worker thread's heap instead, and freed there they mostly
stay resident: the second chart left the bot some 30 MB larger, for good, and the third
no smaller. A threshold set explicitly is not raised: every block of 128 KiB or more is
mapped for itself and returned to the system when freed.

MALLOC_ARENA_MAX (fewer per-thread heaps) is the other usual lever: it changed the bot's
memory by less than 0.5 MB, idle or after charts, and is left at glibc's default.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt(3) parameter numbers, from glibc's <malloc.h>.
M_MMAP_THRESHOLD = -3
# glibc's default for the threshold, kept, only no longer raised as blocks are freed.
MMAP_THRESHOLD = 128 * 1024


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD for the rest of this process; whether
    it was set (not on another C library, which has no such threshold or no mallopt)."""
    try:
        libc = ctypes.CDLL(None)
        # A symbol only glibc has: musl's mallopt exists but does nothing.
        libc.gnu_get_libc_version  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("not glibc: its malloc is left as it is")
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
