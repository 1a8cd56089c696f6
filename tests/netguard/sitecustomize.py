"""Loopback only, enforced: every Python process the tests start (the CLI, the daemon, its workers) gets this
audit hook through PYTHONPATH (tests/conftest.py sets it), and the test process installs it too.

A connection or name lookup for anything but 127.0.0.0/8, ::1 or localhost is refused on the spot (OSError, as
an unreachable network is) and written to the file $MONITOR_TEST_NETLOG; the tests' autouse fixture fails the
test during which a line was written. Why: the project's rule is that tests talk to loopback only, and a
fixture feed whose items link to a real outlet would otherwise make a poll try the outlet's article page, which
waits for a network that is closed here, or worse, reaches one that is not."""

from __future__ import annotations

import ipaddress
import os
import sys


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # a unix socket path (bytes or str without a port tuple is handled by the caller)
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str, host: str) -> None:
    log = os.environ.get("MONITOR_TEST_NETLOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{what} {host} from {' '.join(sys.argv)[:300]}\n")
    raise OSError(101, f"tests are loopback only: {what} {host} refused")


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address and not _loopback(address[0]):
            _refuse("connect", str(address[0]))
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is not None and not _loopback(host):
            _refuse("lookup", str(host))


sys.addaudithook(_hook)
