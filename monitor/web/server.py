"""Serving the pages: uvicorn in the foreground (`monitor serve`) or in a thread beside the daemon
(`monitor run --serve`).

Why a thread and not a second process: the daemon is one service for systemd (one unit, one SIGTERM, one log),
and the pages only read the database (the triage marks are their one write, through their own connection, so
the daemon's writer lock is not involved: SQLite's busy timeout orders the two). uvicorn's Server installs no
signal handlers outside the main thread; the daemon keeps SIGTERM and tells the server to exit after its own
clean stop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("monitor.web")
STOP_WAIT = 2.0  # seconds a stop waits for requests in flight


def prepare(config: Any) -> None:
    """Bring an existing database up to this version's schema once, before the read-only pages open it: they
    never migrate, and the lists rely on m013's index. No database yet: nothing to do (the pages say so)."""
    from monitor.store import Store, exists

    if exists(config.database):
        Store.open(config.database).close()


def uvicorn_config(config: Any, host: str, port: int, password_hash: str | None) -> Any:
    import uvicorn

    from monitor.web import create_app

    return uvicorn.Config(create_app(config, password_hash), host=host, port=port, log_level="warning",
                          server_header=False, lifespan="off")


def serve(config: Any, host: str, port: int, password_hash: str | None) -> None:
    """`monitor serve`: in the foreground until Ctrl-C or SIGTERM (uvicorn's own handlers)."""
    import uvicorn

    prepare(config)
    uvicorn.Server(uvicorn_config(config, host, port, password_hash)).run()


class WebThread:
    """The pages in a thread of the daemon's process: start(), then stop() after the daemon stopped."""

    def __init__(self, config: Any, host: str, port: int, password_hash: str | None) -> None:
        import uvicorn

        self.where = f"http://{host}:{port}/"
        self.server = uvicorn.Server(uvicorn_config(config, host, port, password_hash))
        self.thread = threading.Thread(target=self._run, name="monitor-web", daemon=True)
        self.failed: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # a port in use makes uvicorn exit: the daemon logs it and polls on
            self.failed = exc
        if not self.server.started:
            log.error("the web page could not be served on %s (is the port in use?)", self.where)

    def start(self, wait: float = 10.0) -> bool:
        """Start serving; True once the socket listens (within `wait` seconds)."""
        self.thread.start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and self.thread.is_alive() and not self.server.started:
            time.sleep(0.05)
        if self.server.started:
            log.info("serving the web page on %s", self.where)
        return bool(self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=STOP_WAIT)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=STOP_WAIT)


__all__ = ["WebThread", "prepare", "serve"]
