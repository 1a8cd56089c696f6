"""Files the monitor writes for people (reports): atomically, and readable by their owner only.

Reports hold what the user watches for, like the database, so they get the database's 0600 too. A user who
publishes the Atom report through a web server grants read access on purpose (chmod, or a copy).

What `path` names is respected: a symlink is written through (its final target is replaced atomically, in the
target's own folder, so the link stays a link); a FIFO, a character device or a socket is written into directly,
since renaming a plain file over it would destroy it (as root, `-o /dev/full` once replaced the device node).
The text may be an iterable of chunks, so a large report streams to disk instead of being built in memory.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Iterable


def write_private(path: str | os.PathLike, text: str | Iterable[str]) -> Path:
    """Write text (UTF-8, newlines as given; a string or chunks of one) to path, mode 0600 for a new file.

    A regular file (or a new one) is written to a temporary file beside it and renamed over it, and the
    temporary file is removed whatever interrupts the write; anything else that is not a folder is written in
    place. Raises OSError (IsADirectoryError for a folder)."""
    path = Path(path)
    target = Path(os.path.realpath(path))  # the end of any chain of symlinks, dangling or not
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory", str(path))
    chunks = [text] if isinstance(text, str) else text
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
        return path
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=target.suffix)  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path
