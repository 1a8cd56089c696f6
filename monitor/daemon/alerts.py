"""The daemon's sender thread: drains the alert outbox after each stored feed, while polling goes on.

The writer wakes it after every stored reply, and it looks once a second anyway (a backoff ending, quiet hours
ending, a digest period ending). It shares the daemon's store under the writer lock, held only to read a batch
of rows or mark one sent (monitor.notify.sender), so a slow or hanging service never holds up a poll, and each
destination sends from a thread of its own, so it never holds up another destination either. Nothing
is started when the config has no `notify:` destination; one added by a live edit starts it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.daemon.service import Daemon

log = logging.getLogger("monitor.notify")
TICK = 1.0  # seconds between looks when nothing woke it


class AlertThread:
    def __init__(self, daemon: "Daemon") -> None:
        self.daemon = daemon
        self.sender = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread when the config has destinations (again after a live edit adds the first one)."""
        if self._thread is not None or not self.daemon.config.notify:
            return
        from monitor.notify.sender import Sender

        daemon = self.daemon
        self.sender = Sender(daemon.store, daemon.config, lock=daemon.lock, stopping=daemon.stopping.is_set)
        self._thread = threading.Thread(target=self._loop, name="monitor-alerts", daemon=True)
        self._thread.start()
        from monitor.notify.service import shown_url  # Apprise's privacy form: a token written in the URL masked

        log.info("notify: sending to %s", ", ".join(f"{s.name} ({shown_url(s)})" for s in daemon.config.notify))

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        if self.sender is not None:
            self.sender.close()

    def reconfigure(self) -> None:
        if self.sender is not None:
            self.sender.reconfigure(self.daemon.config)
        self.start()
        self.wake()

    def _loop(self) -> None:
        from monitor.daemon.writerlock import Stopped

        daemon = self.daemon
        while not daemon.stopping.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            if daemon.stopping.is_set():
                return
            try:
                if not daemon.leads():
                    continue  # another worker holds the monitor-wide lock and sends (one sender per outbox)
                self.sender.drain(wait_all=False)  # each destination in its own thread; each send is logged
            except Stopped:
                return
            except MonitorError as exc:  # the database locked or full: the rows stay pending, tried again
                log.error("notify: %s", exc)
            except Exception:  # the sender must outlive any one alert
                log.exception("notify: unexpected error in the sender")
