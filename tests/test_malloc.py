"""monitor.malloc: the daemon's limit on glibc malloc arenas, and the operator's MALLOC_ARENA_MAX winning."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from conftest import REPO

from monitor.malloc import limit_arenas

glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="mallopt is glibc's")
def test_the_limit_is_taken_by_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_arenas(2) is True


def test_malloc_arena_max_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas(2) is False


@pytest.mark.skipif(not glibc, reason="mallopt is glibc's")
@pytest.mark.parametrize("limited", [False, True])
def test_threads_started_after_the_limit_share_two_arenas(limited):
    """Twelve threads allocating (1-4 KB: above Python's small-object allocator, below glibc's mmap threshold):
    glibc's malloc_stats counts more than two arenas without the limit, at most two with it."""
    code = ("import ctypes, sys, threading\n"
            "from monitor.malloc import limit_arenas\n"
            "if sys.argv[1] == 'limited': limit_arenas(2)\n"
            "def work():\n"
            "    keep = []\n"
            "    for i in range(100000):\n"
            "        keep.append(bytearray(1000 + i % 3000))\n"
            "        if len(keep) > 100: keep.clear()\n"
            "ts = [threading.Thread(target=work) for _ in range(12)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "ctypes.CDLL('libc.so.6').malloc_stats()\n")
    out = subprocess.run([sys.executable, "-c", code, "limited" if limited else "default"], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"}, cwd=str(REPO))
    arenas = out.stderr.count("Arena ")
    assert (1 <= arenas <= 2) if limited else arenas > 2, out.stderr
