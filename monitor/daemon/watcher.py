"""Live config: config.yaml watched while the daemon runs, a valid edit applied, a changed watch list re-matched.

A thread compares the file's (device, inode, mtime, size) every second, which also catches an editor's
rename-on-save, and SIGHUP asks for the same reload. The new file is validated completely first; an invalid
edit is logged with file, line and key and the old config keeps running (as Flexget does). A changed watch list
re-matches every stored item in batches (progress in the log); the watch list's hash is stored only when the
re-match finished, so one interrupted by a stop or a newer edit is redone, even after a restart.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from monitor.config import load_config
from monitor.errors import ConfigError, MonitorError

if TYPE_CHECKING:
    from monitor.daemon.service import Daemon
    from monitor.pipeline import Engine

log = logging.getLogger("monitor.daemon")
WATCH_POLL = 1.0  # seconds between looks at config.yaml


class ConfigWatcher:
    def __init__(self, daemon: "Daemon") -> None:
        self.daemon = daemon
        self._seen: tuple | None = None
        self._last_check = 0.0

    def start(self) -> None:
        threading.Thread(target=self._loop, name="config-watcher", daemon=True).start()

    def _signature(self) -> tuple | None:
        try:
            st = os.stat(self.daemon.config.path)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)

    def _loop(self) -> None:
        from monitor.rematch import watch_hash

        daemon = self.daemon
        self._seen = self._signature()
        try:
            with daemon.lock:
                matched_with = daemon.store.meta.matched_with()
            if matched_with != watch_hash(daemon.config):
                self.rematch(daemon.engine, "the watch list differs from the one the stored items were matched with")
        except MonitorError as exc:  # Stopped, or the database locked or full: the next edit or start redoes it
            log.error("rematch: %s", exc)
        while not daemon.stopping.wait(WATCH_POLL):
            current = self._signature()
            if current == self._seen and not daemon.reload_requested.is_set():
                continue
            why = "SIGHUP" if daemon.reload_requested.is_set() else "the file changed"
            daemon.reload_requested.clear()
            self._seen = current
            if current is None:
                log.warning("config: %s is gone; keeping the running config", daemon.config.path)
                continue
            try:
                self.reload(why)
            except Exception:  # the watcher must outlive any one reload
                log.exception("config: reload failed; keeping the running config")

    def reload(self, why: str = "asked") -> bool:
        """Load the file again; apply it when valid. False (and the old config kept) when it is not."""
        daemon = self.daemon
        try:
            new = load_config(daemon.config.path)
        except ConfigError as exc:
            log.error("config: invalid edit, keeping the running config: %s", exc,
                      extra={"config_error": {"file": exc.path, "line": exc.line, "key": exc.key}})
            return False
        old = daemon.config
        if new == old:
            log.info("config: reloaded (%s), nothing changed", why)
            return True
        if new.database != old.database:
            log.warning("config: database changed to %s; the daemon keeps %s until it is restarted",
                        new.database, old.database)
            new = replace(new, database=old.database)
        daemon.apply(new)
        log.info("config: reloaded (%s): %d feeds, %d watch entries", why, len(new.feeds), len(new.watch))
        if new.watch != old.watch:
            self.rematch(daemon.engine, "the watch list changed")
        return True

    def rematch(self, engine: "Engine", why: str) -> bool:
        """Match every stored item against the engine's watch list again (monitor.rematch), with progress in
        the log. False when a stop or a newer config interrupted it; it is then redone with the newer one."""
        from monitor.rematch import watch_hash
        from monitor.rematch import rematch

        if not self.daemon.leads():
            log.info("rematch: %s; left to the worker holding the monitor-wide lock", why)
            return True

        daemon = self.daemon
        log.info("rematch: %s; re-matching the stored items", why)
        last_log = [time.monotonic()]

        def progress(p) -> None:
            if time.monotonic() - last_log[0] >= 2.0:
                last_log[0] = time.monotonic()
                log.info("rematch: %d of %d items (%d%%), %d flags added, %d removed", p.done, p.total,
                         100 * p.done // max(p.total, 1), p.added, p.removed)

        def interrupted() -> bool:
            return (daemon.stopping.is_set() or daemon.engine is not engine or daemon.reload_requested.is_set()
                    or self._newer_edit())

        p = rematch(daemon.store, engine.matcher, lock=daemon.lock, interrupted=interrupted, progress=progress,
                    config=engine.config)
        if not p.finished:
            log.info("rematch: interrupted after %d of %d items; it starts again with the newer config",
                     p.done, p.total)
            return False
        with daemon.lock, daemon.store.transaction():
            daemon.store.meta.set_matched_with(watch_hash(engine.config))
        log.info("rematch: done: %d items in %.1fs; %d items changed, %d flags added, %d removed", p.done,
                 p.seconds, p.changed, p.added, p.removed,
                 extra={"rematch": {"items": p.done, "changed": p.changed, "added": p.added, "removed": p.removed,
                                    "seconds": round(p.seconds, 3)}})
        return True

    def _newer_edit(self) -> bool:
        """A newer save of the file (looked at once a second at most) cuts a running re-match short."""
        now = time.monotonic()
        if now - self._last_check < WATCH_POLL:
            return False
        self._last_check = now
        return self._signature() != self._seen
