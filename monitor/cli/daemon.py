"""`monitor run` (the service) and `monitor status` (is it running, and how is it doing).

`status` imports neither the pipeline nor hazm: it reads the lock file and the database only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import click

from monitor.cli import open_readonly, config_option, handle_errors, main
from monitor.cli.read import config_for_database
from monitor.report.view import clean


class JSONFormatter(logging.Formatter):
    """One JSON object per line, for journald and log shippers; extra structured fields ride along."""

    EXTRAS = ("summary", "rematch", "config_error")

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for key in self.EXTRAS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_daemon_logging(fmt: str, verbose: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter: logging.Formatter = JSONFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "gensim", "hazm", "apscheduler", "apprise"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


@main.command()
@config_option
@click.option("--log-format", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Log lines on stderr: readable text, or one JSON object per line (journald, log shippers).")
@click.option("-v", "--verbose", count=True, help="Debug output (-vv: also HTTP and the scheduler).")
@click.option("--serve", "serve_web", is_flag=True,
              help="Also serve the web page (as `monitor serve`, on serve.host and serve.port) in this process.")
@handle_errors
def run(config_path: str, log_format: str, verbose: int, serve_web: bool) -> None:
    """Run as a service: poll every feed on its schedule until stopped (SIGTERM or Ctrl-C: exit 0).

    Edits of the config file take effect within seconds (SIGHUP reloads too); an invalid edit is logged and
    the running config kept. A changed watch list re-matches the stored items. One daemon per database: a
    second one exits 1 naming the running pid.

    \b
    Example:
        monitor run --config /etc/monitor/config.yaml --log-format json
        monitor run --serve                  # and the web page on http://127.0.0.1:8080/
    """
    setup_daemon_logging(log_format, verbose)
    from monitor.daemon.service import Daemon
    from monitor.malloc import limit_arenas

    limit_arenas()  # before any thread starts (monitor/malloc.py says why)

    daemon = Daemon(config_path)
    web = None
    if serve_web:
        from monitor.web import auth
        from monitor.web.server import WebThread

        serve = daemon.config.serve
        password_hash = auth.check_bind(serve.host, serve.password_file)  # refuses before anything starts
        web = WebThread(daemon.config, serve.host, serve.port, password_hash)
    try:
        # The daemon's start() migrates the database; the pages come up once it is open (after its lock).
        if web is not None:
            daemon.on_started.append(web.start)
        daemon.run()
    finally:
        if web is not None:
            web.stop()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads still waiting on a slow server must not hold the exit past systemd's stop timeout: everything
    # committed is committed, and the store and lock file are closed.
    os._exit(0)


@main.command()
@config_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@handle_errors
def status(config_path: str, fmt: str) -> None:
    """Is the daemon running (pid, since), its last cycle, feeds ok and failing, items new and flagged today.

    "Today" is since midnight in Tehran, and items are dated as `monitor report` dates them: by published time
    (fetched time for an item whose feed gives none), so `monitor report --since today` lists the same items.
    An invalid config.yaml is reported as a warning and the database it names is still read (a running daemon
    keeps its last valid config meanwhile).

    \b
    Example:
        monitor status --format json
    """
    from monitor.dates import now_utc, to_iso
    from monitor.daemon.lock import running_daemon

    config = config_for_database(config_path)
    holder = running_daemon(config.database)
    store = open_readonly(config)
    today = _tehran_midnight(now_utc())
    from monitor.store.pg import shown

    data: dict = {"running": holder is not None, "pid": (holder or {}).get("pid"),
                  "since": (holder or {}).get("started"), "database": shown(config.database), "last_cycle": None,
                  "today": {"since": today.isoformat(), "by": "published"}}
    if store is not None:
        if store.claims is not None:  # PostgreSQL: the workers holding feeds now, by name (host:pid)
            held: dict[str, int] = {}
            for owner, _ in store.claims.holders().values():
                held[owner] = held.get(owner, 0) + 1
            data["workers"] = held
        last = store.meta.get("daemon.last_cycle")
        data["last_cycle"] = json.loads(last) if last else None
        data.update(store.items.daemon_counts(to_iso(today)))
        data["notify"] = store.outbox.summary() if store.outbox.available() else []
        store.close()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    if "workers" in data:  # PostgreSQL: several workers share the database; no lock file says who runs
        click.echo("workers holding feeds now: " + (", ".join(f"{w} ({n})" for w, n in sorted(data["workers"].items()))
                                                   or "none"))
    else:
        click.echo(f"daemon: running, pid {data['pid']}, since {data['since']}" if data["running"]
                   else "daemon: not running")
    click.echo(f"database: {data['database']}")
    if store is None:
        click.echo("no database yet")
        return
    cycle = data["last_cycle"]
    click.echo(f"last cycle: {cycle['at']}: {cycle['summary']}" if cycle else "last cycle: none yet")
    click.echo(f"feeds: {data['feeds_ok']} ok, {data['feeds_failing']} failing, "
               f"{data['feeds_never_polled']} not polled yet (details: monitor feeds)")
    click.echo(f"today (since 00:00 Tehran, by published time): {data['new_today']} new items, "
               f"{data['flagged_today']} flagged")
    for d in data["notify"]:  # alert destinations: names only, never a URL (it may hold a token)
        state = "failing" if d["retrying"] or (d["failed"] and not d["sent"]) else "ok"
        line = f"notify {d['destination']}: {state}, {d['pending']} pending, {d['sent']} sent, {d['failed']} failed"
        if state == "failing" and d["last_error"]:
            line += f"; last answer: {d['last_error']}"
        click.echo(clean(line))


def _tehran_midnight(now):
    from monitor.dates import parse_when

    return parse_when("today", now)
