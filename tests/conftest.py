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
