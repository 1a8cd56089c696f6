"""Shared test helpers: paths, a feed server on 127.0.0.1, and running the real CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SEEDS = FIXTURES / "seeds"
FEEDS = FIXTURES / "feeds"
SHARED = REPO.parent / "shared"

# Loopback only, for this process and every process it starts (see tests/netguard/sitecustomize.py): a line in
# this worker's log during a test fails that test (guard_loopback below).
NETGUARD = Path(__file__).resolve().parent / "netguard"
NETLOG = Path(os.environ.get("TMPDIR", "/tmp")) / f"monitor-netlog-{os.getpid()}.txt"  # one per test process
os.environ["MONITOR_TEST_NETLOG"] = str(NETLOG)  # what this process's children write to
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(NETGUARD), os.environ.get("PYTHONPATH")) if p)
sys.path.insert(0, str(NETGUARD))
import sitecustomize as _netguard  # noqa: E402,F401 - installs the hook in this process too (the module is ours)


@pytest.fixture(autouse=True)
def guard_loopback():
    """Fails the test during which any process tried to reach beyond loopback (the lines say who and where)."""
    before = NETLOG.stat().st_size if NETLOG.exists() else 0
    yield
    if NETLOG.exists() and NETLOG.stat().st_size > before:
        with NETLOG.open(encoding="utf-8") as log:
            log.seek(before)
            pytest.fail("tried to reach beyond loopback:\n" + log.read()[:2000], pytrace=False)


def run_cli(*args: str, input: str | None = None, timeout: float = 120, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    """`python -m monitor ARGS` in a subprocess, as a user would run it."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True,
                          input=input, timeout=timeout, env=full_env, cwd=REPO)


def run_json(*args: str) -> dict:
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def feed_server():
    from monitor.feedserver import FeedServer

    with FeedServer(FEEDS) as server:
        yield server


class LoopbackServer:
    """A test's own HTTP handler class served on 127.0.0.1 from a thread: what the tests' special servers
    (counting, conditional, corpus replay) share. `url(path)` names a path on it; `close()` stops it."""

    def __init__(self, handler: type) -> None:
        import threading
        from http.server import ThreadingHTTPServer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str | int) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------------------- PostgreSQL (tests/pg_server.py)
@pytest.fixture(scope="session")
def pg_admin_url():
    """A real PostgreSQL for this test process: $MONITOR_TEST_PG_URL, else a throwaway cluster (initdb, pg_ctl)
    stopped at the end. Without PostgreSQL the tests that need it skip, except in CI (CI=true), where they fail:
    the PostgreSQL store must be tested there."""
    given = os.environ.get("MONITOR_TEST_PG_URL")
    if given:
        yield given
        return
    from pg_server import PgServer, find_bin

    if find_bin() is None:
        reason = "PostgreSQL not installed (no initdb in /usr/lib/postgresql/*/bin): apt-get install postgresql-15"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    server = PgServer()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_admin_url):
    """A fresh, empty database on the tests' PostgreSQL (one per test: nothing leaks between tests)."""
    from pg_server import create_db

    return create_db(pg_admin_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request):
    """Which store an end-to-end test runs against: a test taking it runs once on each."""
    return request.param


@pytest.fixture
def database(store_kind, tmp_path, request):
    """The `database:` value of the test's config for `store_kind`: a SQLite file, or a fresh PostgreSQL URL."""
    if store_kind == "sqlite":
        return str(tmp_path / "monitor.db")
    return request.getfixturevalue("pg_url")
