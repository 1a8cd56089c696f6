"""The command line: the only code that prints and picks exit codes. One module per group of commands.

Exit codes: 0 done (a poll whose feeds failed still ran: failures are recorded on each feed); 1 a fatal error
(the database cannot be opened or written); 2 bad input (config.yaml invalid, a bad option value).

Heavy imports (hazm, feedparser, httpx) happen inside the commands that poll, so `items`, `report` and `feeds`
start fast.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import os
import sys
from typing import Any, Callable

import click

from monitor.errors import ConfigError, MonitorError, StoreError, UsageError

DEFAULT_CONFIG = "config.yaml"
FORMATS = ("table", "json", "csv")


# ------------------------------------------------------------------------------------------ shared options
def config_option(func: Callable) -> Callable:
    return click.option("--config", "-c", "config_path", default=lambda: os.environ.get("MONITOR_CONFIG",
                        DEFAULT_CONFIG), show_default="config.yaml, or $MONITOR_CONFIG",
                        type=click.Path(dir_okay=False), help="The config file.")(func)


def handle_errors(func: Callable) -> Callable:
    """Turn the monitor's errors into a one-line message and the documented exit code, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, UsageError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except StoreError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except MonitorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def read_config(config_path: str):
    from monitor.config import load_config

    return load_config(config_path)


def since_option_value(value: str | None) -> str | None:
    if not value:
        return None
    from monitor.dates import parse_when, to_iso

    try:
        return to_iso(parse_when(value))
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def open_readonly(config) -> Any:
    if "monitor.store" not in sys.modules and "numpy" not in sys.modules:
        # sqlite_utils imports numpy when it is installed (hazm brings it) only to map numpy values on insert:
        # about 0.2 s that a read-only command never uses. Hide it for that one import, then let it be.
        sys.modules["numpy"] = None  # type: ignore[assignment]
        try:
            import monitor.store  # noqa: F401
        finally:
            if sys.modules.get("numpy", 0) is None:
                del sys.modules["numpy"]
    from monitor.store import Store

    if not os.path.exists(config.database):
        return None
    return Store.open(config.database, readonly=True)


def console():
    from rich.console import Console

    return Console(soft_wrap=False)


def setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries' chatter (one line per HTTP request, hazm's gensim warm-up) only at -vv.
    for noisy in ("httpx", "httpcore", "gensim", "hazm"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


# ------------------------------------------------------------------------------------------ the group
@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="persian-news-monitor")
def main() -> None:
    """Persian news monitor: polls the feeds in config.yaml, recognises articles already known however they
    are spelled, flags new items that mention watched parties and figures, and keeps everything in SQLite.

    \b
    Example:
        monitor demo                  # offline: serve the fixture feeds, poll them, print the report
        monitor poll && monitor report --since 24h
    """


def emit_items(rows: list[dict], fmt: str, *, key: str, title: str, output: str | None = None,
                table_kind: str = "items") -> None:
    from monitor import report

    if fmt == "json":
        deliver(report.to_json(rows, key=key) + "\n", output)
    elif fmt == "csv":
        deliver(report.to_csv(rows), output)
    else:
        deliver(report.items_table(rows, title) if table_kind == "items" else report.report_table(rows, title),
                output)


def deliver(result: Any, output: str | None) -> None:
    """Text or a rich renderable to stdout, or to `output` (owner-only, written atomically; tables as plain text)."""
    if output:
        from monitor.files import write_private
        from monitor.report import render_text

        write_private(output, result if isinstance(result, str) else render_text(result))
    elif isinstance(result, str):
        click.echo(result, nl=False)
    else:
        console().print(result)




# Register the commands: each module adds its commands to `main` when imported.
COMMAND_MODULES = ("poll", "read", "report", "daemon", "rematch")
for _name in COMMAND_MODULES:
    if importlib.util.find_spec(f"monitor.cli.{_name}") is not None:
        importlib.import_module(f"monitor.cli.{_name}")
