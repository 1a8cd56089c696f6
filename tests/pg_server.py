"""A real PostgreSQL 15 for the tests: a cluster made by initdb in a temporary folder, started by pg_ctl, reached on
a unix socket only (listen_addresses = ''), stopped and removed at the end.

Why not a mock or a shared server: the PostgreSQL store's whole point is behaviour only the real server has
(row locks, SKIP LOCKED, advisory locks, READ COMMITTED visibility). initdb refuses to run as root, so when the
tests run as root the server runs as the unprivileged `postgres` user (runuser), in a folder it owns.

$MONITOR_TEST_PG_URL, when set, names a server to use instead (a database per test is created on it).
`find_bin()` says where initdb and pg_ctl are: Debian keeps them in /usr/lib/postgresql/<version>/bin, not PATH.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest Debian version folder, else PATH), or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PgServer:
    """One throwaway cluster. `url(db)` is a libpq URL for a database on it; `create_db()` makes a fresh one."""

    def __init__(self, durable: bool = False) -> None:
        """`durable`: PostgreSQL's own settings (fsync on), for benchmarks; tests turn durability off."""
        self.bin = find_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL not found (no initdb in /usr/lib/postgresql/*/bin or on PATH):"
                               " apt-get install postgresql-15")
        self.root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
        self.data, self.socket = self.root / "data", self.root / "sock"
        self.socket.mkdir()
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to the postgres user
            user = pwd.getpwnam("postgres")
            os.chmod(self.root, 0o755)
            for path in (self.root, self.socket):
                os.chown(path, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
                  "--locale=C.UTF-8")
        # Test settings: durability off (a crash of the test machine loses a throwaway database), socket only.
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"listen_addresses = ''\nunix_socket_directories = '{self.socket}'\nmax_connections = 200\n")
            if not durable:
                conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 64MB\n")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run([*self._as, str(self.bin / tool), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            log = (self.root / "log").read_text(errors="replace")[-2000:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}\n{log}")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@/{db}?host={self.socket}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def create_db(admin_url: str) -> str:
    """A new empty database on the server of `admin_url`; its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = admin_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


__all__ = ["PgServer", "create_db", "find_bin"]
