"""One daemon per database: `<database>.lock` beside the database, held with fcntl.flock.

Why flock and not a pid file: the kernel releases the lock when the process ends in any way, SIGKILL included,
so a stale file never blocks a restart, and a recycled pid never looks alive. The file records the holder's pid
and start time for the refusal message and `monitor status` (which imports nothing heavy to read it).
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

from monitor.dates import now_utc, to_iso
from monitor.errors import MonitorError
from monitor.store.pg import is_url


class DaemonRunning(MonitorError):
    """Another `monitor run` holds the database's lock file."""


def lock_path(database: str) -> str:
    return database + ".lock"


def acquire_lock(database: str, config_path: str) -> int | None:
    """Take `<database>.lock` for this process and record pid and start time in it; raise DaemonRunning.
    None for a PostgreSQL database: several `monitor run` share one on purpose (they claim feeds, issue 16)."""
    if is_url(database):
        return None
    path = lock_path(database)
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:  # a folder or a symlink where the lock file goes, a read-only folder
        what = "is a directory" if os.path.isdir(path) else exc.strerror or str(exc)
        raise MonitorError(f"{path}: cannot take the daemon's lock file ({what}); it must be a plain file "
                           "beside the database: move it away") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise DaemonRunning(
            f"another `monitor run` (pid {holder.get('pid', '?')}, since {holder.get('started', '?')}) is already "
            f"running on {database}; stop it first (kill {holder.get('pid', 'PID')})") from None
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "started": to_iso(now_utc()),
                             "config": config_path}).encode())
    return fd


def running_daemon(database: str) -> dict[str, Any] | None:
    """{pid, started, config} of the daemon holding the database's lock, or None when none runs (always None
    for a PostgreSQL database: there a poll beside running daemons claims feeds as they do)."""
    if is_url(database):
        return None
    try:
        fd = os.open(lock_path(database), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(fd) or {"pid": None}
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
