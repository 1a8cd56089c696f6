"""Fewer glibc malloc arenas for the long-running, many-threaded daemon.

Why: glibc gives threads that contend for malloc arenas of their own, up to eight per core, and memory freed in
one is not reused by another, so a process of a dozen threads (the daemon: fetch threads, the writer, the
re-match, the scheduler) holds more than it uses. Measured with bench/growth.py's phase (`monitor run`
re-matching a million items while polling 500 new feeds): 333 MB peak RSS with the default, 306 MB with two
arenas. Python's own small objects do not use malloc arenas (pymalloc); article texts, numpy arrays and
SQLite's page cache do. MALLOC_ARENA_MAX in the environment, when set, is the operator's choice and wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(arenas: int = 2) -> bool:
    """Ask glibc for at most `arenas` malloc arenas; call before threads start. False where it does not apply
    (not Linux, not glibc, or MALLOC_ARENA_MAX set)."""
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1
